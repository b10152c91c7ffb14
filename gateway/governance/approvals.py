"""Approvals: request, approve or reject with a comment, under a policy per registry and model.

A policy (``auth.approval_policies``, first match wins) says which role may vote, how many
approvals a version needs and whether four-eyes holds (the requester's vote never counts).
Requests and votes live in the store; the decision is written to the registry through the
adapter's ``set_approval`` (natively on SageMaker, in the envelope elsewhere: the adapter
decides), audited like every other write.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fnmatch import fnmatchcase

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gateway.config import ApprovalPolicyConfig, AuthConfig
from gateway.core import Gateway
from gateway.governance.roles import ROLE_PERMISSION, Principal
from gateway.governance.tables import ApprovalRequestRow, ApprovalVoteRow
from mapping.errors import Conflict, NotFound, PermissionDenied
from mapping.schema import Approval, ApprovalStatus, MrgUri

COMMENT_MAX = 1000  # what every backend can hold (SageMaker's ApprovalDescription is 1024)


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


# -- pure policy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    required_role: str = "approver"
    approvers: int = 1
    four_eyes: bool = True
    gate_protected: bool = False
    configured: bool = False  # False: the default policy, no configured entry matched


def policy_for(policies: Iterable[ApprovalPolicyConfig], registry: str, model: str) -> Policy:
    for p in policies:
        if fnmatchcase(registry, p.registry) and fnmatchcase(model, p.model):
            return Policy(required_role=p.required_role, approvers=p.approvers, four_eyes=p.four_eyes,
                          gate_protected=p.gate_protected, configured=True)
    return Policy()


@dataclass(frozen=True)
class Vote:
    voter: str
    decision: Decision
    comment: str | None = None


def outcome(votes: Sequence[Vote], required: int) -> ApprovalStatus:
    """One rejection decides; otherwise ``required`` approvals from distinct voters do."""
    if any(v.decision == Decision.REJECT for v in votes):
        return ApprovalStatus.REJECTED
    if len({v.voter for v in votes if v.decision == Decision.APPROVE}) >= required:
        return ApprovalStatus.APPROVED
    return ApprovalStatus.PENDING


def check_voter(voter: Principal, requester: str, policy: Policy, registry: str, model: str) -> None:
    """Raise unless ``voter`` may vote: the policy's role on this model, and four-eyes."""
    permission = ROLE_PERMISSION[policy.required_role]
    if not voter.can(permission, registry, model):
        raise PermissionDenied(
            f"{voter.name!r} ({voter.describe()}) may not vote on approvals of {registry}/{model}: "
            f"the policy needs the {policy.required_role} role there", registry=registry)
    if policy.four_eyes and voter.name == requester:
        raise PermissionDenied(f"four-eyes: {requester!r} requested this approval and cannot also decide it",
                               registry=registry, details={"rule": "four_eyes"})


def summary(votes: Sequence[Vote], decision: ApprovalStatus) -> tuple[str, str | None]:
    """The ``by`` and ``comment`` written to the registry for a decision."""
    deciding = [v for v in votes if (v.decision == Decision.REJECT) == (decision == ApprovalStatus.REJECTED)]
    by = ", ".join(v.voter for v in deciding)
    comments = [v for v in deciding if v.comment]
    if not comments:
        return by, None
    text = comments[0].comment if len(comments) == 1 else "; ".join(f"{v.voter}: {v.comment}" for v in comments)
    assert text is not None
    return by, text if len(text) <= COMMENT_MAX else text[: COMMENT_MAX - 1] + "…"


def refuse_direct_approval(config: AuthConfig, registry: str, model: str, status: ApprovalStatus) -> None:
    """``PUT …/approval`` cannot approve what a configured policy governs: that would skip four-eyes."""
    policy = policy_for(config.approval_policies, registry, model)
    if policy.configured and status == ApprovalStatus.APPROVED:
        raise PermissionDenied(
            f"approvals of {registry}/{model} follow a policy ({policy.approvers} x {policy.required_role}"
            f"{', four-eyes' if policy.four_eyes else ''}): use POST …/versions/{{v}}/approval-requests",
            registry=registry, details={"rule": "approval_policy"})


# -- views -------------------------------------------------------------------------------------------
class VoteView(BaseModel):
    voter: str
    decision: Decision
    comment: str | None
    at: datetime


class ApprovalRequestView(BaseModel):
    id: str
    registry: str
    model: str
    version: str
    uri: str
    status: ApprovalStatus
    requested_by: str
    requested_at: datetime
    comment: str | None
    required_role: str
    required_approvals: int
    four_eyes: bool
    decided_at: datetime | None
    applied: bool
    votes: list[VoteView]


def _view(row: ApprovalRequestRow, votes: list[ApprovalVoteRow]) -> ApprovalRequestView:
    return ApprovalRequestView(
        id=row.id, registry=row.registry_name, model=row.model, version=row.version,
        uri=MrgUri(registry=row.registry_name, model=row.model, version=row.version).render(),
        status=ApprovalStatus(row.status), requested_by=row.requested_by, requested_at=_utc(row.requested_at),
        comment=row.comment, required_role=row.required_role, required_approvals=row.required_approvals,
        four_eyes=row.four_eyes, decided_at=_utc(row.decided_at) if row.decided_at else None,
        applied=row.applied_at is not None,
        votes=[VoteView(voter=v.voter, decision=Decision(v.decision), comment=v.comment, at=_utc(v.at))
               for v in sorted(votes, key=lambda v: v.at)],
    )


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the gateway publishes is UTC with its offset."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _open_key(registry: str, model: str, version: str) -> str:
    return hashlib.sha256(f"{registry}\0{model}\0{version}".encode()).hexdigest()


# -- the service ---------------------------------------------------------------------------------------
class Approvals:
    def __init__(self, gateway: Gateway, config: AuthConfig) -> None:
        self.gw = gateway
        self.config = config

    def policy(self, registry: str, model: str) -> Policy:
        return policy_for(self.config.approval_policies, registry, model)

    def request(self, who: Principal, registry: str, model: str, version: str, comment: str | None,
                request_id: str | None = None) -> ApprovalRequestView:
        """Open a request (one open request per version) and mark the version PENDING."""
        policy = self.policy(registry, model)
        row = ApprovalRequestRow(
            id=uuid.uuid4().hex, registry_name=registry, model=model, version=version,
            status=ApprovalStatus.PENDING.value, open_key=_open_key(registry, model, version), requested_by=who.name,
            requested_at=datetime.now(UTC), comment=comment, required_role=policy.required_role,
            required_approvals=policy.approvers, four_eyes=policy.four_eyes,
        )
        self.gw.call(registry, lambda a: a.get_version(model, version))  # 404 before anything is written
        try:
            with self.gw.store.session() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"{registry}/{model} version {version} already has an open approval request",
                           registry=registry, details={"field": "version"}) from None
        pending = Approval(status=ApprovalStatus.PENDING, by=who.name, at=row.requested_at, comment=comment)
        try:
            self._write(registry, model, version, pending, actor=who.name, action="approval.request",
                        request_id=request_id)
        except Exception:
            with self.gw.store.session() as session:  # nothing half-done: the request goes with the failure
                session.execute(delete(ApprovalRequestRow).where(ApprovalRequestRow.id == row.id))
            raise
        return self.get(row.id)

    def vote(self, who: Principal, request_id: str, decision: Decision, comment: str | None,
             http_request_id: str | None = None) -> ApprovalRequestView:
        """Record one vote; the vote that decides also writes the decision to the registry.

        The request row is locked while voting (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE``
        on SQLite), so concurrent votes decide exactly once. If the registry write fails the
        decision is withdrawn with the deciding vote, and the voter can simply vote again.
        """
        with self.gw.store.session() as session:
            row = session.execute(
                select(ApprovalRequestRow).where(ApprovalRequestRow.id == request_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"approval request {request_id!r} does not exist", details={"field": "request_id"})
            if row.status != ApprovalStatus.PENDING.value:
                raise Conflict(f"approval request {row.id} was already decided: {row.status}",
                               registry=row.registry_name, details={"status": row.status})
            policy = Policy(required_role=row.required_role, approvers=row.required_approvals, four_eyes=row.four_eyes)
            check_voter(who, row.requested_by, policy, row.registry_name, row.model)
            if session.get(ApprovalVoteRow, (row.id, who.name)) is not None:
                raise Conflict(f"{who.name!r} has already voted on request {row.id}", registry=row.registry_name)
            session.add(ApprovalVoteRow(request_id=row.id, voter=who.name, decision=decision.value, comment=comment,
                                        at=datetime.now(UTC)))
            session.flush()
            votes = [Vote(v.voter, Decision(v.decision), v.comment) for v in self._votes(session, row.id)]
            status = outcome(votes, row.required_approvals)
            if status != ApprovalStatus.PENDING:
                row.status, row.decided_at, row.open_key = status.value, datetime.now(UTC), None
            target = (row.registry_name, row.model, row.version)
        if status != ApprovalStatus.PENDING:
            registry, model, version = target
            by, text = summary(votes, status)
            approval = Approval(status=status, by=by, at=datetime.now(UTC), comment=text)
            action = "approval.approve" if status == ApprovalStatus.APPROVED else "approval.reject"
            try:
                self._write(registry, model, version, approval, actor=who.name, action=action,
                            request_id=http_request_id)
            except Exception:
                self._withdraw(request_id, who.name, target)
                raise
            with self.gw.store.session() as session:
                applied = session.get(ApprovalRequestRow, request_id)
                assert applied is not None
                applied.applied_at = datetime.now(UTC)
        return self.get(request_id)

    def _withdraw(self, request_id: str, voter: str, target: tuple[str, str, str]) -> None:
        """Undo a decision the registry did not take: pending again, without the deciding vote."""
        with self.gw.store.session() as session:
            row = session.get(ApprovalRequestRow, request_id)
            if row is None:
                return
            row.status, row.decided_at, row.open_key = ApprovalStatus.PENDING.value, None, _open_key(*target)
            session.execute(delete(ApprovalVoteRow).where(ApprovalVoteRow.request_id == request_id,
                                                          ApprovalVoteRow.voter == voter))

    def _write(self, registry: str, model: str, version: str, approval: Approval, *, actor: str, action: str,
               request_id: str | None) -> None:
        self.gw.mutate(registry, lambda a: a.set_approval(model, version, approval), actor=actor, action=action,
                       target=MrgUri(registry=registry, model=model, version=version).render(),
                       before=lambda a: a.get_version(model, version), request_id=request_id)

    @staticmethod
    def _votes(session: object, request_id: str) -> list[ApprovalVoteRow]:
        return list(session.execute(  # type: ignore[attr-defined]
            select(ApprovalVoteRow).where(ApprovalVoteRow.request_id == request_id)).scalars())

    def get(self, request_id: str) -> ApprovalRequestView:
        with self.gw.store.session() as session:
            row = session.get(ApprovalRequestRow, request_id)
            if row is None:
                raise NotFound(f"approval request {request_id!r} does not exist", details={"field": "request_id"})
            return _view(row, self._votes(session, row.id))

    def list(self, *, registry: str | None = None, model: str | None = None, version: str | None = None,
             status: ApprovalStatus | None = None, limit: int = 100) -> list[ApprovalRequestView]:
        with self.gw.store.session() as session:
            query = select(ApprovalRequestRow).order_by(ApprovalRequestRow.requested_at.desc()).limit(limit)
            for column, value in ((ApprovalRequestRow.registry_name, registry), (ApprovalRequestRow.model, model),
                                  (ApprovalRequestRow.version, version),
                                  (ApprovalRequestRow.status, status.value if status else None)):
                if value is not None:
                    query = query.where(column == value)
            rows = list(session.execute(query).scalars())
            return [_view(r, self._votes(session, r.id)) for r in rows]
