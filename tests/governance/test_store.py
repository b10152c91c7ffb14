"""The governance tables on SQLite and PostgreSQL: schema heads, the full approval and rollback
flow through the API, and concurrent writers (one open request per version, one decision)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import inspect

from gateway.store import Store
from gateway.store.db import head_revisions
from tests.governance.conftest import Secured, start_secured

BASE = "/v1/registries/local/models"


@pytest.fixture
def on_database(tmp_path: Path, database_url: str) -> Iterator[Secured]:
    yield from start_secured(tmp_path, database_url=database_url)


def test_schema_has_the_governance_revision_and_tables(database_url: str) -> None:
    assert "0003" in head_revisions()
    store = Store(database_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {"api_keys", "approval_requests", "approval_votes", "pointer_changes"} <= tables
        with store.engine.connect() as conn:
            from sqlalchemy import text

            versions = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        assert versions == head_revisions()
    finally:
        store.close()


def test_approve_promote_rollback_flow(on_database: Secured) -> None:
    s = on_database
    model = s.model(versions=2)
    opened = s.call("editor", "POST", f"{BASE}/{model}/versions/2/approval-requests", {"comment": "v2"}).json()
    assert s.call("editor", "POST", f"/v1/approval-requests/{opened['id']}/approve", {}).status_code == 403
    assert s.call("approver", "POST", f"/v1/approval-requests/{opened['id']}/approve", {}).json()["status"] == "APPROVED"
    s.call("approver", "POST", f"{BASE}/{model}/promote", {"alias": "prod", "version": "1"})
    s.call("approver", "POST", f"{BASE}/{model}/promote", {"alias": "prod", "version": "2"})
    assert s.call("approver", "POST", f"{BASE}/{model}/rollback", {"alias": "prod"}).json()["version"] == "1"
    timeline = s.call("viewer", "GET", "/v1/registries/local/history",
                      params={"model": model, "alias": "prod"}).json()["timeline"]
    assert [t["version"] for t in timeline] == ["1", "2", "1"]
    assert s.gateway.store.verify_audit() == []


def test_concurrent_requests_open_one_and_concurrent_votes_decide_once(on_database: Secured) -> None:
    s = on_database
    model = s.model("gated")  # two approvers needed
    url = f"{BASE}/{model}/versions/1/approval-requests"
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(lambda who: s.call(who, "POST", url, {}).status_code,
                                ["editor", "editor2", "editor", "editor2"]))
    assert codes == [201, 409, 409, 409]
    request_id = s.call("viewer", "GET", "/v1/approval-requests", params={"model": model}).json()["items"][0]["id"]
    voters = ["approver", "approver2", "admin"]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda who: s.call(who, "POST", f"/v1/approval-requests/{request_id}/approve", {}),
                                voters))
    statuses = sorted(r.status_code for r in results)
    final = s.call("viewer", "GET", f"/v1/approval-requests/{request_id}").json()
    assert final["status"] == "APPROVED" and final["applied"]
    assert len(final["votes"]) in (2, 3) and statuses.count(200) == len(final["votes"])
    decisions = [e for e in s.call("admin", "GET", "/v1/audit", params={"limit": 1000}).json()["items"]
                 if e["action"] == "approval.approve" and model in e["target"]]
    assert len(decisions) == 1
