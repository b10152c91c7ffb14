"""Two real in-process MLflow registries ("east", "west") behind one gateway and its API."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.base import Capabilities, RegistryAdapter
from adapters.mlflow import MlflowAdapter
from gateway.api import create_app
from gateway.config import AuthConfig, GatewayConfig
from gateway.core import Gateway
from mapping.schema import Model, ModelQuery, Page


class LooseSearchMlflow(MlflowAdapter):
    """A backend whose search ignores every filter it claims to apply (a sloppy server)."""

    def capabilities(self) -> Capabilities:
        return super().capabilities().model_copy(update={"search_filters": ["text", "name_prefix", "tags"]})

    def list_models(self, query: ModelQuery | None = None, *, page_size: int | None = None,
                    page_token: str | None = None) -> Page[Model]:
        return super().list_models(None, page_size=page_size, page_token=page_token)


_TEMPLATE: dict[str, Path] = {}


def _empty_mlflow_db(root: Path) -> Path:
    """An initialised, empty MLflow database, created once per process and copied per registry
    (MLflow's schema migrations take seconds; a copy takes microseconds)."""
    if "db" not in _TEMPLATE:
        folder = tempfile.mkdtemp(prefix="mrg-mlflow-template-")
        atexit.register(shutil.rmtree, folder, True)
        template = Path(folder) / "mlflow.db"
        probe = MlflowAdapter("template", {"tracking_uri": f"sqlite:///{template}"})
        probe.list_models()
        probe.close()
        _TEMPLATE["db"] = template
    return _TEMPLATE["db"]


def mlflow(name: str, root: Path, cls: type[MlflowAdapter] = MlflowAdapter) -> MlflowAdapter:
    db = root / f"{name}.db"
    shutil.copyfile(_empty_mlflow_db(root), db)
    return cls(name, {"tracking_uri": f"sqlite:///{db}", "artifact_location": str(root / f"{name}-art")})


def make_gateway(root: Path, extra: dict[str, RegistryAdapter] | None = None, *, database_url: str | None = None,
                 **kinds: type[MlflowAdapter]) -> Gateway:
    """'east' and 'west' (empty MLflow registries), plus ``kinds`` as MLflow subclasses and ``extra`` as given;
    the gateway's store in ``database_url`` (default: SQLite under ``root``)."""
    adapters: dict[str, RegistryAdapter] = {"east": mlflow("east", root), "west": mlflow("west", root)}
    adapters.update({name: mlflow(name, root, cls) for name, cls in kinds.items()})
    adapters.update(extra or {})
    config = GatewayConfig(data_dir=str(root), database_url=database_url, auth=AuthConfig(anonymous_role="admin"))
    return Gateway(config, adapters=adapters)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = make_gateway(tmp_path_factory.mktemp("catalog"), loose=LooseSearchMlflow)
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_app(gateway.config, gateway=gateway)) as c:
        yield c


@pytest.fixture
def batch() -> str:
    """A tag value unique to one test, so tests sharing registries do not see each other's models."""
    return uuid.uuid4().hex[:8]
