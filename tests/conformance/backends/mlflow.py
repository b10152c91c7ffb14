"""MLflow in both modes: an in-process SQLite store and a real ``mlflow server`` subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.mlflow import MlflowAdapter
from gateway.sandbox.services import start_mlflow_server
from tests.conformance.harness import Backend


@contextmanager
def in_process(tmp: Path) -> Iterator[MlflowAdapter]:
    adapter = MlflowAdapter(
        "mlflow-local",
        {"tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}", "artifact_location": str(tmp / "artifacts")},
    )
    yield adapter
    adapter.close()


@contextmanager
def server(tmp: Path) -> Iterator[MlflowAdapter]:
    with start_mlflow_server(tmp) as service:
        adapter = MlflowAdapter("mlflow-server", {"tracking_uri": service.url})
        yield adapter
        adapter.close()


BACKENDS = [
    Backend(id="mlflow-sqlite", start=in_process),
    Backend(id="mlflow-server", start=server),
]
