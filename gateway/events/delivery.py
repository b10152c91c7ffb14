"""One delivery attempt: sign, POST, and write the outcome to the delivery log.

Success is any 2xx. Anything else (another status, a timeout, a refused connection) is
retried with backoff until ``max_attempts``, then the delivery is ``dead`` and stays in the
log (``POST /v1/webhooks/{id}/deliveries/{delivery}/retry`` queues it again). Redirects are
not followed: a receiver that moved must be re-subscribed, so events never go somewhere
nobody configured.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from gateway.events.cloudevents import CONTENT_TYPE
from gateway.events.settings import DeliverySettings
from gateway.events.signing import signature_headers
from gateway.events.tables import DEAD, PENDING, SUCCEEDED, WebhookAttempt, WebhookDelivery
from gateway.store import Store

USER_AGENT = "mrg-webhooks/1"
ERROR_BODY_MAX = 300


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to send one delivery, read in the claiming transaction."""

    delivery_id: str
    url: str
    secrets: tuple[str, ...]  # the current secret, and the previous one during a rotation's overlap
    payload: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(client: httpx.Client, claimed: Claimed, timeout_s: float) -> Outcome:
    body = claimed.payload.encode()
    headers = {"content-type": CONTENT_TYPE, "user-agent": USER_AGENT,
               **signature_headers(claimed.secrets, claimed.delivery_id, body)}
    started = time.perf_counter()
    try:
        response = client.post(claimed.url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:ERROR_BODY_MAX], None)
    latency = _ms(started)
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, latency, None, None)
    snippet = response.text[:ERROR_BODY_MAX].strip()
    error = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
    return Outcome(response.status_code, latency, error, parse_retry_after(response.headers.get("retry-after")))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def record_outcome(store: Store, delivery_id: str, outcome: Outcome, settings: DeliverySettings) -> None:
    """Log the attempt and move the delivery on: succeeded, retried later, or dead."""
    now = datetime.now(UTC)
    with store.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.state != PENDING:
            return  # the subscription was deleted, or another worker already settled it
        delivery.attempts += 1
        delivery.last_status = outcome.status_code
        delivery.last_error = outcome.error
        retry_in: float | None = None
        if outcome.ok:
            delivery.state, delivery.finished_at = SUCCEEDED, now
        elif delivery.attempts >= delivery.max_attempts:
            delivery.state, delivery.finished_at = DEAD, now
        else:
            retry_in = settings.backoff(delivery.attempts, outcome.retry_after)
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        session.add(WebhookAttempt(delivery_id=delivery_id, attempt=delivery.attempts, at=now,
                                   status_code=outcome.status_code, latency_ms=round(outcome.latency_ms, 2),
                                   error=outcome.error, retry_in_s=round(retry_in, 3) if retry_in is not None else None))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
