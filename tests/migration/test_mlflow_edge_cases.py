"""MLflow -> MLflow through the real MLflow, on the cases mlflow-export-import gets wrong:
versions without a run, deleted-version gaps, more than ten versions, every source scheme
(``runs:/``, ``models:/``, ``s3://``), two versions sharing a run, and each copy loadable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import mlflow
import pytest
from mlflow import MlflowClient

from gateway.config import GatewayConfig
from gateway.core import Gateway
from gateway.migration.runner import Migrator
from gateway.migration.verify import verify_job
from gateway.sandbox.services import start_moto_s3
from tests.migration.helpers import mlflow_adapter


class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context, model_input):  # type: ignore[no-untyped-def]
        return [len(str(x)) for x in model_input]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_moto_s3(tmp_path_factory.mktemp("s3")) as service:
        yield service.url


@pytest.fixture
def env(tmp_path: Path, s3: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Gateway, MlflowClient, str]]:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    src = mlflow_adapter("src", tmp_path / "src")
    dst = mlflow_adapter("dst", tmp_path / "dst")
    gw = Gateway(GatewayConfig(data_dir=str(tmp_path / "state")), adapters={"src": src, "dst": dst})
    yield gw, src.client, dst.config.tracking_uri
    gw.close()


def _log_pyfunc(client: MlflowClient, experiment: str, scratch: Path) -> tuple[str, str]:
    """A real, loadable pyfunc model twice: as run artifacts under ``model/`` (``runs:/``) and as an
    MLflow 3 LoggedModel (``models:/``). Returns (run_id, logged model id)."""
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_experiment(experiment)
    saved = scratch / "saved-model"
    mlflow.pyfunc.save_model(str(saved), python_model=Echo(), pip_requirements=[])
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(saved), "model")
        info = mlflow.pyfunc.log_model(name="logged", python_model=Echo(), pip_requirements=[])
        mlflow.log_metric("acc", 0.9)
    return run.info.run_id, info.model_id


def test_every_source_kind_copies_in_order_and_loads(env: tuple[Gateway, MlflowClient, str], s3: str) -> None:
    gw, client, dst_uri = env
    name = "edge"
    client.create_registered_model(name)
    run_id, model_id = _log_pyfunc(client, "edge-exp", Path(gw.config.data_dir))
    client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)                 # 1: runs:/
    client.create_model_version(name, f"models:/{model_id}", run_id=run_id)                   # 2: models:/, same run
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket="external")
    mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=str(Path(gw.config.data_dir) / "m"))
    s3c = boto3.client("s3", endpoint_url=s3)
    for path in (Path(gw.config.data_dir) / "m").rglob("*"):
        if path.is_file():
            s3c.upload_file(str(path), "external", f"models/echo/{path.relative_to(Path(gw.config.data_dir) / 'm')}")
    client.create_model_version(name, "s3://external/models/echo")                            # 3: s3://, no run
    for i in range(4, 13):                                                                      # 4..12: > 10 versions
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, description=f"build {i}")
    client.delete_model_version(name, "7")                                                     # a gap at 7
    client.set_registered_model_alias(name, "champion", "12")

    migrator = Migrator(gw, workers=4)
    job = migrator.create_job(migrator.plan("src/edge", "dst"), actor="test", preserve_numbers=True)
    report = migrator.run(job)
    assert report["state"] == "succeeded", report["failures"]
    dst = MlflowClient(tracking_uri=dst_uri)
    numbers = [int(v.version) for v in dst.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])]
    assert numbers == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]  # identical numbering, gap included
    assert [v["target"].rsplit("/", 1)[1] for v in report["version_map"]] == [str(n) for n in numbers]
    assert dst.get_registered_model(name).aliases == {"champion": 12}
    assert verify_job(gw, job)["ok"]

    mlflow.set_tracking_uri(dst_uri)
    for version in ("1", "2", "3", "12"):
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        assert model.predict(["abc", "de"]) == [3, 2]
    # Re-running the same migration finds every copy by its provenance marker and creates nothing.
    again = migrator.create_job(migrator.plan("src/edge", "dst"), actor="test")
    assert migrator.run(again)["created"] == 11
    assert len(dst.search_model_versions(f"name = '{name}'")) == 11


def test_version_without_a_run_and_missing_run(env: tuple[Gateway, MlflowClient, str], s3: str) -> None:
    gw, client, _ = env
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket="lonely")
    boto3.client("s3", endpoint_url=s3).put_object(Bucket="lonely", Key="m/weights.bin", Body=b"w" * 1000)
    client.create_registered_model("lonely")
    client.create_model_version("lonely", "s3://lonely/m", description="no run at all")
    migrator = Migrator(gw)
    job = migrator.create_job(migrator.plan("src/lonely", "dst"), actor="test")
    report = migrator.run(job)
    assert report["state"] == "succeeded", report["failures"]
    copy = gw.adapter("dst").get_version("lonely", "1")
    assert copy.description == "no run at all"
    assert [f.path for f in gw.adapter("dst").list_artifacts("lonely", "1")] == ["weights.bin"]
    assert copy.lineage.migrated_from is not None and copy.lineage.migrated_from.uri == "mrg://src/lonely/versions/1"


def test_runs_uri_naming_a_logged_model_copies_the_logged_models_files(env: tuple[Gateway, MlflowClient, str]) -> None:
    """MLflow 3 stores ``log_model(name=...)`` as a LoggedModel, not under the run's artifacts; a
    version registered from ``runs:/<run>/<name>`` resolves to it, and so must its copy."""
    gw, client, dst_uri = env
    run_id, _ = _log_pyfunc(client, "logged-exp", Path(gw.config.data_dir))
    client.create_registered_model("logged")
    client.create_model_version("logged", f"runs:/{run_id}/logged", run_id=run_id)
    files = {f.path for f in gw.adapter("src").list_artifacts("logged", "1")}
    assert "MLmodel" in files
    migrator = Migrator(gw)
    job = migrator.create_job(migrator.plan("src/logged", "dst"), actor="test")
    report = migrator.run(job)
    assert report["state"] == "succeeded", report["failures"]
    assert {f.path for f in gw.adapter("dst").list_artifacts("logged", "1")} == files
    assert verify_job(gw, job)["ok"]
    mlflow.set_tracking_uri(dst_uri)
    assert mlflow.pyfunc.load_model("models:/logged/1").predict(["abcd"]) == [4]
