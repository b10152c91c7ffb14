"""Managing subscriptions and reading the delivery log (what ``/v1/webhooks`` and the CLI call).

The secret is generated here, returned once by :func:`create`, and afterwards only read by the
worker to sign; no view, log line or error carries it. Subscription changes are written to the
audit log (without the secret) like every other mutation.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.events.cloudevents import PING, Event, serialise, to_cloudevent
from gateway.events.delivery import Claimed, record_outcome, send
from gateway.events.outbox import lease_until, new_delivery_id, utc
from gateway.events.schema import Delivery, DeliveryAttempt, Webhook, WebhookCreate, WebhookCreated
from gateway.events.settings import DeliverySettings
from gateway.events.signing import new_secret
from gateway.events.tables import (
    DEAD,
    DELIVERY_STATES,
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    signing_secrets,
)
from gateway.store import Store
from mapping.errors import InvalidInput, NotFound

MAX_OVERLAP_S = 30 * 24 * 3600  # a rotation's overlap is for switching keys, not for keeping two for good


def create(store: Store, body: WebhookCreate, actor: str) -> WebhookCreated:
    secret = new_secret()
    row = WebhookSubscription(
        id="wh_" + uuid.uuid4().hex, url=body.url, description=body.description, event_types=list(body.event_types),
        registry_glob=body.registry, model_glob=body.model, secret=secret, active=True,
        created_at=datetime.now(UTC), created_by=actor,
    )
    with store.session() as session:
        session.add(row)
    view = _view(row)
    store.record(actor=actor, action="webhook.create", target=f"webhook:{row.id}", after=view.model_dump(mode="json"))
    return WebhookCreated(**view.model_dump(), secret=secret)


def rotate_secret(store: Store, subscription_id: str, actor: str, overlap_s: int) -> WebhookCreated:
    """A new signing secret, shown once. The old one keeps signing too for ``overlap_s`` seconds
    (0: at once no more), so a receiver can accept both while it switches."""
    if overlap_s < 0 or overlap_s > MAX_OVERLAP_S:
        raise InvalidInput(f"overlap_s: must be between 0 and {MAX_OVERLAP_S} seconds", field="overlap_s")
    secret = new_secret()
    now = datetime.now(UTC)
    with store.session() as session:
        row = _subscription(session, subscription_id)
        before = _view(row)
        row.previous_secret = row.secret if overlap_s else None
        row.previous_secret_until = now + timedelta(seconds=overlap_s) if overlap_s else None
        row.secret = secret
        view = _view(row)
    store.record(actor=actor, action="webhook.rotate_secret", target=f"webhook:{subscription_id}",
                 before=before.model_dump(mode="json"), after=view.model_dump(mode="json"))
    return WebhookCreated(**view.model_dump(), secret=secret)


def list_all(store: Store) -> list[Webhook]:
    with store.session() as session:
        rows = session.execute(select(WebhookSubscription).order_by(WebhookSubscription.created_at)).scalars()
        return [_view(r) for r in rows]


def get(store: Store, subscription_id: str) -> Webhook:
    with store.session() as session:
        return _view(_subscription(session, subscription_id))


def remove(store: Store, subscription_id: str, actor: str) -> None:
    """Delete a subscription with its pending deliveries and their log (SQLite has no cascades on)."""
    with store.session() as session:
        view = _view(_subscription(session, subscription_id))
        ids = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription_id)
        session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id))
        session.execute(delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id))
    store.record(actor=actor, action="webhook.delete", target=f"webhook:{subscription_id}",
                 before=view.model_dump(mode="json"))


def deliveries(store: Store, subscription_id: str, state: str | None = None, limit: int = 50,
               delivery_id: str | None = None) -> list[Delivery]:
    """Newest first, each with its attempts in order."""
    if state is not None and state not in DELIVERY_STATES:
        raise InvalidInput(f"state: must be one of {', '.join(DELIVERY_STATES)}", field="state")
    with store.session() as session:
        _subscription(session, subscription_id)
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if state is not None:
            query = query.where(WebhookDelivery.state == state)
        if delivery_id is not None:
            query = query.where(WebhookDelivery.id == delivery_id)
        rows = list(session.execute(query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit))
                    .scalars())
        attempts: dict[str, list[DeliveryAttempt]] = {r.id: [] for r in rows}
        if rows:
            for a in session.execute(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(list(attempts)))
                                     .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)).scalars():
                attempts[a.delivery_id].append(DeliveryAttempt(
                    attempt=a.attempt, at=utc(a.at), status_code=a.status_code, latency_ms=a.latency_ms,  # type: ignore[arg-type]
                    error=a.error, retry_in_s=a.retry_in_s))
        return [_delivery_view(r, attempts[r.id]) for r in rows]


def delivery(store: Store, subscription_id: str, delivery_id: str) -> Delivery:
    found = deliveries(store, subscription_id, delivery_id=delivery_id, limit=1)
    if found:
        return found[0]
    raise NotFound(f"delivery: no delivery {delivery_id!r} for webhook {subscription_id!r}", field="delivery")


def retry(store: Store, subscription_id: str, delivery_id: str, max_attempts: int) -> Delivery:
    """Queue a dead delivery again, with a fresh budget of attempts (same webhook-id, same body)."""
    with store.session() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None or row.subscription_id != subscription_id:
            raise NotFound(f"delivery: no delivery {delivery_id!r} for webhook {subscription_id!r}", field="delivery")
        if row.state != DEAD:
            raise InvalidInput(f"delivery: {delivery_id} is {row.state}; only dead deliveries are retried", field="delivery")
        row.state, row.finished_at = PENDING, None
        row.max_attempts = row.attempts + max_attempts
        row.next_attempt_at = datetime.now(UTC)
    return delivery(store, subscription_id, delivery_id)


def ping(store: Store, subscription_id: str, client: httpx.Client, settings: DeliverySettings, actor: str) -> Delivery:
    """Send one ``mrg.webhook.ping`` now and answer with its logged outcome (no retries)."""
    now = datetime.now(UTC)
    with store.session() as session:
        sub = _subscription(session, subscription_id)
        event = Event(PING, None, None, f"webhook:{sub.id}", {"webhook_id": sub.id, "actor": actor})
        event_id = uuid.uuid4().hex
        row = WebhookDelivery(
            id=new_delivery_id(), subscription_id=sub.id, event_id=event_id, event_type=PING, audit_id=None,
            payload=serialise(to_cloudevent(event, now, event_id)), state=PENDING, attempts=0, max_attempts=1,
            created_at=now, next_attempt_at=lease_until(settings.lease_s),  # claimed by us, not the worker
        )
        session.add(row)
        claimed = Claimed(row.id, sub.url, signing_secrets(sub.secret, sub.previous_secret, sub.previous_secret_until,
                                                           now), row.payload)
    record_outcome(store, claimed.delivery_id, send(client, claimed, settings.timeout_s), settings)
    return delivery(store, subscription_id, claimed.delivery_id)


def _subscription(session: Session, subscription_id: str) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if row is None:
        raise NotFound(f"webhook: no subscription {subscription_id!r}", field="webhook")
    return row


def _view(row: WebhookSubscription) -> Webhook:
    previous_until = utc(row.previous_secret_until) if row.previous_secret else None
    return Webhook(id=row.id, url=row.url, description=row.description, event_types=list(row.event_types or []),
                   registry=row.registry_glob, model=row.model_glob, active=row.active,
                   created_at=utc(row.created_at), created_by=row.created_by,  # type: ignore[arg-type]
                   signing_overlap_until=previous_until)


def _delivery_view(row: WebhookDelivery, log: list[DeliveryAttempt]) -> Delivery:
    return Delivery(
        id=row.id, subscription_id=row.subscription_id, event_id=row.event_id, event_type=row.event_type,
        audit_id=row.audit_id, state=row.state, attempts=row.attempts, max_attempts=row.max_attempts,
        created_at=utc(row.created_at), next_attempt_at=utc(row.next_attempt_at) if row.state == PENDING else None,  # type: ignore[arg-type]
        finished_at=utc(row.finished_at), last_status=row.last_status, last_error=row.last_error, log=log,
    )
