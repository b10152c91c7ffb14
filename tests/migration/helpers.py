"""Small builders shared by the migration tests."""

from __future__ import annotations

from pathlib import Path

from adapters.mlflow import MlflowAdapter


def mlflow_adapter(name: str, root: Path) -> MlflowAdapter:
    root.mkdir(parents=True, exist_ok=True)
    return MlflowAdapter(name, {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}", "artifact_location": str(root / "artifacts")})
