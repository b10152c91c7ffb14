"""``mrg lineage REGISTRY MODEL VERSION``: the lineage graph around one version, in the terminal.

Runs the same walk as ``GET …/versions/{v}/lineage`` on this machine's config: a tree per
direction by default, ``--format json|mermaid|dot`` for machines and diagrams. A version that
does not exist exits 2; a registry that cannot be reached exits 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(invoke_without_command=True, no_args_is_help=True, context_settings={"allow_interspersed_args": True},
                  help="The lineage graph around one version (runs, datasets, parents, migrated copies).")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="mrg.yaml (default: ./mrg.yaml, else embedded)")]
FORMATS = ("tree", "json", "mermaid", "dot")


@app.callback()
def lineage(
    registry: Annotated[str, typer.Argument(help="configured registry name")],
    model: Annotated[str, typer.Argument(help="model name (may contain '/')")],
    version: Annotated[str, typer.Argument(help="version id")],
    depth: Annotated[int, typer.Option(min=1, max=10, help="version hops to follow each way")] = 3,
    direction: Annotated[str, typer.Option(help="up | down | both")] = "both",
    format: Annotated[str, typer.Option("--format", "-f", help="tree | json | mermaid | dot")] = "tree",
    as_json: Annotated[bool, typer.Option("--json", help="same as --format json")] = False,
    config: ConfigOpt = None,
) -> None:
    """Print the lineage of REGISTRY/MODEL version VERSION."""
    from gateway.cli import _gateway, fail, handled
    from gateway.lineage import Direction, build_lineage, to_dot, to_mermaid

    chosen = "json" if as_json else format
    if chosen not in FORMATS:
        fail(f"--format: {chosen!r} is not one of {', '.join(FORMATS)}")
    if direction not in {d.value for d in Direction}:
        fail(f"--direction: {direction!r} is not one of up, down, both")
    gw = _gateway(config)
    try:
        with handled():
            graph = build_lineage(gw, registry, model, version, depth=depth, direction=Direction(direction))
    finally:
        gw.close()
    if chosen == "json":
        typer.echo(json.dumps(graph.model_dump(mode="json"), indent=2))
    elif chosen == "mermaid":
        typer.echo(to_mermaid(graph), nl=False)
    elif chosen == "dot":
        typer.echo(to_dot(graph), nl=False)
    else:
        _print_tree(graph)


def _print_tree(graph: Any) -> None:
    """The root, then what it came from (←) and what came from it (→), one edge per line."""
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    labels = {n.id: escape(n.label) + (f" [dim](missing: {escape(n.missing)})[/dim]" if n.missing else "")
              for n in graph.nodes}
    tree = Tree(f"[bold]{labels[graph.root]}[/bold]")
    _branch(tree, graph, graph.root, upward=True, seen={graph.root})
    _branch(tree, graph, graph.root, upward=False, seen={graph.root})
    console = Console()
    console.print(tree)
    for err in graph.errors:
        console.print(f"{err.registry or '-'}: {err.kind}: {err.message}", style="yellow", markup=False)
    if graph.truncated:
        console.print("[yellow]the downstream search was cut short; the graph may be incomplete[/yellow]")


def _branch(tree: Any, graph: Any, node: str, *, upward: bool, seen: set[str]) -> None:
    from rich.markup import escape

    labels = {n.id: n.label for n in graph.nodes}
    for edge in graph.edges:
        other = edge.source if upward and edge.target == node else edge.target if not upward and edge.source == node else None
        if other is None or other in seen:
            continue
        seen.add(other)
        arrow = "←" if upward else "→"
        child = tree.add(f"{arrow} {escape(edge.relation)}: {escape(labels.get(other, other))}")
        _branch(child, graph, other, upward=upward, seen=seen)
