"""Tables of the events room: subscriptions, the outbox of deliveries, and the delivery log.

Delivery rows are the outbox: they are inserted in the same transaction as the audit event
they announce, so a recorded change always has its deliveries. Schema changes go through the
Alembic revision ``0004`` only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base

PENDING = "pending"
SUCCEEDED = "succeeded"
DEAD = "dead"
DELIVERY_STATES = (PENDING, SUCCEEDED, DEAD)


class WebhookSubscription(Base):
    """Where to send which events. ``secret`` is kept only because signing needs it."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    event_types: Mapped[list] = mapped_column(JSON, nullable=False)  # type: ignore[type-arg]
    registry_glob: Mapped[str] = mapped_column(String(255), nullable=False)
    model_glob: Mapped[str] = mapped_column(String(512), nullable=False)
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    # After a rotation the old secret signs too, until ``previous_secret_until`` (revision 0006),
    # so receivers can switch keys without refusing a single delivery.
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a log line
        return f"WebhookSubscription(id={self.id!r}, url={self.url!r})"


def signing_secrets(secret: str, previous: str | None, previous_until: datetime | None, now: datetime) -> tuple[str, ...]:
    """The secrets a delivery is signed with now: the current one, and the previous one while
    its overlap lasts (Standard Webhooks: one signature per secret, receivers accept any)."""
    if previous and previous_until is not None:
        until = previous_until if previous_until.tzinfo else previous_until.replace(tzinfo=UTC)  # SQLite: naive UTC
        if until > now:
            return (secret, previous)
    return (secret,)


class WebhookDelivery(Base):
    """One event for one subscription: the exact body to send and where its delivery stands.

    ``next_attempt_at`` doubles as the claim lease: a worker that claims a row pushes it into
    the future, so a crashed worker's rows become due again on their own (at-least-once).
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    audit_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
                      Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"))


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    retry_in_s: Mapped[float | None] = mapped_column()
