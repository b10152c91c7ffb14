"""``/v1/migrations`` over HTTP: a dry run writes nothing; a run is followed to success and verified."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.base import ArtifactUpload
from gateway.api import create_app
from gateway.config import AuthConfig, GatewayConfig, RegistryConfig
from mapping.schema import VersionSpec
from tests.migration.helpers import mlflow_adapter


def _config(tmp: Path) -> GatewayConfig:
    return GatewayConfig(
        data_dir=str(tmp / "state"), auth=AuthConfig(anonymous_role="admin"),
        registries={name: RegistryConfig(kind="mlflow", tracking_uri=f"sqlite:///{tmp / name / 'mlflow.db'}",  # type: ignore[arg-type]
                                         artifact_location=str(tmp / name / "artifacts")) for name in ("src", "dst")},
    )


def test_dry_run_then_run_then_verify(tmp_path: Path) -> None:
    src = mlflow_adapter("src", tmp_path / "src")
    mlflow_adapter("dst", tmp_path / "dst")
    src.create_model("api-model", description="copied over HTTP")
    for i in range(3):
        src.create_version("api-model", VersionSpec(description=f"v{i}"), [ArtifactUpload.from_bytes("w", b"x" * i)])
    with TestClient(create_app(_config(tmp_path))) as client:
        plan = client.post("/v1/migrations", params={"dry_run": "true"}, json={"source": "src/api-*", "target": "dst"})
        assert plan.status_code == 200
        assert [v["source_version"] for v in plan.json()["models"][0]["versions"]] == ["1", "2", "3"]
        assert client.get("/v1/registries/dst/models/api-model").status_code == 404  # nothing written

        started = client.post("/v1/migrations", json={"source": "src/api-*", "target": "dst", "job_id": "http-1"})
        assert started.status_code == 202
        for _ in range(300):
            status = client.get("/v1/migrations/http-1").json()
            if status["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert status["state"] == "succeeded" and status["items"] == {"created": 3}
        assert client.post("/v1/migrations/http-1/verify").json()["ok"] is True
        copies = client.get("/v1/registries/dst/models/api-model/versions").json()["items"]
        assert [c["description"] for c in copies] == ["v0", "v1", "v2"]


def test_bad_requests_name_the_field(tmp_path: Path) -> None:
    mlflow_adapter("src", tmp_path / "src")
    with TestClient(create_app(_config(tmp_path))) as client:
        assert client.post("/v1/migrations", json={"source": "src", "target": "nope"}).json()["error"]["details"]["field"] == "registry"
        bad = client.post("/v1/migrations", json={"source": "src", "target": "dst", "versions": "1,,2"})
        assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "versions"
        assert client.get("/v1/migrations/unknown").status_code == 404
