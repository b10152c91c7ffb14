"""The federated catalog: live fan-out searches, the cache, and what keeps the cache fresh.

``Catalog`` answers ``/v1/models``, ``/v1/versions``, ``mrg models ls`` and the lineage
walker's "who points at this version" question. Live answers fan out to every registry under
a deadline (``fanout``); cached answers read the store and say how old they are. A registry
the cache has never copied is always asked live, so enabling the cache never hides anything.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.base import RegistryAdapter
from gateway.catalog.cache import CatalogCache, Freshness
from gateway.catalog.config import CatalogConfig, catalog_config
from gateway.catalog.fanout import DeadlineExceeded, FanOut, RegistryFailure, call_before, fan_out
from gateway.catalog.paging import model_key, paginate, version_key
from gateway.catalog.query import CatalogQuery, model_matches, pushdown, version_matches
from mapping.errors import NotFound
from mapping.schema import Model, ModelVersion, MrgUri

log = logging.getLogger("mrg.catalog")
TRUNCATED = "truncated"
Visible = Callable[[str, str], bool]
STALE = "stale"


@dataclass
class CatalogPage:
    """One page of a catalog answer. ``failures`` lists each registry missing from it and why."""

    items: list[Any]
    failures: list[RegistryFailure] = field(default_factory=list)
    next_cursor: str | None = None
    cached_at: datetime | None = None

    @property
    def partial(self) -> bool:
        return bool(self.failures)

    @property
    def age_seconds(self) -> float | None:
        if self.cached_at is None:
            return None
        return round(max(0.0, (datetime.now(UTC) - _aware(self.cached_at)).total_seconds()), 3)


@dataclass
class _Scan:
    """Everything gathered from the registries (before paging)."""

    items: list[Any]
    failures: list[RegistryFailure]
    cached_at: datetime | None = None


class Catalog:
    def __init__(self, gateway: Any, config: CatalogConfig) -> None:
        self.gateway = gateway
        self.config = config
        self.cache: CatalogCache | None = CatalogCache(gateway.store) if config.cache.enabled else None
        self._refresher: Refresher | None = None
        self._writes_lock = threading.Lock()
        self._scans: dict[str, int] = {}
        self._written_during_scan: dict[str, set[str]] = {}
        if self.cache is not None:
            self._refresher = Refresher(self, config.cache.refresh_seconds)
            gateway.listeners.append(self._refresher.on_mutation)

    def start_refreshing(self) -> None:
        """Start the background refresher (servers; a one-shot CLI command only reads the cache)."""
        if self._refresher is not None:
            self._refresher.start()

    def close(self) -> None:
        if self._refresher is not None:
            self._refresher.stop()

    # -- searches -----------------------------------------------------------------------------
    def search_models(self, query: CatalogQuery, *, limit: int = 100, cursor: str | None = None,
                      deadline: float | None = None, fresh: bool = False, visible: Visible | None = None) -> CatalogPage:
        """Models by name then registry; ``visible(registry, model)`` drops what the caller may not read."""
        scan = self._scan(query, deadline, fresh, versions=False)
        if visible is not None:
            scan.items = [m for m in scan.items if visible(m.registry, m.name)]
        window = paginate(scan.items, model_key, limit, cursor, query.fingerprint())
        return CatalogPage(window.items, scan.failures, window.next_cursor, scan.cached_at)

    def search_versions(self, query: CatalogQuery, *, limit: int = 100, cursor: str | None = None,
                        deadline: float | None = None, fresh: bool = False, visible: Visible | None = None) -> CatalogPage:
        """Versions by model, registry, then creation order; ``visible`` as for models."""
        scan = self._scan(query, deadline, fresh, versions=True)
        if visible is not None:
            scan.items = [v for v in scan.items if visible(v.registry, v.model)]
        window = paginate(scan.items, version_key, limit, cursor, query.fingerprint())
        return CatalogPage(window.items, scan.failures, window.next_cursor, scan.cached_at)

    def registries_for(self, query: CatalogQuery) -> list[str]:
        """The registries a query covers; naming an unknown one is the caller's error (404)."""
        if query.registries is None:
            return self.gateway.registry_names()
        for name in query.registries:
            self.gateway.handle(name)
        return sorted(set(query.registries))

    def _scan(self, query: CatalogQuery, deadline: float | None, fresh: bool, *, versions: bool) -> _Scan:
        """Cached registries answer from the store; the others (or all, with ``fresh``) live."""
        names = self.registries_for(query)
        deadline = deadline or self.config.deadline_seconds
        cached: list[str] = []
        freshness: dict[str, Freshness] = {}
        if self.cache is not None and not fresh and names:
            freshness = self.cache.freshness()
            cached = [n for n in names if n in freshness and freshness[n].refreshed_at is not None]
        live = [n for n in names if n not in cached]
        work = self._versions_of if versions else self._models_of
        scan = _merge(fan_out(self.gateway, live, lambda name, at: work(name, query, at), deadline),
                      versions=versions, query=query)
        if cached:
            from_cache = self._from_cache(query, cached, freshness, versions=versions)
            scan = _Scan(scan.items + from_cache.items, sorted(scan.failures + from_cache.failures,
                                                               key=lambda f: f.registry), from_cache.cached_at)
        return scan

    def _from_cache(self, query: CatalogQuery, names: list[str], freshness: dict[str, Freshness],
                    *, versions: bool) -> _Scan:
        assert self.cache is not None
        if versions:
            items: list[Any] = [v for v in self.cache.versions(names, query.name_prefix) if version_matches(v, query)]
        else:
            items = [m for m in self.cache.models(names, query.name_prefix) if model_matches(m, query)]
        failures = [
            RegistryFailure(n, STALE, f"the last refresh failed ({f.error}); answering from the copy of "
                                      f"{_aware(f.refreshed_at).isoformat()}")  # type: ignore[arg-type]
            for n in names if (f := freshness[n]).error
        ]
        oldest = min(_aware(freshness[n].refreshed_at) for n in names)  # type: ignore[arg-type]
        return _Scan(items, failures, cached_at=oldest)

    # -- one registry, live -------------------------------------------------------------------
    def _models_of(self, registry: str, query: CatalogQuery, deadline_at: float) -> tuple[list[Model], bool]:
        filters = self.gateway.adapter(registry).capabilities().search_filters
        return self._list_models(registry, pushdown(query, filters), deadline_at)

    def _list_models(self, registry: str, pushed: Any, deadline_at: float) -> tuple[list[Model], bool]:
        """Up to ``max_models_per_registry`` models; the flag says whether there were more."""
        bound = self.config.max_models_per_registry

        def run(adapter: RegistryAdapter) -> tuple[list[Model], bool]:
            out: list[Model] = []
            for model in adapter.iter_models(pushed):
                if len(out) >= bound:
                    return out, True
                out.append(model)
            return out, False

        return call_before(self.gateway, registry, run, deadline_at)

    def _versions_of(self, registry: str, query: CatalogQuery, deadline_at: float) -> tuple[list[ModelVersion], bool]:
        """Every model's versions (N+1 calls: the cache exists for large registries).

        With an alias filter only the aliased version of each model is read.
        """
        filters = self.gateway.adapter(registry).capabilities().search_filters
        models, truncated = self._list_models(registry, pushdown(query, filters, versions=True), deadline_at)
        bound = self.config.max_versions_per_registry
        out: list[ModelVersion] = []
        for model in models:
            if query.name_prefix and not model.name.startswith(query.name_prefix):
                continue
            if time.monotonic() >= deadline_at:
                raise DeadlineExceeded(f"read the versions of {len(out)} models before the deadline", registry=registry)
            if query.alias is not None:
                target = model.aliases.get(query.alias)
                if target is None:
                    continue
                out.append(call_before(self.gateway, registry, lambda a, m=model.name, v=target: a.get_version(m, v),
                                       deadline_at))
            else:
                out.extend(call_before(self.gateway, registry, lambda a, m=model.name: list(a.iter_versions(m)),
                                       deadline_at))
            if len(out) >= bound:
                return out[:bound], True
        return out, truncated

    # -- one registry, full copy (the refresher) ----------------------------------------------
    def snapshot(self, registry: str, deadline_at: float) -> tuple[list[Model], list[ModelVersion]]:
        models, truncated = self._list_models(registry, None, deadline_at)
        versions: list[ModelVersion] = []
        for model in models:
            versions.extend(call_before(self.gateway, registry, lambda a, m=model.name: list(a.iter_versions(m)),
                                        deadline_at))
        if truncated:
            log.warning("catalog cache: %s has more than %d models; caching the first ones", registry,
                        self.config.max_models_per_registry)
        return models, versions

    def refresh(self, registries: Iterable[str] | None = None, timeout: float = 600.0) -> list[RegistryFailure]:
        """Copy each registry into the cache now; returns the registries that could not be copied."""
        if self.cache is None:
            return []
        cache = self.cache
        names = list(registries) if registries is not None else self.gateway.registry_names()
        with self._writes_lock:
            for name in names:
                self._written_during_scan.setdefault(name, set())
                self._scans[name] = self._scans.get(name, 0) + 1
        try:
            result = fan_out(self.gateway, names, self.snapshot, timeout)
            for name, (models, versions) in result.results.items():
                cache.replace_registry(name, [_bare(m) for m in models], [_bare(v) for v in versions])
                self._reread_written(name)
            for failure in result.failures:
                cache.record_failure(failure.registry, f"{failure.kind}: {failure.message}")
        finally:
            with self._writes_lock:
                for name in names:
                    self._scans[name] -= 1
                    if not self._scans[name]:
                        del self._scans[name]
                        self._written_during_scan.pop(name, None)
        return result.failures

    def note_write(self, registry: str, model: str) -> None:
        """A write through the gateway: remembered if a scan of that registry is under way."""
        with self._writes_lock:
            if registry in self._scans:
                self._written_during_scan[registry].add(model)

    def _reread_written(self, registry: str, rounds: int = 3) -> None:
        """A snapshot read before a write must not undo it: re-read the models written meanwhile."""
        for _ in range(rounds):
            with self._writes_lock:
                written, self._written_during_scan[registry] = self._written_during_scan[registry], set()
            if not written:
                return
            for model in sorted(written):
                self.refresh_model(registry, model)

    def refresh_model(self, registry: str, model: str) -> None:
        """Re-read one model and its versions into the cache (after a write through the gateway)."""
        if self.cache is None:
            return
        deadline_at = time.monotonic() + self.config.deadline_seconds
        try:
            current = call_before(self.gateway, registry, lambda a: a.get_model(model), deadline_at)
        except NotFound:
            self.cache.delete_model(registry, model)
            return
        versions = call_before(self.gateway, registry, lambda a: list(a.iter_versions(model)), deadline_at)
        self.cache.put_model(_bare(current), [_bare(v) for v in versions])


class Refresher:
    """Background thread: full refresh on a schedule, model re-reads after gateway writes.

    Holds the catalog weakly, so a gateway dropped without ``close()`` does not keep a thread.
    """

    def __init__(self, catalog: Catalog, interval: float) -> None:
        self._catalog = weakref.ref(catalog)
        self._interval = interval
        self._stop = threading.Event()
        self._touched: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="mrg-catalog-refresh", daemon=True)
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if not self._thread.is_alive() and not self._stop.is_set():
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._touched.put(None)

    def on_mutation(self, change: Any) -> None:
        """Gateway listener: apply the write's result to the cache now, re-read the model later."""
        catalog = self._catalog()
        if catalog is None or catalog.cache is None:
            return
        try:
            touched = apply_mutation(catalog.cache, change)
        except Exception:  # noqa: BLE001 - a cache problem must never fail a write that succeeded
            log.exception("catalog cache: could not apply %s on %s", change.action, change.target)
            touched = _touched_model(change)
        if touched is None:
            return
        catalog.note_write(*touched)
        if self._thread.is_alive():
            self._touched.put(touched)

    def _loop(self) -> None:
        next_full = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() >= next_full:
                self._with_catalog(lambda c: c.refresh())
                next_full = time.monotonic() + self._interval
            try:
                item = self._touched.get(timeout=max(0.0, next_full - time.monotonic()))
            except queue.Empty:
                continue
            if item is not None:
                self._with_catalog(lambda c, item=item: c.refresh_model(*item))

    def _with_catalog(self, fn: Callable[[Catalog], Any]) -> None:
        catalog = self._catalog()
        if catalog is None:
            self._stop.set()
            return
        try:
            fn(catalog)
        except Exception:  # noqa: BLE001 - the next round tries again; searches fall back to live
            log.exception("catalog cache: refresh failed")
        finally:
            del catalog


def apply_mutation(cache: CatalogCache, change: Any) -> tuple[str, str] | None:
    """Write a mutation's ``after`` snapshot into the cache; returns the (registry, model) touched."""
    after = change.after
    if isinstance(after, dict) and "version" in after and "ordinal" in after:
        version = ModelVersion.model_validate(after)
        cache.put_version(version)
        return version.registry, version.model
    if isinstance(after, dict) and "name" in after and "registry" in after:
        model = Model.model_validate(after)
        cache.put_model(model)
        return model.registry, model.name
    target = _touched_uri(change)
    if target is None:
        return None
    if change.action.endswith(".delete") and target.version is not None:
        cache.delete_version(target.registry, target.model, target.version)
    elif change.action == "model.delete":
        cache.delete_model(target.registry, target.model)
    return target.registry, target.model


def _touched_uri(change: Any) -> MrgUri | None:
    try:
        return MrgUri.parse((change.target or "").split("@", 1)[0])
    except ValueError:
        return None


def _touched_model(change: Any) -> tuple[str, str] | None:
    uri = _touched_uri(change)
    return (uri.registry, uri.model) if uri is not None else None


def _merge(result: FanOut, *, versions: bool, query: CatalogQuery) -> _Scan:
    items: list[Any] = []
    failures = list(result.failures)
    matches: Callable[[Any, CatalogQuery], bool] = version_matches if versions else model_matches  # type: ignore[assignment]
    for name, (found, truncated) in sorted(result.results.items()):
        items.extend(_bare(item) for item in found if matches(item, query))
        if truncated:
            failures.append(RegistryFailure(name, TRUNCATED, "more objects than the catalog reads from one registry "
                                                            "per search; narrow the search or enable the cache"))
    failures.sort(key=lambda f: f.registry)
    return _Scan(items, failures)


def _bare(obj: Any) -> Any:
    """Catalog answers leave out ``native`` payloads (the registry routes return them)."""
    return obj.model_copy(update={"native": None}) if getattr(obj, "native", None) is not None else obj


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_catalogs_lock = threading.Lock()
_ATTRIBUTE = "_mrg_catalog"


def catalog_for(gateway: Any, config: CatalogConfig | None = None) -> Catalog:
    """The gateway's catalog, created on first use (``config`` applies only then).

    Kept on the gateway object itself, so it lives and dies with that gateway.
    """
    with _catalogs_lock:
        existing = vars(gateway).get(_ATTRIBUTE)
        if existing is None:
            existing = Catalog(gateway, config or catalog_config(gateway.config))
            vars(gateway)[_ATTRIBUTE] = existing
        return existing  # type: ignore[no-any-return]
