"""A gateway over a real in-process MLflow registry, served through FastAPI's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api import create_app
from gateway.config import AuthConfig, GatewayConfig, RegistryConfig


def mlflow_config(root: Path, *, anonymous_role: str | None = "admin") -> GatewayConfig:
    return GatewayConfig(
        data_dir=str(root),
        auth=AuthConfig(anonymous_role=anonymous_role),  # type: ignore[arg-type]
        registries={
            "local": RegistryConfig(kind="mlflow", tracking_uri=f"sqlite:///{root / 'mlflow.db'}",  # type: ignore[arg-type]
                                    artifact_location=str(root / "artifacts")),
        },
    )


@pytest.fixture(scope="module")
def gateway_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="module")
def client(gateway_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(mlflow_config(gateway_root))) as c:
        yield c
