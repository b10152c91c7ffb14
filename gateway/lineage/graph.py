"""The lineage graph: nodes, edges, and how one version's lineage becomes part of it.

Pure. Edges point from origin to result (dataset -> version, parent -> child, migration source
-> copy), whichever direction the walk went, so a rendered graph always reads the same way.
Node ids are stable strings: a version's canonical ``mrg://`` URI, ``run:<system>:<id>``,
``dataset:<uri>@<digest>``, ``code:<repo>@<commit>``, or an external parent's own URI.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from mapping.schema import ModelVersion, MrgUri


class NodeKind(StrEnum):
    VERSION = "version"
    RUN = "run"
    DATASET = "dataset"
    CODE = "code"
    EXTERNAL = "external"


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


class LineageNode(BaseModel):
    id: str
    kind: NodeKind
    label: str
    uri: str | None = None
    registry: str | None = None
    model: str | None = None
    version: str | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)
    # A version another one names but that could not be read (unknown registry, deleted, down).
    missing: str | None = None


class LineageEdge(BaseModel):
    source: str
    target: str
    relation: str


class LineageError(BaseModel):
    registry: str | None = None
    kind: str
    message: str


class LineageGraph(BaseModel):
    root: str
    direction: Direction
    depth: int
    nodes: list[LineageNode] = Field(default_factory=list)
    edges: list[LineageEdge] = Field(default_factory=list)
    # True when a bound stopped the walk (depth aside): downstream scan limits or the deadline.
    truncated: bool = False
    errors: list[LineageError] = Field(default_factory=list)


def version_id(registry: str, model: str, version: str) -> str:
    return MrgUri(registry=registry, model=model, version=version).render()


def mrg_version(uri: str) -> MrgUri | None:
    """The version an ``mrg://`` URI names, or None for external URIs and model-level ones."""
    try:
        ref = MrgUri.parse(uri)
    except ValueError:
        return None
    return ref if ref.version is not None else None


class GraphBuilder:
    """Accumulates nodes and edges without duplicates, in insertion order."""

    def __init__(self) -> None:
        self.nodes: dict[str, LineageNode] = {}
        self.edges: dict[tuple[str, str, str], LineageEdge] = {}

    def add_node(self, node: LineageNode) -> str:
        existing = self.nodes.get(node.id)
        if existing is None or (existing.missing and not node.missing):
            self.nodes[node.id] = node
        return node.id

    def add_edge(self, source: str, target: str, relation: str) -> None:
        self.edges.setdefault((source, target, relation), LineageEdge(source=source, target=target, relation=relation))

    def add_version(self, version: ModelVersion) -> str:
        """The version itself plus its run, datasets and code (never counted as walk depth)."""
        vid = self.add_node(version_node(version))
        lineage = version.lineage
        if lineage.source_run is not None:
            run = lineage.source_run
            rid = self.add_node(LineageNode(id=f"run:{run.system}:{run.id}", kind=NodeKind.RUN,
                                            label=f"{run.system} run {run.id}", uri=run.uri))
            self.add_edge(rid, vid, "produced")
        for ds in lineage.datasets:
            did = self.add_node(LineageNode(id=f"dataset:{ds.uri}@{ds.digest or ''}", kind=NodeKind.DATASET,
                                            label=ds.name or ds.uri, uri=ds.uri, attrs={"digest": ds.digest}))
            self.add_edge(did, vid, "trained_on")
        if lineage.code is not None:
            cid = self.add_node(LineageNode(id=f"code:{lineage.code.repo}@{lineage.code.commit or ''}",
                                            kind=NodeKind.CODE, label=lineage.code.repo,
                                            attrs={"commit": lineage.code.commit}))
            self.add_edge(cid, vid, "built_from")
        return vid

    def add_external(self, uri: str) -> str:
        return self.add_node(LineageNode(id=uri, kind=NodeKind.EXTERNAL, label=uri, uri=uri))

    def add_missing(self, ref: MrgUri, why: str) -> str:
        vid = version_id(ref.registry, ref.model, ref.version or "")
        return self.add_node(LineageNode(id=vid, kind=NodeKind.VERSION, label=f"{ref.registry}/{ref.model} v{ref.version}",
                                         uri=vid, registry=ref.registry, model=ref.model, version=ref.version,
                                         missing=why))

    def graph(self, root: str, direction: Direction, depth: int, *, truncated: bool,
              errors: list[LineageError]) -> LineageGraph:
        return LineageGraph(root=root, direction=direction, depth=depth, nodes=list(self.nodes.values()),
                            edges=list(self.edges.values()), truncated=truncated, errors=errors)


def version_node(version: ModelVersion) -> LineageNode:
    vid = version_id(version.registry, version.model, version.version)
    attrs: dict[str, Any] = {"stage": version.stage.value, "approval": version.approval.status.value}
    if version.aliases:
        attrs["aliases"] = list(version.aliases)
    if version.lineage.migrated_from is not None and version.lineage.migrated_from.digest:
        attrs["migrated_digest"] = version.lineage.migrated_from.digest
    return LineageNode(id=vid, kind=NodeKind.VERSION, label=f"{version.registry}/{version.model} v{version.version}",
                       uri=vid, registry=version.registry, model=version.model, version=version.version, attrs=attrs)


def upstream_refs(version: ModelVersion) -> list[tuple[str, str]]:
    """(URI, relation) of what a version derives from: its parents and its migration source."""
    refs = [(p.uri, p.relation) for p in version.lineage.parents]
    if version.lineage.migrated_from is not None:
        refs.append((version.lineage.migrated_from.uri, "migrated_from"))
    return refs
