"""Routes of ``/v1``: registries, federated search, models, versions, aliases, approval, stage.

Model names may contain ``/`` (Hugging Face ``owner/name``), so model routes use a ``path``
parameter and the more specific routes are declared first. Every mutating route checks the
caller's role before touching a registry and is written to the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from adapters.base import ArtifactUpload, Health, RegistryAdapter
from gateway.api.auth import Principal, pointer_action, require, require_somewhere
from gateway.api.bodies import (
    AliasBody,
    ApprovalBody,
    AuditEntry,
    AuditPage,
    ModelCreate,
    ModelPage,
    ModelUpdate,
    RegistryInfo,
    RegistryList,
    StageBody,
    VersionPage,
)
from gateway.core import Gateway
from gateway.governance.approvals import refuse_direct_approval
from mapping.errors import InvalidInput
from mapping.schema import (
    Approval,
    ArtifactFile,
    Model,
    ModelQuery,
    ModelVersion,
    MrgUri,
    VersionPatch,
    VersionSpec,
)

router = APIRouter(prefix="/v1")
UPLOAD_CHUNK = 1024 * 1024


def gateway(request: Request) -> Gateway:
    return request.app.state.gateway  # type: ignore[no-any-return]


def principal(request: Request) -> Principal:
    who = request.app.state.auth.identify(request)
    request.state.principal = who
    return who


GatewayDep = Annotated[Gateway, Depends(gateway)]
Caller = Annotated[Principal, Depends(principal)]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


# -- registries --------------------------------------------------------------------------------
@router.get("/registries", response_model=RegistryList, tags=["registries"])
def list_registries(gw: GatewayDep, who: Caller, health: bool = True) -> RegistryList:
    require_somewhere(who, "read")
    names = [name for name in gw.registry_names() if who.can("read", name)]

    def info(name: str) -> RegistryInfo:
        return _registry_info(gw, name, health)

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        return RegistryList(items=list(pool.map(info, names)))


@router.get("/registries/{registry}", response_model=RegistryInfo, tags=["registries"])
def get_registry(registry: str, gw: GatewayDep, who: Caller, health: bool = True) -> RegistryInfo:
    require(who, "read", registry)
    return _registry_info(gw, registry, health)


def _registry_info(gw: Gateway, name: str, with_health: bool) -> RegistryInfo:
    adapter = gw.adapter(name)
    status: Health | None = None
    if with_health:
        status = adapter.health()
    return RegistryInfo(name=name, kind=adapter.kind.value, capabilities=adapter.capabilities(), health=status)


# -- audit -------------------------------------------------------------------------------------
@router.get("/audit", response_model=AuditPage, tags=["governance"])
def audit(gw: GatewayDep, who: Caller, after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditPage:
    require(who, "admin")
    rows = gw.store.audit_events(limit=limit, after_id=after_id)
    return AuditPage(items=[
        AuditEntry(id=r.id, at=r.at.isoformat(), actor=r.actor, action=r.action, registry=r.registry_name,
                   target=r.target, before=r.before, after=r.after, request_id=r.request_id, hash=r.hash)
        for r in rows
    ])


# -- versions (declared before the bare model routes: model names may contain '/') ------------
VERSION = "/registries/{registry}/models/{model:path}/versions/{version}"


@router.get(VERSION + "/artifacts/{path:path}", tags=["artifacts"],
            responses={200: {"content": {"application/octet-stream": {}}}})
def read_artifact(registry: str, model: str, version: str, path: str, gw: GatewayDep, who: Caller) -> StreamingResponse:
    require(who, "read", registry, model)
    stream = gw.call(registry, lambda a: a.read_artifact(model, version, path))
    first = next(stream, b"")  # fail with a JSON error before any byte of the body is sent

    def body() -> Iterator[bytes]:
        if first:
            yield first
        yield from stream

    filename = path.rsplit("/", 1)[-1].replace('"', "")
    return StreamingResponse(body(), media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get(VERSION + "/artifacts", response_model=list[ArtifactFile], tags=["artifacts"])
def list_artifacts(registry: str, model: str, version: str, gw: GatewayDep, who: Caller) -> list[ArtifactFile]:
    require(who, "read", registry, model)
    return gw.call(registry, lambda a: a.list_artifacts(model, version))


@router.put(VERSION + "/approval", response_model=ModelVersion, tags=["governance"])
def set_approval(request: Request, registry: str, model: str, version: str, body: ApprovalBody,
                 gw: GatewayDep, who: Caller) -> ModelVersion:
    require(who, "approve", registry, model)
    refuse_direct_approval(request.app.state.auth.config, registry, model, body.status)
    approval = Approval(status=body.status, by=who.name, comment=body.comment, at=datetime.now(UTC))
    return gw.mutate(
        registry, lambda a: a.set_approval(model, version, approval), actor=who.name, action="version.approval",
        target=MrgUri(registry=registry, model=model, version=version).render(),
        before=lambda a: a.get_version(model, version), request_id=_request_id(request),
    )


@router.put(VERSION + "/stage", response_model=ModelVersion, tags=["governance"])
def set_stage(request: Request, registry: str, model: str, version: str, body: StageBody,
              gw: GatewayDep, who: Caller) -> ModelVersion:
    auth_config = request.app.state.auth.config
    action = pointer_action(auth_config, stages=(body.stage,))
    if action == "write" and auth_config.protected_stages:  # leaving a protected stage is as guarded as entering
        require(who, "read", registry, model)
        action = pointer_action(auth_config, stages=(gw.call(registry, lambda a: a.get_version(model, version)).stage,))
    require(who, action, registry, model)
    return gw.mutate(
        registry, lambda a: a.set_stage(model, version, body.stage), actor=who.name, action="version.stage",
        target=MrgUri(registry=registry, model=model, version=version).render(),
        before=lambda a: a.get_version(model, version), request_id=_request_id(request),
    )


@router.get(VERSION, response_model=ModelVersion, tags=["versions"])
def get_version(registry: str, model: str, version: str, gw: GatewayDep, who: Caller) -> ModelVersion:
    require(who, "read", registry, model)
    return gw.call(registry, lambda a: a.get_version(model, version))


@router.patch(VERSION, response_model=ModelVersion, tags=["versions"])
def update_version(request: Request, registry: str, model: str, version: str, body: VersionPatch,
                   gw: GatewayDep, who: Caller) -> ModelVersion:
    require(who, "write", registry, model)
    return gw.mutate(
        registry, lambda a: a.update_version(model, version, body), actor=who.name, action="version.update",
        target=MrgUri(registry=registry, model=model, version=version).render(),
        before=lambda a: a.get_version(model, version), request_id=_request_id(request),
    )


@router.delete(VERSION, status_code=204, tags=["versions"])
def delete_version(request: Request, registry: str, model: str, version: str, gw: GatewayDep, who: Caller) -> Response:
    require(who, "write", registry, model)
    held = gw.call(registry, lambda a: a.get_version(model, version))  # deleting prod's holder is moving prod
    require(who, pointer_action(request.app.state.auth.config, aliases=held.aliases, stages=(held.stage,)),
            registry, model)
    gw.mutate(
        registry, lambda a: a.delete_version(model, version), actor=who.name, action="version.delete",
        target=MrgUri(registry=registry, model=model, version=version).render(),
        before=lambda a: a.get_version(model, version), request_id=_request_id(request),
    )
    return Response(status_code=204)


MODEL = "/registries/{registry}/models/{model:path}"


@router.get(MODEL + "/versions", response_model=VersionPage, tags=["versions"])
def list_versions(registry: str, model: str, gw: GatewayDep, who: Caller,
                  page_size: Annotated[int | None, Query(ge=1, le=1000)] = None,
                  page_token: str | None = None) -> VersionPage:
    require(who, "read", registry, model)
    page = gw.call(registry, lambda a: a.list_versions(model, page_size=page_size, page_token=page_token))
    return VersionPage(items=page.items, next_token=page.next_token)


@router.post(MODEL + "/versions", response_model=ModelVersion, status_code=201, tags=["versions"],
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": VersionSpec.model_json_schema(ref_template="#/components/schemas/{model}")},
                 "multipart/form-data": {"schema": {"type": "object", "properties": {
                     "spec": {"type": "string", "description": "VersionSpec as JSON"},
                     "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
             }}})
async def create_version(request: Request, registry: str, model: str, gw: GatewayDep, who: Caller) -> ModelVersion:
    """JSON body: a VersionSpec. Multipart: a ``spec`` field (JSON) plus ``files`` (their names are paths)."""
    require(who, "write", registry, model)
    content_type = request.headers.get("content-type", "")
    uploads: list[ArtifactUpload] = []
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=10_000)
        spec = _parse_spec(form.get("spec") or "{}")
        for item in form.getlist("files"):
            if isinstance(item, str) or not item.filename:
                raise InvalidInput("files: each part must be a file whose filename is its path", field="files")
            uploads.append(ArtifactUpload(path=_clean_path(item.filename), chunks=_iter_upload(item), size=item.size))
    else:
        spec = _parse_spec(await request.body())
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        gw.mutate, registry, lambda a: a.create_version(model, spec, uploads), actor=who.name,
        action="version.create", target=MrgUri(registry=registry, model=model).render(),
        request_id=_request_id(request),
    )


def _parse_spec(raw: Any) -> VersionSpec:
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON ({exc})", field="body") from None
    try:
        return VersionSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}", field=where) from None


def _clean_path(name: str) -> str:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise InvalidInput(f"files: {name!r} is not a safe relative path", field="files")
    return "/".join(parts)


def _iter_upload(item: UploadFile) -> Iterator[bytes]:
    item.file.seek(0)
    while block := item.file.read(UPLOAD_CHUNK):
        yield block


@router.put(MODEL + "/aliases/{alias}", response_model=Model, tags=["aliases"])
def set_alias(request: Request, registry: str, model: str, alias: str, body: AliasBody,
              gw: GatewayDep, who: Caller) -> Model:
    require(who, pointer_action(request.app.state.auth.config, alias=alias), registry, model)

    def move(a: RegistryAdapter) -> Model:
        a.set_alias(model, alias, body.version)
        return a.get_model(model)

    return gw.mutate(registry, move, actor=who.name, action="alias.set",
                     target=f"{MrgUri(registry=registry, model=model).render()}@{alias}",
                     before=lambda a: a.get_model(model), request_id=_request_id(request))


@router.delete(MODEL + "/aliases/{alias}", response_model=Model, tags=["aliases"])
def delete_alias(request: Request, registry: str, model: str, alias: str, gw: GatewayDep, who: Caller) -> Model:
    require(who, pointer_action(request.app.state.auth.config, alias=alias), registry, model)

    def remove(a: RegistryAdapter) -> Model:
        a.delete_alias(model, alias)
        return a.get_model(model)

    return gw.mutate(registry, remove, actor=who.name, action="alias.delete",
                     target=f"{MrgUri(registry=registry, model=model).render()}@{alias}",
                     before=lambda a: a.get_model(model), request_id=_request_id(request))


# -- models ------------------------------------------------------------------------------------
@router.get("/registries/{registry}/models", response_model=ModelPage, tags=["models"])
def list_models(registry: str, gw: GatewayDep, who: Caller,
                prefix: Annotated[str | None, Query(max_length=500)] = None,
                page_size: Annotated[int | None, Query(ge=1, le=1000)] = None,
                page_token: str | None = None) -> ModelPage:
    require(who, "read", registry)
    page = gw.call(registry, lambda a: a.list_models(ModelQuery(name_prefix=prefix), page_size=page_size,
                                                     page_token=page_token))
    visible = [m for m in page.items if who.can("read", registry, m.name)]  # scoped viewers see their models
    return ModelPage(items=visible, next_token=page.next_token)


@router.post("/registries/{registry}/models", response_model=Model, status_code=201, tags=["models"])
def create_model(request: Request, registry: str, body: ModelCreate, gw: GatewayDep, who: Caller) -> Model:
    require(who, "write", registry, body.name)
    return gw.mutate(registry, lambda a: a.create_model(body.name, description=body.description, tags=body.tags),
                     actor=who.name, action="model.create", target=MrgUri(registry=registry, model=body.name).render(),
                     request_id=_request_id(request))


@router.get(MODEL, response_model=Model, tags=["models"])
def get_model(registry: str, model: str, gw: GatewayDep, who: Caller) -> Model:
    require(who, "read", registry, model)
    return gw.call(registry, lambda a: a.get_model(model))


@router.patch(MODEL, response_model=Model, tags=["models"])
def update_model(request: Request, registry: str, model: str, body: ModelUpdate, gw: GatewayDep, who: Caller) -> Model:
    require(who, "write", registry, model)
    return gw.mutate(
        registry,
        lambda a: a.update_model(model, description=body.description, tags=body.tags, remove_tags=body.remove_tags),
        actor=who.name, action="model.update", target=MrgUri(registry=registry, model=model).render(),
        before=lambda a: a.get_model(model), request_id=_request_id(request),
    )


@router.delete(MODEL, status_code=204, tags=["models"])
def delete_model(request: Request, registry: str, model: str, gw: GatewayDep, who: Caller) -> Response:
    require(who, "write", registry, model)
    aliases = gw.call(registry, lambda a: a.get_model(model)).aliases  # a model holding prod needs an approver
    require(who, pointer_action(request.app.state.auth.config, aliases=aliases), registry, model)
    gw.mutate(registry, lambda a: a.delete_model(model), actor=who.name, action="model.delete",
              target=MrgUri(registry=registry, model=model).render(),
              before=lambda a: a.get_model(model), request_id=_request_id(request))
    return Response(status_code=204)
