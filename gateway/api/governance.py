"""``/v1`` governance routes: API keys, approval requests and votes, promote, rollback, history.

The router carries its own lifespan: at start-up the gateway's governance service is created and
its history listener attached, so alias and stage moves made through any route are recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from gateway.api.auth import pointer_action, require, require_somewhere
from gateway.api.routes import Caller, GatewayDep
from gateway.config import Role
from gateway.governance.approvals import COMMENT_MAX, ApprovalRequestView, Decision
from gateway.governance.history import ALIAS, STAGE, HistoryEntry, Tenure, timeline
from gateway.governance.promotion import PointerMove
from gateway.governance.service import Governance, governance_for, release
from mapping.errors import InvalidInput
from mapping.schema import ApprovalStatus, Stage


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    gateway = app.state.gateway
    await run_in_threadpool(governance_for, gateway)
    try:
        yield
    finally:
        release(gateway)


router = APIRouter(prefix="/v1", tags=["governance"], lifespan=lifespan)


def _governance(gw: GatewayDep) -> Governance:
    return governance_for(gw)


Gov = Annotated[Governance, Depends(_governance)]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- API keys ------------------------------------------------------------------------------------------
class KeyCreate(_Body):
    name: str = Field(min_length=1, max_length=255)
    role: Role
    registry: str = Field(default="*", min_length=1, max_length=255, description="registry glob the role applies to")
    model: str = Field(default="*", min_length=1, max_length=1024, description="model glob the role applies to")


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    registry: str
    model: str
    created_at: str
    created_by: str
    revoked_at: str | None


class KeyCreated(KeyInfo):
    key: str = Field(description="the key itself: shown this once, stored only as a hash")


class KeyList(BaseModel):
    items: list[KeyInfo]


@router.post("/keys", response_model=KeyCreated, status_code=201)
def create_key(body: KeyCreate, response: Response, gov: Gov, who: Caller) -> KeyCreated:
    """Create an API key. The clear key is in this response only; the store keeps its sha256."""
    require(who, "admin")
    stored, clear = gov.keys.create(name=body.name, role=body.role, registry=body.registry, model=body.model,
                                    created_by=who.name)
    gov.gateway.store.record(actor=who.name, action="key.create", target=f"key:{stored.id}", after=stored.public())
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(key=clear, **stored.public())  # type: ignore[arg-type]


@router.get("/keys", response_model=KeyList)
def list_keys(gov: Gov, who: Caller, include_revoked: bool = False) -> KeyList:
    require(who, "admin")
    return KeyList(items=[KeyInfo(**k.public()) for k in gov.keys.list(include_revoked)])  # type: ignore[arg-type]


@router.delete("/keys/{key_id}", response_model=KeyInfo)
def revoke_key(key_id: str, gov: Gov, who: Caller) -> KeyInfo:
    """Revoke a key: refused from the next request on, on every replica (no cache)."""
    require(who, "admin")
    stored = gov.keys.revoke(key_id, revoked_by=who.name)
    gov.gateway.store.record(actor=who.name, action="key.revoke", target=f"key:{stored.id}", after=stored.public())
    return KeyInfo(**stored.public())  # type: ignore[arg-type]


# -- approvals -----------------------------------------------------------------------------------------
class ApprovalRequestBody(_Body):
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)


class VoteBody(_Body):
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)


class ApprovalRequestList(BaseModel):
    items: list[ApprovalRequestView]


VERSION = "/registries/{registry}/models/{model:path}/versions/{version}"


@router.post(VERSION + "/approval-requests", response_model=ApprovalRequestView, status_code=201)
def request_approval(request: Request, registry: str, model: str, version: str, body: ApprovalRequestBody,
                     gov: Gov, who: Caller) -> ApprovalRequestView:
    """Ask for a version's approval under the model's policy; the version becomes PENDING."""
    require(who, "write", registry, model)
    return gov.approvals.request(who, registry, model, version, body.comment, _request_id(request))


@router.get("/approval-requests", response_model=ApprovalRequestList)
def list_approval_requests(gov: Gov, who: Caller, registry: str | None = None, model: str | None = None,
                           version: str | None = None, status: ApprovalStatus | None = None,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> ApprovalRequestList:
    """The approval queue (``status=PENDING``), showing only models the caller may read."""
    require_somewhere(who, "read")
    items = gov.approvals.list(registry=registry, model=model, version=version, status=status, limit=limit)
    return ApprovalRequestList(items=[i for i in items if who.can("read", i.registry, i.model)])


@router.get("/approval-requests/{request_id}", response_model=ApprovalRequestView)
def get_approval_request(request_id: str, gov: Gov, who: Caller) -> ApprovalRequestView:
    item = gov.approvals.get(request_id)
    require(who, "read", item.registry, item.model)
    return item


def _vote(request: Request, request_id: str, decision: Decision, body: VoteBody, gov: Governance,
          who: Caller) -> ApprovalRequestView:
    item = gov.approvals.get(request_id)
    require(who, "read", item.registry, item.model)  # the policy's role is checked by the service
    return gov.approvals.vote(who, request_id, decision, body.comment, _request_id(request))


@router.post("/approval-requests/{request_id}/approve", response_model=ApprovalRequestView)
def approve(request: Request, request_id: str, body: VoteBody, gov: Gov, who: Caller) -> ApprovalRequestView:
    """Approve with a comment; the request is decided once the policy's number of approvals is reached."""
    return _vote(request, request_id, Decision.APPROVE, body, gov, who)


@router.post("/approval-requests/{request_id}/reject", response_model=ApprovalRequestView)
def reject(request: Request, request_id: str, body: VoteBody, gov: Gov, who: Caller) -> ApprovalRequestView:
    """Reject with a comment; one rejection decides."""
    return _vote(request, request_id, Decision.REJECT, body, gov, who)


# -- promote and rollback ------------------------------------------------------------------------------
class _Pointer(_Body):
    alias: str | None = Field(default=None, min_length=1, max_length=255)
    stage: Stage | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> _Pointer:
        if (self.alias is None) == (self.stage is None):
            raise ValueError("name exactly one of alias or stage")
        return self


class PromoteBody(_Pointer):
    version: str = Field(min_length=1, max_length=128)
    archive_previous: bool = Field(default=True, description="stage promotions: archive the versions it displaces")


class RollbackBody(_Pointer):
    pass


MODEL = "/registries/{registry}/models/{model:path}"


@router.post(MODEL + "/promote", response_model=PointerMove)
def promote(request: Request, registry: str, model: str, body: PromoteBody, gov: Gov, who: Caller) -> PointerMove:
    """Move an alias or stage to a version, remembering who held it (see ``…/rollback``, ``/history``)."""
    auth = request.app.state.auth.config
    action = pointer_action(auth, alias=body.alias, stages=(body.stage.value,) if body.stage else ())
    if body.stage is not None and action == "write" and auth.protected_stages:  # leaving a protected stage
        require(who, "read", registry, model)
        current = gov.gateway.call(registry, lambda a: a.get_version(model, body.version)).stage
        action = pointer_action(auth, stages=(current.value,))
    require(who, action, registry, model)
    if body.alias is not None:
        return gov.promotions.promote_alias(who.name, registry, model, body.alias, body.version, _request_id(request))
    assert body.stage is not None
    return gov.promotions.promote_stage(who.name, registry, model, body.stage, body.version, body.archive_previous,
                                        _request_id(request))


@router.post(MODEL + "/rollback", response_model=PointerMove)
def rollback(request: Request, registry: str, model: str, body: RollbackBody, gov: Gov, who: Caller) -> PointerMove:
    """Give an alias or stage back to the version that held it before the last move made here."""
    auth = request.app.state.auth.config
    stages = (body.stage.value,) if body.stage else ()
    require(who, pointer_action(auth, alias=body.alias, stages=stages), registry, model)
    if body.alias is not None:
        return gov.promotions.rollback_alias(who.name, registry, model, body.alias, _request_id(request))
    assert body.stage is not None
    return gov.promotions.rollback_stage(who.name, registry, model, body.stage, _request_id(request))


# -- history -------------------------------------------------------------------------------------------
class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    timeline: list[Tenure] = Field(default_factory=list, description="tenures of the alias or stage asked for")
    held_at: list[str] | None = Field(default=None, description="versions holding it at the time asked for")


@router.get("/registries/{registry}/history", response_model=HistoryPage)
def history(registry: str, gov: Gov, who: Caller,
            model: Annotated[str | None, Query(max_length=1024)] = None,
            alias: Annotated[str | None, Query(max_length=255)] = None,
            stage: Stage | None = None,
            at: Annotated[datetime | None, Query(description="ISO time: which version held it then")] = None,
            after_id: Annotated[int, Query(ge=0)] = 0,
            limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> HistoryPage:
    """Every alias and stage move made through the gateway: who moved what, when, from which version.

    With ``model`` and ``alias`` (or ``stage``): the timeline of that pointer, and with ``at``
    the versions that held it then ("which version was in production on 3 March?").
    """
    require(who, "read", registry, model)
    gov.gateway.handle(registry)  # 404 for a registry that is not configured
    if alias is not None and stage is not None:
        raise InvalidInput("alias, stage: ask for one pointer at a time", field="alias")
    if model is None or (alias is None and stage is None):
        entries = gov.history.entries(registry, model, after_id=after_id, limit=limit)
        return HistoryPage(items=[e for e in entries if who.can("read", registry, e.model)])
    kind, name = (ALIAS, alias) if alias is not None else (STAGE, stage.value if stage else "")
    entries = [e for e in gov.history.entries(registry, model, limit=10**9)  # a timeline needs the whole story
               if e.kind == kind and (e.name == name or (kind == STAGE and e.previous == name))]
    tenures = timeline(entries, kind, name)
    held = None
    if at is not None:
        when = at if at.tzinfo else at.replace(tzinfo=UTC)  # a time without a zone is UTC
        held = [t.version for t in tenures if t.held_at(when)]
    return HistoryPage(items=entries, timeline=tenures, held_at=held)

