"""The governance tables in the gateway's store: stored API keys, approval requests and their
votes, and the history of every alias and stage move made through the gateway.

Schema changes go through Alembic (``gateway/store/migrations/versions/0003_governance.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class ApiKeyRow(Base):
    """A key created through the gateway. Only its sha256 is kept; the clear key is shown once.

    Keys look like ``mrg_<id>_<secret>``: the id finds the row, the hash of the whole key is then
    compared in constant time, so a lookup never reveals anything about the secret.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    registry_glob: Mapped[str] = mapped_column(String(255), nullable=False, default="*")
    model_glob: Mapped[str] = mapped_column(String(1024), nullable=False, default="*")
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(255))


class ApprovalRequestRow(Base):
    """A request to approve one version, with the policy it was opened under.

    ``open_key`` is a digest of (registry, model, version) while the request is pending and
    NULL once decided: a unique column, so two concurrent requests for one version cannot both
    be opened, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64), nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str] = mapped_column(String(128), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(255), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    required_role: Mapped[str] = mapped_column(String(16), nullable=False)
    required_approvals: Mapped[int] = mapped_column(Integer, nullable=False)
    four_eyes: Mapped[bool] = mapped_column(Boolean, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_approval_requests_target", "registry", "status"),)


class ApprovalVoteRow(Base):
    """One approver's decision on one request; the primary key allows one vote per approver."""

    __tablename__ = "approval_votes"

    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("approval_requests.id", ondelete="CASCADE"), primary_key=True)
    voter: Mapped[str] = mapped_column(String(255), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PointerChangeRow(Base):
    """One alias or stage move: which version now holds ``name``, which held it before, who, when.

    For ``kind == "alias"``: ``version`` is the new holder (NULL when the alias was removed) and
    ``previous`` the old one. For ``kind == "stage"``: ``version`` moved from stage ``previous``
    to stage ``name``. Rows written by one gateway call share a ``change_id``.
    """

    __tablename__ = "pointer_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    registry_name: Mapped[str] = mapped_column("registry", String(64), nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    version: Mapped[str | None] = mapped_column(String(128))
    previous: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_pointer_changes_model", "registry", "model", "id"),)
