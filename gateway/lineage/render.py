"""Text renderings of a lineage graph: Mermaid (Markdown, GitHub) and Graphviz DOT. Pure."""

from __future__ import annotations

import json

from gateway.lineage.graph import LineageGraph, NodeKind

_MERMAID_SHAPES = {
    NodeKind.VERSION: ("[", "]"),
    NodeKind.RUN: ("([", "])"),
    NodeKind.DATASET: ("[(", ")]"),
    NodeKind.CODE: ("{{", "}}"),
    NodeKind.EXTERNAL: ("[/", "/]"),
}
_DOT_SHAPES = {
    NodeKind.VERSION: "box",
    NodeKind.RUN: "ellipse",
    NodeKind.DATASET: "cylinder",
    NodeKind.CODE: "hexagon",
    NodeKind.EXTERNAL: "parallelogram",
}


def to_mermaid(graph: LineageGraph) -> str:
    """``flowchart LR``; ids are n0, n1... (node ids are URIs, which Mermaid cannot take)."""
    short = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node in graph.nodes:
        open_, close = _MERMAID_SHAPES[node.kind]
        label = node.label + (" (missing)" if node.missing else "")
        lines.append(f"    {short[node.id]}{open_}\"{_mermaid_text(label)}\"{close}")
    for edge in graph.edges:
        lines.append(f"    {short[edge.source]} -->|{_mermaid_text(edge.relation)}| {short[edge.target]}")
    if graph.root in short:
        lines.append(f"    style {short[graph.root]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_dot(graph: LineageGraph) -> str:
    lines = ["digraph lineage {", "    rankdir=LR;"]
    for node in graph.nodes:
        attrs = [f"label={_dot_quote(node.label)}", f"shape={_DOT_SHAPES[node.kind]}"]
        if node.missing:
            attrs.append("style=dashed")
        if node.id == graph.root:
            attrs.append("penwidth=3")
        lines.append(f"    {_dot_quote(node.id)} [{', '.join(attrs)}];")
    for edge in graph.edges:
        lines.append(f"    {_dot_quote(edge.source)} -> {_dot_quote(edge.target)} [label={_dot_quote(edge.relation)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid labels: quotes and pipes would end the label, so use its HTML entities."""
    return text.replace('"', "#quot;").replace("|", "#124;").replace("\n", " ")


def _dot_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid DOT quoted ID (backslash and quote escaped)
