"""The store runs on SQLite and PostgreSQL alike: schema by Alembic, a tamper-evident audit log."""

from __future__ import annotations

import threading

from sqlalchemy import text

from gateway.store import Store
from gateway.store.db import head_revisions


def test_schema_is_created_and_upgrades_idempotently(database_url: str) -> None:
    Store(database_url).close()
    store = Store(database_url)  # a second open finds the schema current and changes nothing
    with store.session() as s:
        assert set(s.execute(text("SELECT version_num FROM alembic_version")).scalars()) == head_revisions()
    store.close()


def test_audit_chain_detects_edits_and_deletes(database_url: str) -> None:
    store = Store(database_url)
    for i in range(4):
        store.record(actor="alice", action="version.stage", registry="local", target=f"mrg://local/m/versions/{i}",
                     before={"stage": "NONE"}, after={"stage": "PRODUCTION"}, request_id=f"r{i}")
    assert store.verify_audit() == []
    events = store.audit_events()
    assert [e.target for e in events] == [f"mrg://local/m/versions/{i}" for i in range(4)]
    assert events[1].prev_hash == events[0].hash

    with store.session() as s:
        s.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": events[1].id})
    problems = store.verify_audit()
    assert any(f"event {events[1].id}" in p and "edited" in p for p in problems)

    with store.session() as s:
        s.execute(text("UPDATE audit_events SET actor = 'alice' WHERE id = :id"), {"id": events[1].id})
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[2].id})
    problems = store.verify_audit()
    assert any(f"event {events[3].id}" in p and "deleted" in p for p in problems)
    store.close()


def test_concurrent_appends_keep_one_chain(database_url: str) -> None:
    store = Store(database_url)

    def append(n: int) -> None:
        for i in range(10):
            store.record(actor=f"w{n}", action="model.update", target=str(i))

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.audit_events(limit=1000)) == 40
    assert store.verify_audit() == []
    store.close()
