"""The lineage graph across registries: runs, datasets, code, parents and migrated copies."""

from gateway.lineage.graph import Direction, LineageEdge, LineageGraph, LineageNode, NodeKind
from gateway.lineage.render import to_dot, to_mermaid
from gateway.lineage.walk import build_lineage

__all__ = ["Direction", "LineageEdge", "LineageGraph", "LineageNode", "NodeKind", "build_lineage", "to_dot",
           "to_mermaid"]
