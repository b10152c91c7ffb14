"""The FastAPI application: routes, error bodies, request ids, health."""

from __future__ import annotations

import importlib
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.api import catalog, errors, migrations
from gateway.api.auth import Authenticator
from gateway.api.routes import router
from gateway.config import GatewayConfig
from gateway.core import Gateway

VERSION = "0.1.0"
# Feature routers added by later rooms of the gateway (governance, events, lineage ...).
FEATURE_ROUTERS: tuple[str, ...] = ("gateway.api.events", "gateway.api.governance", "gateway.api.pilots", "gateway.api.lineage")


def create_app(config: GatewayConfig, gateway: Gateway | None = None) -> FastAPI:
    gw = gateway or Gateway(config)
    app = FastAPI(
        title="model-registry-gateway",
        version=VERSION,
        summary="One catalog and one API over MLflow, SageMaker, Vertex AI, Azure ML and Hugging Face registries.",
    )
    app.state.gateway = gw
    app.state.auth = Authenticator(config.auth)
    errors.install(app)

    @app.middleware("http")
    async def request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid[:64]
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness: answers as soon as the process serves; registries are checked at /v1/registries."""
        return JSONResponse({"status": "ok", "registries": gw.registry_names()})

    # Specific routes first: routes.py ends with a catch-all GET …/models/{model:path}.
    app.include_router(catalog.router)
    for module in FEATURE_ROUTERS:
        app.include_router(importlib.import_module(module).router)
    app.include_router(migrations.router)
    app.include_router(router)

    @app.on_event("shutdown")
    def _close() -> None:
        gw.close()

    return app
