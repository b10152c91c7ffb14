"""Rotating a webhook's signing secret without refusing a delivery.

A rotation returns the new secret once; during the overlap every delivery carries a signature
by the new secret and one by the old, so a receiver verifies with either while it switches; after
the overlap (or with none) only the new one signs. Secrets never reach the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gateway.events import subscriptions, verify_signature
from gateway.events.signing import SignatureError
from gateway.events.tables import WebhookSubscription
from gateway.events.worker import DeliveryWorker
from gateway.store import Store
from gateway.store.models import AuditEvent
from mapping.errors import InvalidInput, NotFound
from tests.events.conftest import FAST
from tests.events.helpers import record_version_created, subscribe
from tests.events.receiver import Receiver


def _deliver_one(store: Store, receiver: Receiver, model: str) -> tuple[bytes, dict[str, str]]:
    before = len(receiver.received)
    worker = DeliveryWorker(store, FAST)
    worker.start()
    try:
        record_version_created(store, model=model)
        request = receiver.wait_for(before + 1)[-1]
    finally:
        worker.stop()
    return request.body, dict(request.headers)


def test_both_secrets_sign_during_the_overlap_then_only_the_new(store: Store, receiver: Receiver) -> None:
    hook = subscribe(store, receiver.url)
    rotated = subscriptions.rotate_secret(store, hook.id, actor="admin", overlap_s=3600)
    assert rotated.secret.startswith("whsec_") and rotated.secret != hook.secret
    assert rotated.signing_overlap_until is not None
    assert subscriptions.get(store, hook.id).signing_overlap_until == rotated.signing_overlap_until

    body, headers = _deliver_one(store, receiver, "during")
    assert len(headers["webhook-signature"].split()) == 2
    verify_signature(rotated.secret, body, headers)   # a receiver already switched
    verify_signature(hook.secret, body, headers)      # a receiver not switched yet

    with store.session() as session:  # the overlap ends
        session.execute(update(WebhookSubscription).where(WebhookSubscription.id == hook.id)
                        .values(previous_secret_until=rotated.created_at))
    body, headers = _deliver_one(store, receiver, "after")
    assert len(headers["webhook-signature"].split()) == 1
    verify_signature(rotated.secret, body, headers)
    with pytest.raises(SignatureError):
        verify_signature(hook.secret, body, headers)
    assert subscriptions.get(store, hook.id).signing_overlap_until is not None  # as recorded, in the past


def test_no_overlap_retires_the_old_secret_at_once_and_secrets_stay_out_of_the_audit(store: Store,
                                                                                      receiver: Receiver) -> None:
    hook = subscribe(store, receiver.url)
    rotated = subscriptions.rotate_secret(store, hook.id, actor="admin", overlap_s=0)
    assert rotated.signing_overlap_until is None
    body, headers = _deliver_one(store, receiver, "now")
    verify_signature(rotated.secret, body, headers)
    with pytest.raises(SignatureError):
        verify_signature(hook.secret, body, headers)
    with store.session() as session:
        events = list(session.execute(select(AuditEvent)).scalars())
        recorded = {e.action: json.dumps([e.before, e.after]) for e in events}
    assert "webhook.rotate_secret" in recorded
    assert not any(hook.secret in line or rotated.secret in line for line in recorded.values())


def test_bad_rotations_are_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        hook = subscribe(store, "http://127.0.0.1:9/hook")
        with pytest.raises(InvalidInput) as info:
            subscriptions.rotate_secret(store, hook.id, actor="admin", overlap_s=-1)
        assert info.value.field == "overlap_s"
        with pytest.raises(NotFound):
            subscriptions.rotate_secret(store, "wh_missing", actor="admin", overlap_s=60)
    finally:
        store.close()
