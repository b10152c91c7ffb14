"""The delivery worker: claims due deliveries from the outbox and sends them.

Safe with several gateway replicas on one database. A claim is a short transaction that picks
due rows and pushes their ``next_attempt_at`` one lease into the future; on PostgreSQL it uses
``SELECT ... FOR UPDATE SKIP LOCKED`` so replicas never wait on or take each other's rows, on
SQLite the store's ``BEGIN IMMEDIATE`` makes the claim exclusive. A worker that dies after a
claim leaves rows that fall due again when the lease ends: delivery is at-least-once, and
receivers dedupe on ``webhook-id``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select, update

from gateway.events.delivery import Claimed, record_outcome, send
from gateway.events.outbox import lease_until
from gateway.events.settings import DeliverySettings
from gateway.events.tables import PENDING, WebhookAttempt, WebhookDelivery, WebhookSubscription, signing_secrets
from gateway.store import Store

log = logging.getLogger("mrg.events")


def claim(store: Store, limit: int, lease_s: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for this worker for ``lease_s`` seconds."""
    now = datetime.now(UTC)
    with store.session() as session:
        query = (
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret,
                   WebhookSubscription.previous_secret, WebhookSubscription.previous_secret_until)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
            .limit(limit)
        )
        if store.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        rows = session.execute(query).all()
        until = lease_until(lease_s)
        for delivery, *_ in rows:
            delivery.next_attempt_at = until
        return [Claimed(delivery.id, url, signing_secrets(secret, previous, previous_until, now), delivery.payload)
                for delivery, url, secret, previous, previous_until in rows]


def release(store: Store, delivery_ids: list[str]) -> None:
    """Hand claimed but unsent deliveries back at once (a clean shutdown), instead of after the lease."""
    if not delivery_ids:
        return
    with store.session() as session:
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.state == PENDING)
                        .values(next_attempt_at=datetime.now(UTC)))


def prune(store: Store, older_than: timedelta) -> int:
    """Delete settled (succeeded or dead) deliveries finished before ``now - older_than``, with their log.

    The outbox would otherwise grow with every event forever; pending rows are never pruned.
    """
    cutoff = datetime.now(UTC) - older_than
    with store.session() as session:
        settled = select(WebhookDelivery.id).where(WebhookDelivery.state != PENDING,
                                                   WebhookDelivery.finished_at < cutoff)
        ids = list(session.execute(settled).scalars())
        if ids:
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        return len(ids)


class DeliveryWorker:
    """A background thread draining the outbox; ``wake()`` after a commit skips the poll wait."""

    def __init__(self, store: Store, settings: DeliverySettings, client: httpx.Client | None = None) -> None:
        self.store = store
        self.settings = settings
        self._client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="mrg-webhook-send")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mrg-webhook-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, finish sends in flight (bounded by the HTTP timeout), release the rest."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_client:
            self._client.close()

    def run_once(self) -> int:
        """Claim one batch and send it; the number of deliveries attempted."""
        batch = claim(self.store, self.settings.batch_size, self.settings.lease_s)
        if not batch:
            return 0
        futures: dict[str, Future[None]] = {c.delivery_id: self._pool.submit(self._deliver, c) for c in batch}
        unsent = []
        for delivery_id, future in futures.items():
            if self._stop.is_set() and future.cancel():
                unsent.append(delivery_id)
                continue
            future.result()
        release(self.store, unsent)
        return len(batch) - len(unsent)

    def _deliver(self, claimed: Claimed) -> None:
        try:
            outcome = send(self._client, claimed, self.settings.timeout_s)
            record_outcome(self.store, claimed.delivery_id, outcome, self.settings)
        except Exception:  # noqa: BLE001 - one bad row must not stop the worker; its lease expires
            log.exception("webhook delivery %s failed unexpectedly", claimed.delivery_id)

    def _run(self) -> None:
        next_prune = time.monotonic()
        while not self._stop.is_set():
            self._wake.clear()  # before claiming: a wake during the batch is not lost
            try:
                if time.monotonic() >= next_prune:
                    prune(self.store, timedelta(days=self.settings.retention_days))
                    next_prune = time.monotonic() + self.settings.prune_interval_s
                attempted = self.run_once()
            except Exception:  # noqa: BLE001 - the database may be briefly unreachable; try again
                log.exception("webhook worker: claiming deliveries failed")
                attempted = 0
            if attempted == 0 and not self._stop.is_set():
                self._wake.wait(self.settings.poll_interval_s)
