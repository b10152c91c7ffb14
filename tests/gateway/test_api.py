"""The REST API over a real MLflow registry: what a user does, and what they get back."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

BASE = "/v1/registries/local"


def _model(client: TestClient) -> str:
    name = f"api-{uuid.uuid4().hex[:8]}"
    assert client.post(f"{BASE}/models", json={"name": name, "description": "d", "tags": {"team": "risk"}}).status_code == 201
    return name


def test_registries_list_local_mlflow_with_capabilities(client: TestClient) -> None:
    body = client.get("/v1/registries").json()
    [local] = body["items"]
    assert local["name"] == "local" and local["kind"] == "mlflow"
    assert local["capabilities"]["aliases_native"] is True
    assert local["capabilities"]["fidelity"]["approval"] == "envelope"
    assert local["health"]["ok"] is True


def test_version_written_through_api_reads_back_identically_natively(client: TestClient, gateway_root: Path) -> None:
    """Nothing siloed: what the gateway writes, MlflowClient sees as tags, aliases, run data and files."""
    from mlflow import MlflowClient

    name = _model(client)
    weights = b"\x00\x01weights" * 5000
    spec = {
        "description": "candidate", "tags": {"data": "2026-q3"}, "stage": "STAGING",
        "approval": {"status": "PENDING", "by": "alice", "comment": "needs review"},
        "metrics": {"auc": 0.91}, "params": {"depth": "6"},
        "lineage": {"datasets": [{"uri": "s3://d/train.csv", "digest": "d1g3st", "name": "train"}],
                    "parents": [{"uri": "mrg://hub/base/versions/1", "relation": "fine-tune"}]},
        "model_card": "# Card\n",
    }
    created = client.post(f"{BASE}/models/{name}/versions", data={"spec": json.dumps(spec)},
                          files=[("files", ("model/weights.bin", weights))])
    assert created.status_code == 201, created.text
    v = created.json()["version"]
    assert client.put(f"{BASE}/models/{name}/aliases/champion", json={"version": v}).status_code == 200
    approved = client.put(f"{BASE}/models/{name}/versions/{v}/approval", json={"status": "APPROVED", "comment": "ship it"})
    assert approved.status_code == 200

    via_api = client.get(f"{BASE}/models/{name}/versions/{v}").json()
    assert via_api["description"] == "candidate" and via_api["tags"] == {"data": "2026-q3"}
    assert via_api["stage"] == "STAGING" and via_api["aliases"] == ["champion"]
    assert via_api["approval"]["status"] == "APPROVED" and via_api["approval"]["comment"] == "ship it"
    assert via_api["metrics"] == {"auc": 0.91} and via_api["params"] == {"depth": "6"}
    assert via_api["lineage"]["parents"] == spec["lineage"]["parents"]  # type: ignore[index]
    assert via_api["model_card"] == "# Card\n"
    files = client.get(f"{BASE}/models/{name}/versions/{v}/artifacts").json()
    assert files == [{"path": "model/weights.bin", "size": len(weights), "sha256": hashlib.sha256(weights).hexdigest()}]
    assert client.get(f"{BASE}/models/{name}/versions/{v}/artifacts/model/weights.bin").content == weights

    native = MlflowClient(tracking_uri=f"sqlite:///{gateway_root / 'mlflow.db'}")
    mv = native.get_model_version(name, v)
    assert mv.description == "candidate"
    assert mv.tags["data"] == "2026-q3"
    assert json.loads(mv.tags["mrg.approval"])["status"] == "APPROVED"
    assert mv.tags["mrg.stage"] == "STAGING"
    assert native.get_registered_model(name).aliases == {"champion": int(v)}
    run = native.get_run(mv.run_id)
    assert run.data.metrics == {"auc": 0.91} and run.data.params == {"depth": "6"}
    assert [d.dataset.digest for d in run.inputs.dataset_inputs] == ["d1g3st"]
    local = native.download_artifacts(mv.run_id, "model/model/weights.bin", str(gateway_root / f"dl-{v}"))
    assert Path(local).read_bytes() == weights


def test_model_names_with_slashes_route(client: TestClient) -> None:
    # MLflow forbids '/', so the gateway must route the name to the adapter and answer its rule.
    response = client.get(f"{BASE}/models/acme/bert-base/versions")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "name"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("get", "/v1/registries/nope/models", None, 404, "registry"),
        ("put", "{model}/aliases/latest", {"version": "1"}, 400, "alias"),
        ("put", "{model}/aliases/v3", {"version": "1"}, 400, "alias"),
        ("put", "{model}/aliases/champion", {}, 400, "version"),
        ("post", f"{BASE}/models", {"name": "x", "tags": {"k": "v" * 6000}}, 400, "tags.k"),
        ("post", f"{BASE}/models", {"name": ""}, 400, "name"),
        ("put", "{model}/versions/1/stage", {"stage": "LIVE"}, 400, "stage"),
        ("get", "{model}/versions/99", None, 404, None),
        ("get", "{model}/versions/abc", None, 400, "version"),
        ("post", "{model}/versions", {"version": "9"}, 422, "version"),
        ("post", "{model}/versions", {"tags": {"mrg.stage": "PRODUCTION"}}, 400, "tags.mrg.stage"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_field(
    client: TestClient, method: str, path: str, body: dict | None, status: int, field: str | None  # type: ignore[type-arg]
) -> None:
    name = _model(client)
    client.post(f"{BASE}/models/{name}/versions", json={})
    url = path.replace("{model}", f"{BASE}/models/{name}")
    response = client.request(method, url, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["kind"] and error["message"]
    if field:
        assert error["details"].get("field") == field or field in error["message"]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(f"{BASE}/models", content=b'{"name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "body"
    name = _model(client)
    response = client.post(f"{BASE}/models/{name}/versions", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_failed_create_leaves_no_version(client: TestClient) -> None:
    name = _model(client)
    response = client.post(f"{BASE}/models/{name}/versions", json={"stage": "NOPE"})
    assert response.status_code == 400
    assert client.get(f"{BASE}/models/{name}/versions").json()["items"] == []


def test_alias_moves_and_deletes(client: TestClient) -> None:
    name = _model(client)
    v1 = client.post(f"{BASE}/models/{name}/versions", json={}).json()["version"]
    v2 = client.post(f"{BASE}/models/{name}/versions", json={}).json()["version"]
    client.put(f"{BASE}/models/{name}/aliases/prod", json={"version": v1})
    assert client.put(f"{BASE}/models/{name}/aliases/prod", json={"version": v2}).json()["aliases"] == {"prod": v2}
    assert client.delete(f"{BASE}/models/{name}/aliases/prod").json()["aliases"] == {}
    assert client.delete(f"{BASE}/models/{name}/aliases/prod").status_code == 404


def test_federated_search_filters_and_pages(client: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    names = sorted(_model(client) for _ in range(3))
    for n in names:
        client.patch(f"{BASE}/models/{n}", json={"tags": {"batch": tag}})
    first = client.get("/v1/models", params={"tag": f"batch={tag}", "limit": 2}).json()
    assert first["partial"] is False and first["errors"] == []
    second = client.get("/v1/models", params={"tag": f"batch={tag}", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [m["name"] for m in first["items"] + second["items"]] == names
    assert second["next_cursor"] is None
    assert client.get("/v1/models", params={"q": names[0][4:]}).json()["items"][0]["name"] == names[0]
    assert client.get("/v1/models", params={"cursor": "garbage"}).status_code == 400


def test_mutations_are_audited(client: TestClient) -> None:
    name = _model(client)
    v = client.post(f"{BASE}/models/{name}/versions", json={}).json()["version"]
    client.put(f"{BASE}/models/{name}/versions/{v}/stage", json={"stage": "PRODUCTION"})
    events = client.get("/v1/audit", params={"limit": 1000}).json()["items"]
    stage = [e for e in events if e["action"] == "version.stage" and e["target"].endswith(f"/{name}/versions/{v}")]
    assert len(stage) == 1
    assert stage[0]["before"]["stage"] == "NONE" and stage[0]["after"]["stage"] == "PRODUCTION"
    assert stage[0]["actor"] == "anonymous"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/registries/{registry}/models/{model}/versions/{version}" in spec["paths"]
