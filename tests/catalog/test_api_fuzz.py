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
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import Case, GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from gateway.api import create_app  # noqa: E402
from gateway.catalog import CacheConfig, CatalogConfig, catalog_for  # noqa: E402
from gateway.config import AuthConfig, GatewayConfig  # noqa: E402
from gateway.core import Gateway  # noqa: E402
from tests.catalog.conftest import mlflow  # noqa: E402

pytestmark = pytest.mark.xdist_group("catalog-fuzz")

EXAMPLES_PER_OPERATION = 20
MINIMUM_CASES = 1000
SQL_BIGINT_MAX = 2**63 - 1
# Failures found in files owned elsewhere, reported to their owners; the run tolerates them (and
# warns once one is fixed) so it keeps guarding every other operation meanwhile.
KNOWN_BUGS: dict[tuple[str, ...], str] = {}
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
    if query and isinstance(query.get("after_id"), int) and query["after_id"] > SQL_BIGINT_MAX:
        query["after_id"] = SQL_BIGINT_MAX  # ledgered: test_audit_after_id_beyond_bigint_is_a_400
    return query


def _known(failure: str) -> bool:
    """A failure made only of one ledgered bug (any operation it shows up in)."""
    single = "found 1 distinct failure" in failure
    return single and any(all(part in failure for part in signature) for signature in KNOWN_BUGS)


def test_no_5xx_and_every_response_matches_the_schema() -> None:
    """Valid and invalid requests for every operation; every distinct failure is listed at the end.

    One test iterating the operations (rather than schemathesis' per-operation parametrisation,
    which pytest-xdist does not distribute correctly) so the case count is checked in the same run.
    """
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(mode, hooks=schema.hooks)

            @given(case=strategy)
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case: Case) -> None:
                CASES.append(f"{case.method} {case.path}")
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without parameters or body)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, report them all
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    known = {label for label, why in failures.items() if _known(why)}
    unknown = {label: why for label, why in failures.items() if label not in known}
    assert not unknown, "\n\n".join(f"{label}:\n{why}" for label, why in unknown.items())
    assert len(CASES) >= MINIMUM_CASES, f"only {len(CASES)} generated cases over {len(operations)} operations"
    print(f"\nschemathesis: {len(CASES)} generated cases over {len(operations)} operations; "
          f"ledgered bugs seen in: {sorted(known) or 'none'}")


def test_non_ascii_page_token_is_a_400() -> None:
    client = TestClient(schema.app)  # type: ignore[attr-defined]
    for path in ("/v1/registries/local/models/seed/versions", "/v1/registries/local/models"):
        assert client.get(path, params={"page_token": "é"}).status_code == 400


def test_audit_after_id_beyond_bigint_is_a_400() -> None:
    client = TestClient(schema.app)  # type: ignore[attr-defined]
    assert client.get("/v1/audit", params={"after_id": SQL_BIGINT_MAX + 1}).status_code == 400
