"""Walk lineage across registries: up through parents and migration sources, down to copies.

"Up" reads each version and follows its ``mrg://`` parents and ``migrated_from`` into whatever
configured registry they name. "Down" needs the reverse — who names this version — which no
registry can answer, so it asks the catalog: the cache's indexed lineage references when the
cache holds every registry, else one bounded live scan of all versions per request
(``catalog.max_versions_per_registry`` per registry, under the deadline); a scan cut short
marks the graph ``truncated`` and lists the registries it missed in ``errors``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.catalog import CatalogQuery, catalog_for
from gateway.catalog.cache import canonical_uri, lineage_refs
from gateway.catalog.fanout import call_before, failure
from gateway.lineage.graph import (
    Direction,
    GraphBuilder,
    LineageError,
    LineageGraph,
    mrg_version,
    upstream_refs,
    version_id,
)
from mapping.errors import NotFound, RegistryError
from mapping.schema import ModelVersion, MrgUri

Visible = Callable[[str, str], bool]
MAX_DEPTH = 10


@dataclass
class _Walk:
    gateway: Any
    deadline: float
    deadline_at: float
    visible: Visible
    builder: GraphBuilder = field(default_factory=GraphBuilder)
    errors: list[LineageError] = field(default_factory=list)
    truncated: bool = False
    _children: dict[str, list[tuple[ModelVersion, str]]] | None = None

    # -- up -----------------------------------------------------------------------------------
    def read(self, ref: MrgUri) -> ModelVersion | None:
        """A version another one names; None (and a ``missing`` node) when it cannot be read."""
        if ref.registry not in self.gateway.registry_names():
            self.builder.add_missing(ref, f"registry {ref.registry!r} is not configured in this gateway")
            return None
        if not self.visible(ref.registry, ref.model):
            self.builder.add_missing(ref, "not visible to the caller")
            return None
        try:
            return call_before(self.gateway, ref.registry, lambda a: a.get_version(ref.model, ref.version or ""),
                               self.deadline_at)
        except NotFound:
            self.builder.add_missing(ref, "not found (deleted?)")
        except Exception as exc:  # noqa: BLE001 - one unreadable parent leaves the rest of the graph
            problem = failure(ref.registry, exc, self.deadline)
            self.builder.add_missing(ref, f"{problem.kind}: {problem.message}")
            self.errors.append(LineageError(registry=ref.registry, kind=problem.kind, message=problem.message))
        return None

    def up(self, root: ModelVersion, depth: int) -> None:
        frontier, seen = [root], {_id(root)}
        for _ in range(depth):
            following: list[ModelVersion] = []
            for version in frontier:
                child = _id(version)
                for uri, relation in upstream_refs(version):
                    ref = mrg_version(uri)
                    if ref is None:
                        self.builder.add_edge(self.builder.add_external(uri), child, relation)
                        continue
                    parent = self.read(ref)
                    if parent is None:
                        self.builder.add_edge(version_id(ref.registry, ref.model, ref.version or ""), child, relation)
                        continue
                    pid = self.builder.add_version(parent)
                    self.builder.add_edge(pid, child, relation)
                    if pid not in seen:
                        seen.add(pid)
                        following.append(parent)
            frontier = following

    # -- down ---------------------------------------------------------------------------------
    def children(self, version_uri: str) -> list[tuple[ModelVersion, str]]:
        cache = self._complete_cache()
        if cache is not None:  # indexed lookup: no scan at all
            found = [(cache.version(r.registry, r.model, r.version), r.relation) for r in cache.referrers(version_uri)]
            return [(v, relation) for v, relation in found if v is not None]
        if self._children is None:
            self._children = self._index()
        return self._children.get(canonical_uri(version_uri), [])

    def _complete_cache(self) -> Any:
        """The catalog cache, when it holds a copy of every configured registry."""
        cache = catalog_for(self.gateway).cache
        if cache is None:
            return None
        freshness = cache.freshness()
        names = self.gateway.registry_names()
        complete = all(n in freshness and freshness[n].refreshed_at is not None for n in names)
        return cache if complete else None

    def _index(self) -> dict[str, list[tuple[ModelVersion, str]]]:
        """Target URI -> (version naming it, relation), over every version the catalog can see."""
        catalog = catalog_for(self.gateway)
        remaining = max(0.1, self.deadline_at - time.monotonic())
        page = catalog.search_versions(CatalogQuery(), limit=10**9, deadline=remaining)
        for problem in page.failures:
            self.truncated = True
            self.errors.append(LineageError(registry=problem.registry, kind=problem.kind, message=problem.message))
        index: dict[str, list[tuple[ModelVersion, str]]] = defaultdict(list)
        for version in page.items:
            for target, relation in lineage_refs(version):
                index[target].append((version, relation))
        return index

    def down(self, root: ModelVersion, depth: int) -> None:
        frontier, seen = [root], {_id(root)}
        for _ in range(depth):
            following: list[ModelVersion] = []
            for version in frontier:
                parent = _id(version)
                for child, relation in self.children(parent):
                    if not self.visible(child.registry, child.model):
                        continue
                    cid = self.builder.add_version(child)
                    self.builder.add_edge(parent, cid, relation)
                    if cid not in seen:
                        seen.add(cid)
                        following.append(child)
            frontier = following


def build_lineage(
    gateway: Any,
    registry: str,
    model: str,
    version: str,
    *,
    depth: int = 3,
    direction: Direction = Direction.BOTH,
    deadline: float | None = None,
    visible: Visible | None = None,
) -> LineageGraph:
    """The lineage graph around one version, ``depth`` version-hops each way asked for.

    The root must exist (NotFound otherwise); anything else unreadable becomes a ``missing``
    node or an ``errors`` entry, never a failed answer.
    """
    depth = max(1, min(depth, MAX_DEPTH))
    deadline = deadline or catalog_for(gateway).config.deadline_seconds
    walk = _Walk(gateway=gateway, deadline=deadline, deadline_at=time.monotonic() + deadline,
                 visible=visible or (lambda _r, _m: True))
    root = gateway.call(registry, lambda a: a.get_version(model, version))
    root_id = walk.builder.add_version(root)
    if direction in (Direction.UP, Direction.BOTH):
        walk.up(root, depth)
    if direction in (Direction.DOWN, Direction.BOTH):
        try:
            walk.down(root, depth)
        except RegistryError as exc:
            walk.truncated = True
            walk.errors.append(LineageError(registry=exc.registry, kind=exc.kind.value, message=exc.message))
    return walk.builder.graph(root_id, direction, depth, truncated=walk.truncated, errors=walk.errors)


def _id(version: ModelVersion) -> str:
    return version_id(version.registry, version.model, version.version)
