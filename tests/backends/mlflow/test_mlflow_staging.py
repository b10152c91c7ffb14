"""Creating versions on MLflow when the model changes behind the adapter's back.

Staging skips its "does the model exist?" read for models this adapter has seen; a model deleted
meanwhile by someone else must still fail cleanly (NotFound, no run left active) and be checked
again next time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from adapters.base import ArtifactUpload, NotFound
from adapters.mlflow import MlflowAdapter
from mapping.schema import VersionSpec


def test_a_model_deleted_by_someone_else_fails_cleanly_and_is_checked_again(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    adapter = MlflowAdapter("m", {"tracking_uri": uri, "artifact_location": str(tmp_path / "artifacts")})
    other = MlflowClient(uri)
    adapter.create_model("scorer")
    first = adapter.create_version("scorer", VersionSpec(description="first"), [ArtifactUpload.from_bytes("w.bin", b"1")])
    first_run = (first.artifact.uri or "").split("/")[1]  # runs:/<run id>/model
    other.delete_registered_model("scorer")

    with pytest.raises(NotFound):
        adapter.create_version("scorer", VersionSpec(description="second"), [ArtifactUpload.from_bytes("w.bin", b"2")])
    experiment = other.get_experiment_by_name("mrg-registry")
    assert experiment is not None
    active = other.search_runs([experiment.experiment_id], run_view_type=ViewType.ACTIVE_ONLY)
    assert [run.info.run_id for run in active] == [first_run], "the run staged for the failed version must go"

    # Unknown again: the next attempt checks before creating a run, and a re-created model works.
    with pytest.raises(NotFound):
        adapter.create_version("scorer", VersionSpec(description="third"), [ArtifactUpload.from_bytes("w.bin", b"3")])
    assert len(other.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)) == 2  # no run this time
    other.create_registered_model("scorer")
    created = adapter.create_version("scorer", VersionSpec(description="fourth"), [ArtifactUpload.from_bytes("w.bin", b"4")])
    assert created.version == "1" and created.description == "fourth"
