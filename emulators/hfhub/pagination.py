"""Cursor paging with a ``Link: <...>; rel="next"`` header, the way huggingface_hub follows it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .context import int_param


def paginated(request: Request, items: list[Any], page_size: int) -> JSONResponse:
    """One page of ``items``; the client keeps following ``rel="next"`` until it is absent."""
    start = int_param(request, "cursor", 0) or 0
    limit = int_param(request, "limit")
    size = min(page_size, limit) if limit and limit > 0 else page_size
    page = items[start : start + size]
    headers = {}
    if start + size < len(items):
        next_url = request.url.include_query_params(cursor=start + size)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(page, headers=headers)
