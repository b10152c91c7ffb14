"""``GET …/versions/{v}/lineage``: the lineage graph around one version, across registries.

Model names may contain ``/`` (``{model:path}``), so the catch-all ``GET …/models/{model:path}``
of routes.py would also match this path; feature routers (``FEATURE_ROUTERS``) are included
before routes.py, so this route is reached first (tests/catalog/test_lineage.py checks it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gateway.api.auth import require
from gateway.api.catalog import catalog
from gateway.api.routes import Caller, GatewayDep
from gateway.lineage import Direction, LineageGraph, build_lineage, to_dot, to_mermaid
from gateway.lineage.walk import MAX_DEPTH

router = APIRouter(prefix="/v1")


class LineageFormat(StrEnum):
    JSON = "json"
    MERMAID = "mermaid"
    DOT = "dot"


MEDIA_TYPES = {LineageFormat.MERMAID: "text/plain; charset=utf-8", LineageFormat.DOT: "text/vnd.graphviz; charset=utf-8"}


@router.get(
    "/registries/{registry}/models/{model:path}/versions/{version}/lineage",
    response_model=LineageGraph, tags=["lineage"],
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}},
                                 "text/vnd.graphviz": {"schema": {"type": "string"}}}}},
)
def get_lineage(
    request: Request, registry: str, model: str, version: str, gw: GatewayDep, who: Caller,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="version hops to follow each way")] = 3,
    direction: Annotated[Direction, Query(description="up: parents and sources; down: derived versions "
                                                      "and migrated copies; both")] = Direction.BOTH,
    format: Annotated[LineageFormat, Query(description="json, mermaid (flowchart) or dot (Graphviz)")] = LineageFormat.JSON,
    deadline: Annotated[float | None, Query(gt=0, le=60, description="seconds for the whole walk")] = None,
) -> LineageGraph | Response:
    """Runs, datasets, code, parent versions (``mrg://`` parents resolved in any configured registry)
    and migrated copies. "down" consults the catalog (cache, or one bounded scan of every version)."""
    require(who, "read", registry, model)
    catalog(request, gw)  # the catalog, and its cache refresher, answers "down"
    graph = build_lineage(gw, registry, model, version, depth=depth, direction=direction, deadline=deadline,
                          visible=lambda r, m: who.can("read", r, m))
    if format is LineageFormat.JSON:
        return graph
    text = to_mermaid(graph) if format is LineageFormat.MERMAID else to_dot(graph)
    return Response(text, media_type=MEDIA_TYPES[format])
