"""The durable outbox: delivery rows written in the audit event's own transaction.

``attach(store)`` registers :func:`enqueue` in ``Store.on_record``, which runs inside the
transaction that appends the audit event. Either the change is recorded together with one
delivery row per matching subscription, or neither is: no event is lost between "recorded"
and "queued", whatever crashes when.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.events.cloudevents import PING, Event, events_for, serialise, to_cloudevent
from gateway.events.tables import PENDING, WebhookDelivery, WebhookSubscription
from gateway.store import Store
from gateway.store.models import AuditEvent

Hook = Callable[[Session, AuditEvent], None]


def subscription_matches(subscription: WebhookSubscription, event: Event) -> bool:
    """Types, registry glob and model glob must all match; events without a model match only ``*``."""
    types = subscription.event_types or []
    if event.type == PING:
        return False
    if types and not any(fnmatch.fnmatchcase(event.type, pattern) for pattern in types):
        return False
    if not _glob(subscription.registry_glob, event.registry):
        return False
    return _glob(subscription.model_glob, event.model)


def _glob(pattern: str, value: str | None) -> bool:
    if pattern == "*":
        return True
    return value is not None and fnmatch.fnmatchcase(value, pattern)


def new_delivery_id() -> str:
    return "msg_" + uuid.uuid4().hex


def enqueue_events(session: Session, row: AuditEvent, max_attempts: int) -> list[WebhookDelivery]:
    """Queue one delivery per (event, matching subscription), in the caller's transaction."""
    events = events_for(row)
    if not events:
        return []
    subscriptions = list(session.execute(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))).scalars())
    now = datetime.now(UTC)
    queued: list[WebhookDelivery] = []
    for event in events:
        targets = [s for s in subscriptions if subscription_matches(s, event)]
        if not targets:
            continue
        event_id = uuid.uuid4().hex  # one CloudEvent id, however many subscribers receive it
        payload = serialise(to_cloudevent(event, row.at, event_id))
        for subscription in targets:
            delivery = WebhookDelivery(
                id=new_delivery_id(), subscription_id=subscription.id, event_id=event_id, event_type=event.type,
                audit_id=row.id, payload=payload, state=PENDING, attempts=0, max_attempts=max_attempts,
                created_at=now, next_attempt_at=now,
            )
            session.add(delivery)
            queued.append(delivery)
    return queued


def attached(store: Store) -> Hook | None:
    for hook in store.on_record:
        if getattr(hook, "mrg_events_outbox", False):
            return hook
    return None


def attach(store: Store, max_attempts: int) -> Hook:
    """Register the outbox hook on a store once; returns the hook (to detach it again)."""
    existing = attached(store)
    if existing is not None:
        return existing

    def hook(session: Session, row: AuditEvent) -> None:
        enqueue_events(session, row, max_attempts)

    hook.mrg_events_outbox = True  # type: ignore[attr-defined]
    store.on_record.append(hook)
    return hook


def detach(store: Store, hook: Hook) -> None:
    if hook in store.on_record:
        store.on_record.remove(hook)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store holds is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lease_until(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
