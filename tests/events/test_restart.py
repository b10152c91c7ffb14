"""Nothing recorded is lost: a delivery still pending when the gateway stops goes out after it starts again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.api import create_app
from gateway.config import AuthConfig, GatewayConfig
from gateway.core import Mutation
from gateway.events import verify_signature
from tests.events.conftest import FAST, eventually
from tests.events.receiver import Receiver


def _app(root: Path, database_url: str | None = None):  # type: ignore[no-untyped-def]
    # No registries needed: events come from Gateway.record, the path every mutation takes.
    app = create_app(GatewayConfig(data_dir=str(root), database_url=database_url, auth=AuthConfig(anonymous_role="admin")))
    app.state.event_settings = dataclasses.replace(FAST, max_attempts=100)
    return app


def _finished(job: str) -> Mutation:
    return Mutation(actor="alice", action="migration.finished", registry="other", target=f"migration:{job}",
                    before=None, after={"job_id": job, "state": "succeeded"}, request_id=None)


def test_pending_delivery_survives_a_restart_and_still_verifies(tmp_path: Path, database_url: str,
                                                                receiver: Receiver) -> None:
    receiver.default = 503  # the receiver is down for as long as the first gateway runs
    with TestClient(_app(tmp_path, database_url)) as first:
        hook = first.post("/v1/webhooks", json={"url": receiver.url}).json()
        first.app.state.gateway.record(_finished("j1"))  # type: ignore[attr-defined]
        failed = receiver.wait_for(2)  # tried, failed, retried: still pending
    with TestClient(_app(tmp_path, database_url)) as second:  # a new gateway on the same store
        [row] = second.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
        assert row["state"] == "pending"
        receiver.default = 204  # the receiver comes back while the gateway is up again
        done = eventually(lambda: [d for d in second.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
                                   if d["state"] == "succeeded"])
    delivered = receiver.received[-1]
    assert delivered.headers["webhook-id"] == failed[0].headers["webhook-id"] == done[0]["id"]
    verify_signature(hook["secret"], delivered.body, delivered.headers)
    assert delivered.event["type"] == "mrg.migration.finished" and delivered.event["data"]["job_id"] == "j1"
    assert done[0]["log"][-1]["status_code"] == 204 and all(a["status_code"] == 503 for a in done[0]["log"][:-1])


def test_events_recorded_with_no_worker_running_wait_in_the_outbox(tmp_path: Path, receiver: Receiver) -> None:
    """A gateway that records but never delivers (stopped at once) leaves the rows for the next one."""
    app = _app(tmp_path)
    app.state.event_settings = dataclasses.replace(FAST, poll_interval_s=60, max_attempts=100)
    with TestClient(app) as first:
        hook = first.post("/v1/webhooks", json={"url": receiver.url}).json()
        first.app.state.events.worker.stop()  # type: ignore[attr-defined]  # simulate a worker that died
        first.app.state.gateway.record(_finished("j2"))  # type: ignore[attr-defined]
        assert receiver.received == []
    with TestClient(_app(tmp_path)):
        [request] = receiver.wait_for(1)
    verify_signature(hook["secret"], request.body, request.headers)
    assert request.event["data"]["job_id"] == "j2"
