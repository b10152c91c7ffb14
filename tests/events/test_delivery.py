"""The worker against a real HTTP receiver: signed, retried with backoff, honouring Retry-After, dead at last."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.events import subscriptions, verify_signature
from gateway.events.outbox import attach
from gateway.events.worker import DeliveryWorker
from gateway.store import Store
from tests.events.conftest import FAST, eventually
from tests.events.helpers import record_version_created, subscribe
from tests.events.receiver import Receiver
from tests.events.test_signing import documented_signature


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'events.db'}")
    attach(s, FAST.max_attempts)
    yield s
    s.close()


def _settled(store: Store, webhook_id: str, state: str) -> list[subscriptions.Delivery]:
    items = subscriptions.deliveries(store, webhook_id)
    return items if items and all(d.state == state for d in items) else []


def test_delivered_once_signed_as_documented(store: Store, receiver: Receiver) -> None:
    hook = subscribe(store, receiver.url)
    worker = DeliveryWorker(store, FAST)
    worker.start()
    try:
        record_version_created(store)
        [request] = receiver.wait_for(1)
        [delivery] = eventually(lambda: _settled(store, hook.id, "succeeded"))
    finally:
        worker.stop()
    h = request.headers
    assert h["content-type"].startswith("application/cloudevents+json")
    assert h["webhook-id"] == delivery.id
    assert h["webhook-signature"] == documented_signature(hook.secret, h["webhook-id"], h["webhook-timestamp"], request.body)
    verify_signature(hook.secret, request.body, h)
    assert request.event["type"] == "mrg.version.created" and request.event["id"] == delivery.event_id
    assert [(a.attempt, a.status_code, a.error) for a in delivery.log] == [(1, 204, None)]
    assert delivery.log[0].latency_ms is not None and delivery.log[0].latency_ms > 0


def test_server_errors_are_retried_with_growing_backoff_and_the_same_id(sqlite_store: Store, receiver: Receiver) -> None:
    receiver.script = [(500, {}), (502, {}), (500, {})]
    hook = subscribe(sqlite_store, receiver.url)
    settings = dataclasses.replace(FAST, backoff_base_s=0.1, backoff_cap_s=1.0)
    worker = DeliveryWorker(sqlite_store, settings)
    worker.start()
    try:
        record_version_created(sqlite_store)
        requests = receiver.wait_for(4)
        [delivery] = eventually(lambda: _settled(sqlite_store, hook.id, "succeeded"))
    finally:
        worker.stop()
    assert len({r.headers["webhook-id"] for r in requests}) == 1  # receivers dedupe on it
    for r in requests:  # every attempt is signed afresh, and verifies
        verify_signature(hook.secret, r.body, r.headers)
    assert [a.status_code for a in delivery.log] == [500, 502, 500, 204]
    waits = [a.retry_in_s for a in delivery.log[:3]]
    # equal jitter: the n-th wait lies in [base*2^(n-1)/2, base*2^(n-1)]
    for n, wait in enumerate(waits):
        ceiling = 0.1 * 2**n
        assert wait is not None and ceiling / 2 <= wait <= ceiling
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:], strict=False)]
    assert all(gap >= w - 0.02 for gap, w in zip(gaps, waits, strict=True))


def test_429_waits_at_least_retry_after(sqlite_store: Store, receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "1"})]
    hook = subscribe(sqlite_store, receiver.url)
    worker = DeliveryWorker(sqlite_store, FAST)  # backoff alone would retry after ~50 ms
    worker.start()
    try:
        record_version_created(sqlite_store)
        first, second = receiver.wait_for(2)
        [delivery] = eventually(lambda: _settled(sqlite_store, hook.id, "succeeded"))
    finally:
        worker.stop()
    assert second.at - first.at >= 1.0
    assert delivery.log[0].status_code == 429 and delivery.log[0].retry_in_s == pytest.approx(1.0, abs=0.01)


def test_gives_up_after_max_attempts_and_keeps_the_log(sqlite_store: Store, receiver: Receiver) -> None:
    receiver.default = 500
    hook = subscribe(sqlite_store, receiver.url)
    worker = DeliveryWorker(sqlite_store, FAST)
    worker.start()
    try:
        record_version_created(sqlite_store)
        [dead] = eventually(lambda: _settled(sqlite_store, hook.id, "dead"))
        assert len(receiver.received) == FAST.max_attempts  # the row's budget was fixed when it was queued
        # An operator can queue a dead delivery again once the receiver is fixed.
        receiver.default = 200
        subscriptions.retry(sqlite_store, hook.id, dead.id, max_attempts=2)
        worker.wake()
        [done] = eventually(lambda: _settled(sqlite_store, hook.id, "succeeded"))
    finally:
        worker.stop()
    assert dead.attempts == FAST.max_attempts and dead.last_status == 500 and dead.last_error == "HTTP 500"
    assert [a.status_code for a in done.log] == [500] * FAST.max_attempts + [200]


def test_unreachable_receiver_is_logged_as_an_error_not_a_status(sqlite_store: Store, receiver: Receiver) -> None:
    url = receiver.url
    receiver.close()  # nothing listens there any more
    hook = subscribe(sqlite_store, url)
    worker = DeliveryWorker(sqlite_store, dataclasses.replace(FAST, max_attempts=1))
    worker.start()
    try:
        record_version_created(sqlite_store)
        [dead] = eventually(lambda: _settled(sqlite_store, hook.id, "dead"))
    finally:
        worker.stop()
    assert dead.log[0].status_code is None and "ConnectError" in (dead.log[0].error or "")
    assert hook.secret not in (dead.log[0].error or "")


def test_settings_come_from_the_environment_and_retry_after_may_be_a_date() -> None:
    import email.utils
    import random
    import time

    from gateway.events.delivery import parse_retry_after
    from gateway.events.settings import DeliverySettings

    settings = DeliverySettings.from_env({"MRG_WEBHOOK_MAX_ATTEMPTS": "3", "MRG_WEBHOOK_BACKOFF_BASE_S": "2"})
    assert settings.max_attempts == 3 and settings.backoff_base_s == 2.0 and settings.timeout_s == 10.0
    with pytest.raises(ValueError, match="MRG_WEBHOOK_MAX_ATTEMPTS"):
        DeliverySettings.from_env({"MRG_WEBHOOK_MAX_ATTEMPTS": "many"})
    rng = random.Random(7)
    assert all(1.0 <= settings.backoff(1, rng=rng) <= 2.0 for _ in range(50))
    assert all(settings.backoff_cap_s / 2 <= settings.backoff(40, rng=rng) <= settings.backoff_cap_s for _ in range(50))
    assert settings.backoff(1, retry_after=120, rng=rng) == 120
    assert settings.backoff(1, retry_after=10**9, rng=rng) == settings.retry_after_cap_s
    now = time.time()
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None and parse_retry_after("7") == 7.0
