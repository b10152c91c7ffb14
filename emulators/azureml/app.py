"""The FastAPI application: ARM-style request checks, the wire log, and the route families.

Checks run in the order ARM applies them - authentication, then api-version, then the resource
provider's own validation - so a request with two faults gets the error Azure would report first.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulators.azureml import context as ctxmod
from emulators.azureml import wirelog
from emulators.azureml.context import EmulatorContext
from emulators.azureml.errors import ArmError, to_response
from emulators.azureml.routes import (
    discovery,
    metadata,
    models,
    registry_data,
    workspace,
)

_PUBLIC_PATHS = ("/metadata/endpoints",)


def _api_versions_for(path: str) -> frozenset[str] | None:
    if path.startswith("/mferp/managementfrontend/"):
        return ctxmod.REGISTRY_API_VERSIONS
    if path.startswith("/registrymanagement/"):
        return ctxmod.DISCOVERY_API_VERSIONS
    if path.startswith("/subscriptions/"):
        return ctxmod.ARM_API_VERSIONS
    return None


def caller_name(authorization: str) -> str:
    """``systemData.createdBy``: the token's display name when it is a JWT, else a fixed user."""
    token = authorization.split(" ", 1)[1] if " " in authorization else ""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            for claim in ("name", "unique_name", "upn", "oid"):
                if isinstance(payload.get(claim), str):
                    return str(payload[claim])
        except (ValueError, UnicodeDecodeError):
            pass
    return "Emulator User"


def _check(request: Request, ctx: EmulatorContext) -> None:
    path = request.url.path
    if path not in _PUBLIC_PATHS:
        auth = request.headers.get("authorization")
        if not auth:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ArmError(
                401, "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
    allowed = _api_versions_for(path)
    if allowed is None:
        return
    version = request.query_params.get("api-version")
    if not version:
        raise ArmError(
            400, "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in allowed:
        raise ArmError(
            400, "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{ctx.location}' and API version '{version}' "
            f"for type 'Microsoft.MachineLearningServices'. The supported api-versions are "
            f"'{', '.join(sorted(allowed))}'.",
        )


def create_app(ctx: EmulatorContext) -> FastAPI:
    app = FastAPI(title="Azure ML emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx

    @app.middleware("http")
    async def arm_front_door(request: Request, call_next: Any) -> Response:
        body = await request.body()
        try:
            _check(request, ctx)
            response: Response = await call_next(request)
        except ArmError as exc:
            response = to_response(exc, ctx.location)
        if exc_headers := _challenge(response):
            response.headers.update(exc_headers)
        # ARM answers every call with request ids; SDKs log them and support asks for them.
        response.headers["x-ms-request-id"] = str(uuid.uuid4())
        response.headers["x-ms-correlation-request-id"] = (
            request.headers.get("x-ms-correlation-request-id") or request.headers.get("x-ms-client-request-id")
            or str(uuid.uuid4())
        )
        entry: dict[str, Any] = {
            "method": request.method, "path": request.url.path, "query": request.url.query,
            "status": response.status_code,
        }
        if body:
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body_bytes"] = len(body)
        wirelog.record(ctx.wire_log, entry)
        return response

    @app.exception_handler(ArmError)
    async def arm_error(_: Request, exc: ArmError) -> Response:
        return to_response(exc, ctx.location)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        return to_response(ArmError(400, "InvalidRequestContent", f"The request content was invalid: {exc}"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return to_response(
                ArmError(405, "MethodNotAllowed", f"The {request.method} method is not supported for this resource.")
            )
        return to_response(
            ArmError(
                exc.status_code, "NotFound" if exc.status_code == 404 else "BadRequest",
                f"The emulator has no route for {request.method} {request.url.path}.",
            )
        )

    for router in (metadata.router, discovery.router):
        app.include_router(router)
    app.include_router(workspace.router, prefix=workspace.PREFIX)
    app.include_router(models.router, prefix=workspace.PREFIX)
    app.include_router(registry_data.router, prefix=registry_data.PREFIX)
    app.include_router(models.router, prefix=registry_data.PREFIX)
    return app


def _challenge(response: Response) -> dict[str, str]:
    """ARM's 401 carries a Bearer challenge (without ``claims``, so the SDK does not retry)."""
    if response.status_code != 401:
        return {}
    return {
        "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/", '
        'error="invalid_token", error_description="The authentication failed."'
    }
