"""The Python client against a real gateway (uvicorn, real MLflow): typed results, the error taxonomy, webhooks."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.api.bodies import SearchPage
from gateway.client import GatewayInternalError, MrgClient
from gateway.events import verify_signature
from mapping.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited, Unavailable, Unsupported
from mapping.schema import Model, ModelVersion
from tests.events.conftest import FAST, eventually
from tests.events.live import KEYS, LiveGateway, api_keys_env, serve, two_mlflow_config
from tests.events.receiver import Receiver

pytestmark = pytest.mark.xdist_group("events-live-gateway")  # one uvicorn + MLflow per run, not per worker


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    mp = pytest.MonkeyPatch()
    mp.setenv("MRG_API_KEYS", api_keys_env())
    try:
        gateway = serve(two_mlflow_config(tmp_path_factory.mktemp("client")), FAST)
        yield gateway
        gateway.stop()
    finally:
        mp.undo()


@pytest.fixture
def admin(live: LiveGateway) -> Iterator[MrgClient]:
    with MrgClient(live.url, api_key=KEYS["admin"]) as client:
        yield client


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:8]}"


def test_models_versions_files_aliases_approval_stage_round_trip(admin: MrgClient, tmp_path: Path) -> None:
    name = _name()
    model = admin.create_model("local", name, description="fraud scorer", tags={"team": "risk"})
    assert isinstance(model, Model) and model.tags == {"team": "risk"}
    on_disk = tmp_path / "weights.bin"
    on_disk.write_bytes(b"\x00w" * 300_000)
    created = admin.create_version("local", name, {"description": "first", "metrics": {"auc": 0.9}},
                                   files={"model/weights.bin": on_disk, "model/config.json": b'{"depth": 6}'})
    assert isinstance(created, ModelVersion) and created.metrics == {"auc": 0.9}
    v = created.version

    files = {f.path: f for f in admin.list_artifacts("local", name, v)}
    assert files["model/weights.bin"].sha256 == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    with admin.open_artifact("local", name, v, "model/config.json") as chunks:
        assert b"".join(chunks) == b'{"depth": 6}'
    copy = admin.download_artifact("local", name, v, "model/weights.bin", tmp_path / "out" / "w.bin")
    assert copy.read_bytes() == on_disk.read_bytes()

    assert admin.set_alias("local", name, "champion", v).aliases == {"champion": v}
    approved = admin.set_approval("local", name, v, "APPROVED", comment="ship it")
    assert approved.approval.status == "APPROVED" and approved.approval.by == "admin-user"
    assert admin.set_stage("local", name, v, "PRODUCTION").stage == "PRODUCTION"
    assert admin.update_version("local", name, v, {"tags": {"data": "q3"}}).tags == {"data": "q3"}
    assert admin.update_model("local", name, tags={"tier": "1"}).tags == {"team": "risk", "tier": "1"}
    assert [x.version for x in admin.iter_versions("local", name)] == [v]
    assert admin.get_version("local", name, v).aliases == ["champion"]
    assert admin.delete_alias("local", name, "champion").aliases == {}

    found = admin.search_models(q=name)
    assert isinstance(found, SearchPage) and [m.name for m in found.items] == [name] and not found.partial
    assert [m.name for m in admin.iter_search(tags={"tier": "1"}) if m.name == name] == [name]
    assert name in [m.name for m in admin.iter_models("local", prefix=name)]
    actions = [e.action for e in admin.iter_audit() if name in (e.target or "")]
    assert actions[:3] == ["model.create", "version.create", "alias.set"]

    admin.delete_version("local", name, v)
    admin.delete_model("local", name)
    with pytest.raises(NotFound) as missing:
        admin.get_model("local", name)
    assert missing.value.http_status == 404 and name in missing.value.message


def test_errors_arrive_as_the_taxonomy(live: LiveGateway, admin: MrgClient) -> None:
    with pytest.raises(NotFound):
        admin.registry("nowhere")
    with pytest.raises(InvalidInput) as bad:
        admin.create_model("local", "")
    assert bad.value.field == "name"
    with MrgClient(live.url, api_key=KEYS["viewer"]) as viewer:
        assert viewer.registries(health=False)[0].name == "local"
        with pytest.raises(PermissionDenied):
            viewer.create_model("local", _name())
        with pytest.raises(PermissionDenied):
            viewer.list_webhooks()
    with MrgClient(live.url, api_key="not-a-key") as stranger, pytest.raises(PermissionDenied):
        stranger.registries()


def test_throttling_is_retried_after_retry_after_and_creates_are_never_resent() -> None:
    """Against a scripted transport: the client's own retry rules, not the gateway's."""
    answers = [httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"kind": "rate_limited",
               "message": "slow down", "registry": "local", "details": {}}}),
               httpx.Response(200, json={"items": [], "next_token": None})]
    posts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.url.path)
            return httpx.Response(503, headers={"Retry-After": "7"}, json={"error": {
                "kind": "unavailable", "message": "backend down", "registry": "local", "details": {}}})
        return answers.pop(0)

    slept: list[float] = []
    with MrgClient("http://gateway.test", transport=httpx.MockTransport(handler), sleep=slept.append) as client:
        assert client.list_models("local").items == []
        assert slept == [2.0]
        with pytest.raises(Unavailable) as down:
            client.create_model("local", "x")
    assert down.value.retry_after == 7.0 and down.value.registry == "local" and len(posts) == 1

    always_429 = httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "1"},
                                                              json={"error": {"kind": "rate_limited", "message": "no"}}))
    slept.clear()
    with (MrgClient("http://gateway.test", transport=always_429, sleep=slept.append, max_retries=2) as client,
          pytest.raises(RateLimited) as limited):
        client.get_model("local", "m")
    assert slept == [1.0, 1.0] and limited.value.retry_after == 1.0


def test_webhook_lifecycle_through_the_client(live: LiveGateway, admin: MrgClient, receiver: Receiver,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = _name()
    hook = admin.create_webhook(receiver.url, model=name, description="ci trigger")
    assert hook.secret.startswith("whsec_") and hook.model == name
    listed = httpx.get(f"{live.url}/v1/webhooks", headers={"Authorization": f"Bearer {KEYS['admin']}"})
    assert hook.id in listed.text and hook.secret not in listed.text and "secret" not in listed.text
    assert "secret" not in admin.get_webhook(hook.id).model_dump()
    assert {t.type for t in admin.event_types()} >= {"mrg.version.created", "mrg.alias.moved", "mrg.migration.finished"}

    ping = admin.test_webhook(hook.id)
    assert ping.state == "succeeded" and ping.log[0].status_code == 204 and ping.event_type == "mrg.webhook.ping"

    admin.create_model("local", name, tags={"team": "risk"})
    admin.create_model("local", _name())  # another model: filtered out by the subscription
    v = admin.create_version("local", name, {"description": "first"}).version
    admin.set_alias("local", name, "champion", v)
    admin.set_approval("local", name, v, "APPROVED", comment="ok")
    admin.set_stage("local", name, v, "STAGING")
    admin.update_version("local", name, v, {"tags": {"data": "q3"}})
    admin.update_version("local", name, v, {"description": "only words"})  # no tag change, no event
    admin.update_model("local", name, tags={"tier": "1"})
    expected = ["mrg.webhook.ping", "mrg.model.created", "mrg.version.created", "mrg.alias.moved",
                "mrg.version.approval_changed", "mrg.version.stage_changed", "mrg.version.tags_changed",
                "mrg.model.tags_changed"]
    requests = receiver.wait_for(len(expected))
    assert sorted(r.event["type"] for r in requests) == sorted(expected)
    for r in requests:
        verify_signature(hook.secret, r.body, r.headers)
        event = r.event
        assert {"specversion", "id", "source", "type", "time", "datacontenttype", "data"} <= event.keys()
    by_type = {r.event["type"]: r.event for r in requests}
    assert by_type["mrg.alias.moved"]["data"].items() >= {"alias": "champion", "from_version": None, "to_version": v}.items()
    assert by_type["mrg.version.approval_changed"]["data"]["to"]["by"] == "admin-user"
    assert by_type["mrg.version.created"]["subject"] == f"mrg://local/{name}/versions/{v}"

    log = eventually(lambda: (d := admin.webhook_deliveries(hook.id)) and all(x.state == "succeeded" for x in d) and d)
    assert len(log) == len(expected) and all(d.log[-1].status_code == 204 for d in log)

    # Rotation: a new secret shown once; during the overlap a delivery verifies with either secret.
    rotated = admin.rotate_webhook_secret(hook.id, overlap_s=600)
    assert rotated.secret.startswith("whsec_") and rotated.secret != hook.secret
    assert admin.get_webhook(hook.id).signing_overlap_until == rotated.signing_overlap_until is not None
    assert admin.test_webhook(hook.id).state == "succeeded"
    ping_after = receiver.wait_for(len(expected) + 1)[-1]
    verify_signature(rotated.secret, ping_after.body, ping_after.headers)
    verify_signature(hook.secret, ping_after.body, ping_after.headers)

    admin.delete_webhook(hook.id)
    admin.update_model("local", name, tags={"tier": "2"})
    with pytest.raises(NotFound):
        admin.webhook_deliveries(hook.id)
    for secret in (hook.secret, rotated.secret):
        assert secret not in caplog.text
        assert all(secret not in json.dumps(e.model_dump(mode="json")) for e in admin.iter_audit())
    assert len(receiver.received) == len(expected) + 1


def test_migration_through_the_client_announces_its_end(admin: MrgClient, receiver: Receiver) -> None:
    name = _name()
    hook = admin.create_webhook(receiver.url, event_types=["mrg.migration.*"])
    admin.create_model("local", name)
    admin.create_version("local", name, {"description": "to copy"}, files={"w.bin": b"weights"})
    plan = admin.plan_migration(f"local/{name}", "other")
    assert [m.source for m in plan.models] == [name]
    started = admin.start_migration(f"local/{name}", "other", job_id=f"job-{name}")
    done = admin.wait_migration(started.job_id, timeout=60, poll=0.1)
    assert done.state == "succeeded" and admin.verify_migration(done.job_id)["ok"] is True
    [request] = receiver.wait_for(1)
    verify_signature(hook.secret, request.body, request.headers)
    assert request.event["type"] == "mrg.migration.finished"
    assert request.event["data"].items() >= {"job_id": f"job-{name}", "state": "succeeded", "source": "local",
                                            "target": "other"}.items()
    admin.delete_webhook(hook.id)


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(500, json={"error": {"kind": "internal", "message": "internal error",
                                         "details": {"request_id": "r-1"}}}), GatewayInternalError),
    (httpx.Response(502, text="<html>bad gateway</html>"), Unavailable),
    (httpx.Response(409, json={"error": {"kind": "conflict", "message": "taken", "registry": "local",
                                         "details": {"field": "name"}}}), Conflict),
    (httpx.Response(422, json={"error": {"kind": "unsupported", "message": "no aliases here"}}), Unsupported),
])
def test_error_bodies_and_bare_statuses_map_to_the_taxonomy(response: httpx.Response, expected: type) -> None:
    transport = httpx.MockTransport(lambda r: response)
    with MrgClient("http://gateway.test", transport=transport, max_retries=0) as client, \
            pytest.raises(expected) as caught:
        client.get_model("local", "m")
    assert caught.value.message
    if expected is GatewayInternalError:
        assert caught.value.details["request_id"] == "r-1" and not caught.value.retryable
    if expected is Conflict:
        assert caught.value.field == "name" and caught.value.registry == "local"
