"""The outbox on SQLite and PostgreSQL: a recorded change always has its deliveries, filtered as asked."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func, select

from gateway.events import subscriptions
from gateway.events.cloudevents import events_for
from gateway.events.outbox import attach
from gateway.events.tables import WebhookDelivery
from gateway.events.worker import claim
from gateway.store import Store
from gateway.store.models import AuditEvent
from tests.events.helpers import record_version_created, subscribe, version


def _deliveries(store: Store) -> list[WebhookDelivery]:
    with store.session() as s:
        return list(s.execute(select(WebhookDelivery).order_by(WebhookDelivery.created_at)).scalars())


def _audit_count(store: Store) -> int:
    with store.session() as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_recorded_event_and_its_deliveries_commit_in_one_transaction(database_url: str) -> None:
    store = Store(database_url)
    attach(store, max_attempts=3)
    a = subscribe(store, "http://127.0.0.1:9/a")
    b = subscribe(store, "http://127.0.0.1:9/b")

    record_version_created(store)
    rows = _deliveries(store)
    [audit] = [e for e in store.audit_events() if e.action == "version.create"]
    assert sorted(r.subscription_id for r in rows) == sorted([a.id, b.id])
    assert {r.audit_id for r in rows} == {audit.id} and len({r.event_id for r in rows}) == 1
    body = json.loads(rows[0].payload)
    assert body["specversion"] == "1.0" and body["type"] == "mrg.version.created"
    assert body["subject"] == "mrg://local/fraud/versions/1" and body["source"] == "/v1/registries/local"
    assert body["mrgauditid"] == str(audit.id) and body["data"]["actor"] == "alice"

    # A failure later in the same transaction takes the audit event and the deliveries with it.
    def explode(_session: object, _row: AuditEvent) -> None:
        raise RuntimeError("crash after the outbox rows were written")

    store.on_record.append(explode)
    events_before = _audit_count(store)
    with pytest.raises(RuntimeError):
        record_version_created(store, v="2")
    assert _audit_count(store) == events_before
    assert len(_deliveries(store)) == 2
    store.close()


def test_filters_on_type_registry_and_model_globs(database_url: str) -> None:
    store = Store(database_url)
    attach(store, max_attempts=3)
    every = subscribe(store, "http://127.0.0.1:9/every")
    created_only = subscribe(store, "http://127.0.0.1:9/created", event_types=["mrg.version.created"])
    alias_family = subscribe(store, "http://127.0.0.1:9/alias", event_types=["mrg.alias.*"])
    prod_fraud = subscribe(store, "http://127.0.0.1:9/prod", registry="prod-*", model="fraud*")

    record_version_created(store, model="fraud-v2", registry="prod-mlflow")
    record_version_created(store, model="churn", registry="prod-mlflow")
    record_version_created(store, model="fraud", registry="dev")
    store.record(actor="bob", action="alias.set", registry="dev", target="mrg://dev/fraud@champion",
                 before={"name": "fraud", "aliases": {}}, after={"name": "fraud", "aliases": {"champion": "1"}})

    got: dict[str, list[str]] = {}
    for row in _deliveries(store):
        event = json.loads(row.payload)
        got.setdefault(row.subscription_id, []).append(f"{event['type']}:{event['data']['registry']}/{event['data']['model']}")
    assert got[every.id] == ["mrg.version.created:prod-mlflow/fraud-v2", "mrg.version.created:prod-mlflow/churn",
                             "mrg.version.created:dev/fraud", "mrg.alias.moved:dev/fraud"]
    assert got[created_only.id] == got[every.id][:3]
    assert got[alias_family.id] == ["mrg.alias.moved:dev/fraud"]
    assert got[prod_fraud.id] == ["mrg.version.created:prod-mlflow/fraud-v2"]
    store.close()


def _row(action: str, before: dict | None, after: dict | None, target: str = "mrg://local/fraud/versions/1") -> AuditEvent:  # type: ignore[type-arg]
    return AuditEvent(id=7, actor="alice", action=action, registry_name="local", target=target,
                      before=before, after=after, request_id=None)


def test_event_types_come_from_what_actually_changed() -> None:
    untagged, tagged = version("fraud", "1"), version("fraud", "1", tags={"team": "risk", "tier": "1"})
    described = version("fraud", "1", description="new words")
    assert [e.type for e in events_for(_row("version.update", untagged, tagged))] == ["mrg.version.tags_changed"]
    assert events_for(_row("version.update", untagged, described)) == []  # a description edit is not a tag change
    [retag] = events_for(_row("version.update", tagged, version("fraud", "1", tags={"team": "ops", "new": "x"})))
    assert retag.data["tags"]["added"] == {"new": "x"} and retag.data["tags"]["removed"] == ["tier"]
    assert retag.data["tags"]["changed"] == {"team": {"from": "risk", "to": "ops"}}

    model_tags = events_for(_row("model.update", {"name": "fraud", "tags": {}}, {"name": "fraud", "tags": {"a": "b"}},
                                 target="mrg://local/fraud"))
    assert [e.type for e in model_tags] == ["mrg.model.tags_changed"]

    staged = events_for(_row("version.stage", untagged, version("fraud", "1", stage="PRODUCTION")))
    assert [(e.type, e.data["from"], e.data["to"]) for e in staged] == [("mrg.version.stage_changed", "NONE", "PRODUCTION")]
    assert events_for(_row("version.stage", untagged, untagged)) == []

    approved = version("fraud", "1", approval={"status": "APPROVED", "by": "carol", "comment": "ok"})
    [approval] = events_for(_row("version.approval", untagged, approved))
    assert approval.type == "mrg.version.approval_changed" and approval.data["to"]["by"] == "carol"

    moved = events_for(_row("alias.set", {"name": "fraud", "aliases": {"champion": "1"}},
                            {"name": "fraud", "aliases": {"champion": "2"}}, target="mrg://local/fraud@champion"))
    assert [(e.type, e.data["alias"], e.data["from_version"], e.data["to_version"]) for e in moved] == [
        ("mrg.alias.moved", "champion", "1", "2")]
    removed = events_for(_row("alias.delete", {"name": "fraud", "aliases": {"champion": "2"}},
                              {"name": "fraud", "aliases": {}}, target="mrg://local/fraud@champion"))
    assert removed[0].data["to_version"] is None

    # Governance promote/rollback snapshot pointers as {"model", "aliases"} or {"model", "stages"}.
    promoted = events_for(_row("promote", {"model": "fraud", "aliases": {"champion": "1"}},
                               {"model": "fraud", "aliases": {"champion": "3"}}, target="mrg://local/fraud@champion"))
    assert [(e.type, e.subject, e.data["from_version"], e.data["to_version"], e.data["via"]) for e in promoted] == [
        ("mrg.alias.moved", "mrg://local/fraud@champion", "1", "3", "promote")]
    rolled = events_for(_row("rollback", {"model": "fraud", "stages": {"1": "ARCHIVED", "2": "PRODUCTION"}},
                             {"model": "fraud", "stages": {"1": "PRODUCTION", "2": "ARCHIVED"}},
                             target="mrg://local/fraud@PRODUCTION"))
    assert [(e.type, e.data["version"], e.data["from"], e.data["to"]) for e in rolled] == [
        ("mrg.version.stage_changed", "1", "ARCHIVED", "PRODUCTION"),
        ("mrg.version.stage_changed", "2", "PRODUCTION", "ARCHIVED")]
    requested = events_for(_row("approval.request", untagged, version("fraud", "1", approval={"status": "PENDING"})))
    assert [(e.type, e.data["to"]["status"]) for e in requested] == [("mrg.version.approval_changed", "PENDING")]

    finished = events_for(_row("migration.finished", None, {"job_id": "j1", "state": "succeeded"}, target="migration:j1"))
    assert [(e.type, e.model, e.data["state"]) for e in finished] == [("mrg.migration.finished", None, "succeeded")]
    assert events_for(_row("webhook.create", None, {"id": "wh_1"})) == []


def test_a_crashed_workers_claims_fall_due_again_when_the_lease_ends(database_url: str) -> None:
    store = Store(database_url)
    attach(store, max_attempts=3)
    subscribe(store, "http://127.0.0.1:9/a")
    record_version_created(store)
    [taken] = claim(store, limit=10, lease_s=0.2)  # ... and the worker dies without sending
    assert claim(store, limit=10, lease_s=0.2) == []
    time.sleep(0.3)
    [again] = claim(store, limit=10, lease_s=60)
    assert again.delivery_id == taken.delivery_id and again.payload == taken.payload
    store.close()


def test_replicas_claim_each_delivery_once(database_url: str) -> None:
    """Two stores (two replicas) claiming concurrently never take the same row (SKIP LOCKED / BEGIN IMMEDIATE)."""
    first, second = Store(database_url), Store(database_url)
    attach(first, max_attempts=3)
    subscribe(first, "http://127.0.0.1:9/a")
    for i in range(40):
        record_version_created(first, v=str(i))

    claimed: list[list[str]] = [[], []]

    def drain(store: Store, into: list[str]) -> None:
        while batch := claim(store, limit=3, lease_s=60):
            into.extend(c.delivery_id for c in batch)

    threads = [threading.Thread(target=drain, args=(s, out)) for s, out in zip((first, second), claimed, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = claimed[0] + claimed[1]
    assert len(everything) == 40 and len(set(everything)) == 40
    assert claim(first, limit=10, lease_s=60) == []  # leased rows are not due again until the lease ends
    first.close()
    second.close()


def test_settled_deliveries_are_pruned_after_retention_pending_ones_never(database_url: str) -> None:
    from datetime import timedelta

    from gateway.events.delivery import Outcome, record_outcome
    from gateway.events.settings import DeliverySettings
    from gateway.events.worker import prune

    store = Store(database_url)
    attach(store, max_attempts=3)
    hook = subscribe(store, "http://127.0.0.1:9/a")
    record_version_created(store, v="1")
    record_version_created(store, v="2")
    done, waiting = claim(store, limit=10, lease_s=60)
    record_outcome(store, done.delivery_id, Outcome(204, 1.0, None, None), DeliverySettings())
    assert prune(store, timedelta(days=1)) == 0  # settled just now: kept for the log
    assert prune(store, timedelta(seconds=-1)) == 1  # retention passed
    remaining = subscriptions.deliveries(store, hook.id)
    assert [d.id for d in remaining] == [waiting.delivery_id] and remaining[0].state == "pending"
    store.close()
