"""Catalog settings: the fan-out deadline, scan bounds and the optional cache.

Read from ``GatewayConfig.catalog`` when the config has that section, else these defaults, so
the catalog works the same whether or not ``mrg.yaml`` mentions it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CacheConfig(BaseModel):
    """A copy of every registry's models and versions in the store, answering in milliseconds.

    Off by default: a live fan-out is always correct, the cache is as fresh as its last refresh
    (on a schedule, and on every write made through the gateway).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    refresh_seconds: float = Field(default=300.0, gt=0)


class CatalogConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How long a search waits for each registry before answering without it (partial: true).
    deadline_seconds: float = Field(default=10.0, gt=0, le=60)
    # Bounds of one registry's scan: a catalog answer never walks an unbounded registry.
    max_models_per_registry: int = Field(default=5000, ge=1)
    max_versions_per_registry: int = Field(default=20000, ge=1)
    cache: CacheConfig = Field(default_factory=CacheConfig)


def catalog_config(gateway_config: Any) -> CatalogConfig:
    """The ``catalog`` section of a GatewayConfig, or the defaults when it has none."""
    value = getattr(gateway_config, "catalog", None)
    if isinstance(value, CatalogConfig):
        return value
    if isinstance(value, dict):
        return CatalogConfig.model_validate(value)
    return CatalogConfig()
