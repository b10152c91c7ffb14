"""One JSON error body for every failure: ``{"error": {"kind", "message", "registry", "details"}}``.

Bad input is a 4xx naming the field, a backend's throttling or outage passes through as
429/503 with Retry-After, and nothing unexpected leaks internals: a bug answers a generic 500
whose details hold only the request id to look up in the logs.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mapping.errors import RegistryError

log = logging.getLogger("mrg.api")


def error_body(kind: str, message: str, registry: str | None = None, details: dict | None = None) -> dict:  # type: ignore[type-arg]
    return {"error": {"kind": kind, "message": message, "registry": registry, "details": details or {}}}


def _registry_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RegistryError)
    payload = exc.to_dict()
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(exc.retry_after)))
    elif exc.retryable:
        headers["Retry-After"] = "1"
    return JSONResponse(
        {"error": {k: payload[k] for k in ("kind", "message", "registry", "details")} | {"retryable": exc.retryable}},
        status_code=exc.http_status,
        headers=headers,
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    if first.get("type") == "json_invalid":
        message = f"request body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})"
        field = "body"
    else:
        message = f"{field or 'request'}: {first.get('msg')}"
    details = {"field": field, "errors": [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg")} for e in errors[:20]]}
    return JSONResponse(error_body("invalid_input", message, details=details), status_code=400)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "not_found", 405: "invalid_input", 401: "permission_denied", 403: "permission_denied"}.get(
        exc.status_code, "invalid_input" if exc.status_code < 500 else "unavailable"
    )
    headers = dict(exc.headers or {})
    return JSONResponse(error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    # Called outside the ``except`` block that caught it: pass the exception for the traceback.
    log.error("unexpected error handling %s %s (request %s)", request.method, request.url.path, request_id,
              exc_info=(type(exc), exc, exc.__traceback__))
    return JSONResponse(
        error_body("internal", "internal error; the gateway log has the details", details={"request_id": request_id}),
        status_code=500,
    )


# The one error shape, as published in the OpenAPI document.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["kind", "message"],
        "properties": {
            "kind": {"type": "string", "description": "not_found, invalid_input, permission_denied, unsupported, "
                                                      "conflict, already_exists, rate_limited, unavailable, internal"},
            "message": {"type": "string"},
            "registry": {"type": ["string", "null"]},
            "retryable": {"type": "boolean"},
            "details": {"type": "object"},
        },
    }},
}
_ERROR_RESPONSE = {
    "description": "Error: 400 bad input (details.field names it), 401/403, 404, 409, 422 what the backend "
                   "cannot do, 429/503 with Retry-After.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def document_errors(app: FastAPI) -> None:
    """Publish the real error contract: FastAPI documents a 422 ``HTTPValidationError`` for every
    operation, but bad input answers 400 with ``ErrorBody`` (and 422 means Unsupported)."""
    generate = app.openapi

    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if documented:
            return documented[0]
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_SCHEMA
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "HTTPValidationError" in str(responses.get("422", "")):
                    del responses["422"]
                responses.setdefault("default", _ERROR_RESPONSE)
        documented.append(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    document_errors(app)
