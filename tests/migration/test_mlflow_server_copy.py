"""MLflow -> MLflow through a real ``mlflow server``: what the copy costs the registries.

MLflow stores no checksums, so a naive copier reads every artifact twice (once to hash it, once
to copy it) and locates each version's bytes with two extra calls per read. These tests count
the HTTP requests the migrator makes (by observing ``requests``, MLflow's own transport) and
pin what keeps a copy fast: each source byte is read once, the digest is computed while the
bytes flow and is still the digest of the source's files, and runs are read in batches.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from mlflow import MlflowClient

from adapters.mlflow import MlflowAdapter
from gateway.config import GatewayConfig
from gateway.core import Gateway
from gateway.migration.plan import version_digest
from gateway.migration.runner import Migrator
from gateway.migration.verify import verify_job
from gateway.sandbox.services import start_mlflow_server
from mapping.schema import ArtifactFile, VersionPatch

pytestmark = pytest.mark.xdist_group("mlflow-server-copy")
VERSIONS = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as service:
        yield service.url


@pytest.fixture
def requests_seen(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(method, API path) of every request MLflow's client sends, counted as it goes out."""
    seen: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()
    send = requests.Session.request

    def counted(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        path = url.split("/api/", 1)[-1].split("?", 1)[0]
        if path.startswith("2.0/mlflow-artifacts/artifacts/"):
            path = "2.0/mlflow-artifacts/artifacts/<file>"
        with lock:
            seen[(method.upper(), path)] += 1
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)
    return seen


def seed(url: str, model: str, tmp: Path) -> dict[str, bytes]:
    """A model as MLflow users make one: a run per version (two experiments), registered from runs:/."""
    client = MlflowClient(url)
    client.create_registered_model(model)
    experiments = [client.create_experiment(f"{model}-train-{i}") for i in range(2)]
    payloads: dict[str, bytes] = {}
    for i in range(VERSIONS):
        run = client.create_run(experiments[i % 2])
        client.log_metric(run.info.run_id, "auc", 0.9 + i / 100)
        client.log_param(run.info.run_id, "lr", str(i))
        data = f"weights of build {i} ".encode() * 500
        folder = tmp / f"{model}-{i}" / "model"
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(data)
        client.log_artifacts(run.info.run_id, str(folder), "model")
        client.set_terminated(run.info.run_id)
        version = client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
        payloads[str(version.version)] = data
    return payloads


def test_each_source_byte_is_read_once_and_the_digest_is_the_sources(
    server: str, tmp_path: Path, requests_seen: Counter[tuple[str, str]]
) -> None:
    payloads = seed(server, "scorer", tmp_path)
    adapters = {"src": MlflowAdapter("src", {"tracking_uri": server}),
                "dst": MlflowAdapter("dst", {"tracking_uri": server, "experiment": "copies"})}
    gw = Gateway(GatewayConfig(data_dir=str(tmp_path / "state")), adapters=adapters)
    try:
        migrator = Migrator(gw, workers=3)
        job = migrator.create_job(migrator.plan("src/scorer", "dst", rename="scorer-copy"), actor="test")
        requests_seen.clear()
        report = migrator.run(job)
        assert report["state"] == "succeeded", report["failures"]

        # One GET per source file (reads) and one PUT per copied file (writes): nothing read twice.
        assert requests_seen[("GET", "2.0/mlflow-artifacts/artifacts/<file>")] == VERSIONS
        assert requests_seen[("PUT", "2.0/mlflow-artifacts/artifacts/<file>")] == VERSIONS
        # Versions are located from what the listing read: no download-URI call, and the runs of
        # two experiments read with a get_run and a search each, not one get_run per version.
        assert requests_seen[("GET", "2.0/mlflow/model-versions/get-download-uri")] == 0
        assert requests_seen[("GET", "2.0/mlflow/runs/get")] <= 2 * 2  # the plan lists too
        assert requests_seen[("POST", "2.0/mlflow/runs/search")] <= 2 * 2

        for item in report["version_map"]:
            source_version = item["source"].rsplit("/", 1)[1]
            copy = gw.adapter("dst").get_version("scorer-copy", item["target"].rsplit("/", 1)[1])
            expected = version_digest([ArtifactFile(path="model.bin",
                                                    sha256=hashlib.sha256(payloads[source_version]).hexdigest())])
            assert copy.lineage.migrated_from is not None
            assert copy.lineage.migrated_from.digest == expected
            assert copy.metrics == {"auc": pytest.approx(0.9 + (int(source_version) - 1) / 100)}
        assert verify_job(gw, job)["ok"]
    finally:
        gw.close()


def test_verify_reports_a_marker_digest_that_is_not_the_sources(server: str, tmp_path: Path) -> None:
    seed(server, "tampered", tmp_path)
    adapters = {"src": MlflowAdapter("src", {"tracking_uri": server}),
                "dst": MlflowAdapter("dst", {"tracking_uri": server, "experiment": "copies"})}
    gw = Gateway(GatewayConfig(data_dir=str(tmp_path / "state")), adapters=adapters)
    try:
        migrator = Migrator(gw)
        job = migrator.create_job(migrator.plan("src/tampered", "dst", rename="tampered-copy"), actor="test")
        assert migrator.run(job)["state"] == "succeeded"
        copy = gw.adapter("dst").get_version("tampered-copy", "2")
        lineage = copy.lineage.model_copy(deep=True)
        assert lineage.migrated_from is not None
        lineage.migrated_from.digest = "sha256:" + "0" * 64
        gw.adapter("dst").update_version("tampered-copy", "2", VersionPatch(lineage=lineage))
        result = verify_job(gw, job)
        assert not result["ok"]
        [bad] = [line for line in result["lines"] if line["problems"]]
        assert bad["target"].endswith("/tampered-copy/versions/2")
        assert "lineage.migrated_from.digest" in bad["problems"][0]
    finally:
        gw.close()
