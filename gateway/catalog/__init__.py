"""The federated catalog: fan-out search over every registry, merge, paging, and the cache.

Exports resolve lazily, so ``gateway.config`` can import ``gateway.catalog.config`` without
loading the store, the adapters or the fan-out machinery.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CacheConfig": "gateway.catalog.config",
    "CatalogConfig": "gateway.catalog.config",
    "CatalogQuery": "gateway.catalog.query",
    "Catalog": "gateway.catalog.service",
    "CatalogPage": "gateway.catalog.service",
    "catalog_for": "gateway.catalog.service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gateway.catalog' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
