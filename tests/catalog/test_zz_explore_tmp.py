"""Property-based API testing with schemathesis against the real app and a real MLflow registry.

Every operation in the OpenAPI document gets generated requests (valid and invalid); each
response must not be a 5xx and must match the documented schema (error bodies included: the
spec publishes ``ErrorBody`` as every operation's default response). Path parameters are
steered to the configured registry and a seeded model half the time, so generated requests
reach the adapter instead of stopping at "no such registry".
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from gateway.api import create_app  # noqa: E402
from gateway.catalog import CacheConfig, CatalogConfig, catalog_for  # noqa: E402
from gateway.config import AuthConfig, GatewayConfig  # noqa: E402
from gateway.core import Gateway  # noqa: E402
from tests.catalog.conftest import mlflow  # noqa: E402

pytestmark = pytest.mark.xdist_group("catalog-fuzz")

EXAMPLES_PER_OPERATION = 150
MINIMUM_CASES = 1000
CASES: list[str] = []


def _app() -> object:
    """Built at import (schemathesis needs the schema at collection): a temp dir holds its state."""
    root = Path(tempfile.mkdtemp(prefix="mrg-fuzz-"))
    atexit.register(shutil.rmtree, root, True)
    config = GatewayConfig(data_dir=str(root), auth=AuthConfig(anonymous_role="admin"))
    gateway = Gateway(config, adapters={"local": mlflow("local", root)})  # type: ignore[dict-item]
    # The cache on: generated writes go through its listener, ``fresh`` picks live or cached reads.
    catalog_for(gateway, CatalogConfig(cache=CacheConfig(enabled=True, refresh_seconds=3600)))
    application = create_app(config, gateway=gateway)
    client = TestClient(application)
    assert client.post("/v1/registries/local/models", json={"name": "seed"}).status_code == 201
    assert client.post("/v1/registries/local/models/seed/versions", json={}).status_code == 201
    return application


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.hook
def map_path_parameters(context: object, path_parameters: dict | None) -> dict | None:  # type: ignore[type-arg]
    if not path_parameters:
        return path_parameters
    steer = hash(tuple(sorted(map(str, path_parameters.values())))) % 2 == 0
    if "registry" in path_parameters:
        path_parameters["registry"] = "local" if steer or len(str(path_parameters["registry"])) % 3 else "nope"
    if "model" in path_parameters and steer:
        path_parameters["model"] = "seed"
    if "version" in path_parameters and steer:
        path_parameters["version"] = "1"
    return path_parameters


@schema.hook
def map_query(context: object, query: dict | None) -> dict | None:  # type: ignore[type-arg]
    """Known bug, ledgered below (test_non_ascii_page_token_is_a_400): keep page tokens ASCII here
    so the run keeps looking for new failures instead of re-finding that one."""
    if query and isinstance(query.get("page_token"), str):
        query["page_token"] = query["page_token"].encode("ascii", "ignore").decode()
    return query


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=False,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_matches_the_schema(case: object) -> None:
    CASES.append(f"{case.method} {case.path}")  # type: ignore[attr-defined]
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])  # type: ignore[attr-defined]


@pytest.mark.xfail(strict=True, reason="adapters/mlflow.py: MLflow raises ValueError on a non-ASCII page token and "
                   "the adapter maps any non-MLflow exception to Unavailable (503); it should be InvalidInput (400)")
def test_non_ascii_page_token_is_a_400() -> None:
    client = TestClient(schema.app)  # type: ignore[attr-defined]
    for path in ("/v1/registries/local/models/seed/versions", "/v1/registries/local/models"):
        assert client.get(path, params={"page_token": "é"}).status_code == 400


def test_at_least_a_thousand_cases_ran() -> None:
    if not CASES:
        pytest.skip("the fuzz cases did not run in this process (selected out or on another worker)")
    assert len(CASES) >= MINIMUM_CASES, f"only {len(CASES)} generated cases"
    print(f"\nschemathesis: {len(CASES)} generated cases over {len(set(CASES))} distinct requests")
