"""Model containers and versions, mounted under both the workspace ARM prefix and the registry
MFE prefix: the service shares one implementation, and so does the emulator."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from emulators.azureml import model_assets
from emulators.azureml.routes.common import (
    caller_of,
    ctx_of,
    json_body,
    page,
    query_dict,
    scope_of,
)

router = APIRouter()


@router.get("/models")
async def list_containers(request: Request) -> JSONResponse:
    scope = scope_of(request)
    with ctx_of(request).store.transaction():
        items = model_assets.list_containers(scope, query_dict(request))
    return JSONResponse(page(request, items, size_param="count"))


@router.get("/models/{name}")
async def get_container(request: Request, name: str) -> JSONResponse:
    scope = scope_of(request)
    with ctx_of(request).store.transaction():
        return JSONResponse(model_assets.get_container(scope, name))


@router.put("/models/{name}")
async def put_container(request: Request, name: str) -> JSONResponse:
    scope = scope_of(request)
    body = await json_body(request)
    with ctx_of(request).store.transaction(write=True):
        status, rendered = model_assets.put_container(scope, name, body, caller_of(request))
    return JSONResponse(rendered, status_code=status)


@router.delete("/models/{name}")
async def delete_container(request: Request, name: str) -> Response:
    scope = scope_of(request)
    with ctx_of(request).store.transaction(write=True):
        deleted = model_assets.delete_container(scope, name, caller_of(request))
    return Response(status_code=200 if deleted else 204)


@router.get("/models/{name}/versions")
async def list_versions(request: Request, name: str) -> JSONResponse:
    scope = scope_of(request)
    with ctx_of(request).store.transaction():
        items = model_assets.list_versions(scope, name, query_dict(request))
    return JSONResponse(page(request, items))


@router.get("/models/{name}/versions/{version}")
async def get_version(request: Request, name: str, version: str) -> JSONResponse:
    scope = scope_of(request)
    with ctx_of(request).store.transaction():
        return JSONResponse(model_assets.get_version(scope, name, version))


@router.put("/models/{name}/versions/{version}")
async def put_version(request: Request, name: str, version: str) -> JSONResponse:
    scope = scope_of(request)
    body = await json_body(request)
    ctx = ctx_of(request)
    with ctx.store.transaction(write=True):
        status, rendered = model_assets.put_version(ctx.store, scope, name, version, body, caller_of(request))
    return JSONResponse(rendered, status_code=status)


@router.delete("/models/{name}/versions/{version}")
async def delete_version(request: Request, name: str, version: str) -> Response:
    scope = scope_of(request)
    with ctx_of(request).store.transaction(write=True):
        deleted = model_assets.delete_version(scope, name, version, caller_of(request))
    return Response(status_code=200 if deleted else 204)
