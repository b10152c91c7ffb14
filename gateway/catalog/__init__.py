"""The federated catalog: fan-out search over every registry, merge, paging, and the cache."""

from gateway.catalog.config import CacheConfig, CatalogConfig
from gateway.catalog.query import CatalogQuery
from gateway.catalog.service import Catalog, CatalogPage, catalog_for

__all__ = ["CacheConfig", "Catalog", "CatalogConfig", "CatalogPage", "CatalogQuery", "catalog_for"]
