"""Helpers every route family shares: scope resolution, JSON bodies, nextLink paging."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from emulators.azureml import validation
from emulators.azureml.context import EmulatorContext
from emulators.azureml.errors import ArmError, bad_request
from emulators.azureml.model_assets import Caller
from emulators.azureml.store import Scope

PAGE_SIZE = 100


def ctx_of(request: Request) -> EmulatorContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def scope_of(request: Request) -> Scope:
    """The workspace or registry named in the path; the path prefix tells which."""
    params = request.path_params
    kind = "registries" if request.url.path.startswith("/mferp/") else "workspaces"
    validation.resource_group(params["rg"])
    validation.parent_name(kind, params["parent"])
    return ctx_of(request).store.scope(kind, params["sub"], params["rg"], params["parent"])


def caller_of(request: Request) -> Caller:
    from emulators.azureml.app import caller_name

    return Caller.now(caller_name(request.headers.get("authorization", "")))


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                       "the body is empty.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ArmError(
            400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {exc}."
        ) from exc


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"Query parameter '{name}' must be an integer.", target=name) from exc
    if value < 0:
        raise bad_request(f"Query parameter '{name}' must not be negative.", target=name)
    return value


def page(request: Request, items: list[dict[str, Any]], size_param: str | None = None) -> dict[str, Any]:
    """One page of ``items`` with an absolute ``nextLink``, as ARM lists do.

    OData order: ``$skip`` first, then ``$top`` bounds what remains; server pages are at most
    100 items (or ``size_param``), and the ``nextLink`` carries the advanced ``$skip``/``$top``.
    """
    top = _int_param(request, "$top")
    skip = _int_param(request, "$skip") or 0
    size = (_int_param(request, size_param) if size_param else None) or PAGE_SIZE
    window = items[skip:] if top is None else items[skip: skip + top]
    chunk = window[:size]
    next_link = None
    if len(window) > size:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("$skip", "$top")]
        query.append(("$skip", str(skip + size)))
        if top is not None:
            query.append(("$top", str(top - size)))
        next_link = f"{ctx_of(request).endpoint}{request.url.path}?{urlencode(query)}"
    return {"value": chunk, "nextLink": next_link}


def query_dict(request: Request) -> dict[str, str]:
    return dict(request.query_params)
