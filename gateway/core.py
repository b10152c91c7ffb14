"""The gateway's orchestration core, shared by the REST API and the CLI.

Holds the configured registries (adapters created on first use, so an unused cloud SDK is
never imported), bounds concurrent calls per registry, applies retries and rate limits, and
records every mutation in the audit log. It keeps no other state: replicas share the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.base import RegistryAdapter
from adapters.registry import create_adapter
from adapters.retry import RetryPolicy, TokenBucket, call_with_retry
from gateway.config import GatewayConfig, RegistryConfig
from gateway.store import Store
from mapping.errors import NotFound
from mapping.schema import Model, ModelQuery

T = TypeVar("T")


@dataclass
class RegistryHandle:
    name: str
    config: RegistryConfig
    semaphore: threading.BoundedSemaphore
    bucket: TokenBucket | None
    adapter: RegistryAdapter | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Mutation:
    """What a gateway write changed; handed to listeners (history, events) after it is audited."""

    actor: str
    action: str
    registry: str
    target: str
    before: Any
    after: Any
    request_id: str | None


@dataclass
class SearchResult:
    items: list[Model]
    errors: list[dict[str, Any]]

    @property
    def partial(self) -> bool:
        return bool(self.errors)


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        store: Store | None = None,
        retry: RetryPolicy | None = None,
        adapters: dict[str, RegistryAdapter] | None = None,
    ) -> None:
        """``adapters`` serves already-built adapters under their names (embedding, tests)."""
        self.config = config
        self._store = store
        self._store_lock = threading.Lock()
        self.retry = retry or RetryPolicy(attempts=3)
        self.listeners: list[Callable[[Mutation], None]] = []
        self._handles = {
            name: RegistryHandle(
                name=name,
                config=cfg,
                semaphore=threading.BoundedSemaphore(cfg.max_concurrency),
                bucket=TokenBucket(cfg.rate_per_second) if cfg.rate_per_second else None,
            )
            for name, cfg in config.registries.items()
        }
        for name, adapter in (adapters or {}).items():
            self._handles[name] = RegistryHandle(
                name=name, config=RegistryConfig(kind=adapter.kind), semaphore=threading.BoundedSemaphore(8),
                bucket=None, adapter=adapter,
            )

    # -- state ----------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        with self._store_lock:
            if self._store is None:
                from gateway.events import install_outbox

                self._store = Store(self.config.resolved_database_url())
                install_outbox(self._store)  # every recorded change queues its webhook deliveries
            return self._store

    def registry_names(self) -> list[str]:
        return sorted(self._handles)

    def handle(self, name: str) -> RegistryHandle:
        handle = self._handles.get(name)
        if handle is None:
            raise NotFound(
                f"registry: no registry named {name!r} is configured (configured: {', '.join(self.registry_names()) or 'none'})",
                field="registry",
            )
        return handle

    def adapter(self, name: str) -> RegistryAdapter:
        handle = self.handle(name)
        with handle.lock:
            if handle.adapter is None:
                handle.adapter = create_adapter(name, handle.config.kind.value, handle.config.settings())
            return handle.adapter

    def close(self) -> None:
        for handle in self._handles.values():
            if handle.adapter is not None:
                handle.adapter.close()
        if self._store is not None:
            self._store.close()

    # -- calls ----------------------------------------------------------------------------------
    def call(self, registry: str, fn: Callable[[RegistryAdapter], T]) -> T:
        """Run one adapter call under the registry's concurrency bound, rate limit and retries."""
        handle = self.handle(registry)
        adapter = self.adapter(registry)

        def attempt() -> T:
            if handle.bucket is not None:
                handle.bucket.acquire()
            with handle.semaphore:
                return fn(adapter)

        return call_with_retry(attempt, self.retry)

    def mutate(
        self,
        registry: str,
        fn: Callable[[RegistryAdapter], T],
        *,
        actor: str,
        action: str,
        target: str,
        before: Callable[[RegistryAdapter], Any] | None = None,
        request_id: str | None = None,
    ) -> T:
        """A call that changes a registry: audited with before/after snapshots."""
        prior = _dump(self.call(registry, before)) if before is not None else None
        result = self.call(registry, fn)
        self.record(Mutation(actor=actor, action=action, registry=registry, target=target, before=prior,
                             after=_dump(result), request_id=request_id))
        return result

    def record(self, change: Mutation) -> None:
        """Audit a change, then tell the listeners (history, events, catalog cache)."""
        self.store.record(actor=change.actor, action=change.action, registry=change.registry, target=change.target,
                          before=change.before, after=change.after, request_id=change.request_id)
        for listener in self.listeners:
            listener(change)

    # -- federated reads ----------------------------------------------------------------------
    def search_models(
        self,
        query: ModelQuery,
        registries: Iterable[str] | None = None,
        deadline: float | None = None,
        limit: int = 1000,
    ) -> SearchResult:
        """Every registry's models matching ``query`` (the first ``limit`` by name), asked at once.

        Delegates to the federated catalog (gateway.catalog): a registry that fails or misses
        the deadline (default from the catalog config) costs only its own results.
        """
        from gateway.catalog import CatalogQuery, catalog_for

        wanted = tuple(registries) if registries else None
        catalog_query = CatalogQuery(text=query.text, name_prefix=query.name_prefix, tags=query.tags, registries=wanted)
        page = catalog_for(self).search_models(catalog_query, limit=limit, deadline=deadline)
        return SearchResult(items=page.items, errors=[f.as_dict() for f in page.failures])


def _dump(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude={"native"})
    return value


__all__ = ["Gateway", "Mutation", "SearchResult"]
