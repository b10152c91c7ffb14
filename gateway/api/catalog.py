"""``/v1/models``: the federated catalog over every configured registry.

Concurrent fan-out with a per-registry deadline; a registry that is down, slow or throttled
costs its own results only: the answer is still 200 with ``partial: true`` and one entry in
``errors[]`` per failing registry.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.api.auth import require
from gateway.api.bodies import SearchPage
from gateway.api.routes import Caller, GatewayDep
from mapping.errors import InvalidInput
from mapping.schema import ModelQuery

router = APIRouter(prefix="/v1")


@router.get("/models", response_model=SearchPage, tags=["catalog"])
def search_models(
    gw: GatewayDep,
    who: Caller,
    q: Annotated[str | None, Query(max_length=500, description="free text over name, description and tags")] = None,
    registry: Annotated[list[str] | None, Query(description="limit to these registries")] = None,
    tag: Annotated[list[str] | None, Query(description="key=value, repeatable")] = None,
    prefix: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
    deadline: Annotated[float, Query(gt=0, le=60)] = 10.0,
) -> SearchPage:
    require(who, "read")
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"tag: {item!r} must be key=value", field="tag")
        tags[key] = value
    offset = _decode_cursor(cursor)
    result = gw.search_models(ModelQuery(text=q, tags=tags, name_prefix=prefix), registry, deadline=deadline)
    window = result.items[offset : offset + limit]
    more = offset + limit < len(result.items)
    return SearchPage(
        items=window,
        partial=result.partial,
        errors=result.errors,  # type: ignore[arg-type]
        next_cursor=_encode_cursor(offset + limit) if more else None,
    )


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
    except Exception:  # noqa: BLE001 - any malformed cursor is the caller's input error
        raise InvalidInput("cursor: not a cursor this gateway issued", field="cursor") from None
    if offset < 0:
        raise InvalidInput("cursor: not a cursor this gateway issued", field="cursor")
    return offset


