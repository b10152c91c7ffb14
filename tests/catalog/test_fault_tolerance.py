"""The catalog under failing registries: real MLflow adapters, a real ``mlflow server``, and a
fault-injecting proxy in front of it (or a closed port), never a mocked gateway.

One registry down, one answering 500s, one 429 with Retry-After, one 10 s slow: the search
still answers 200 within its deadline with the healthy registries' models and exactly one
error per failing registry, and the slow registry does not hold up the next search.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.mlflow import MlflowAdapter
from gateway.config import AuthConfig, GatewayConfig
from gateway.core import Gateway
from gateway.sandbox.services import free_port, start_mlflow_server
from mapping.schema import ModelQuery
from tests.catalog.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.xdist_group("catalog-mlflow-server")

DEADLINE = 2.0
SLOW = 10.0
# Generous slack for a loaded 2-core box; the point is "about the deadline", not "after 10 s".
SLACK = 2.5
SEEDED = ["fraud-detector", "fraud-scorer", "churn"]


@pytest.fixture(scope="module")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as service:
        seeder = MlflowAdapter("seed", {"tracking_uri": service.url})
        for name in SEEDED:
            seeder.create_model(name, description=f"{name} model", tags={"team": "risk"})
        seeder.close()
        yield service.url


@pytest.fixture(scope="module")
def gateway(mlflow_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Two healthy registries and four broken ones, all real MLflow adapters."""
    root = tmp_path_factory.mktemp("gateway")
    with ExitStack() as stack:
        proxies = {
            "beta": Fault("pass"),
            "erroring": Fault("error", status=500),
            "throttled": Fault("throttle", retry_after=30),
            "slow": Fault("delay", delay=SLOW),
        }
        urls = {name: stack.enter_context(FaultProxy(mlflow_url, fault)).url for name, fault in proxies.items()}
        urls["alpha"] = mlflow_url
        urls["down"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        adapters = {name: MlflowAdapter(name, {"tracking_uri": url, "http_timeout": 30}) for name, url in urls.items()}
        config = GatewayConfig(data_dir=str(root), auth=AuthConfig(anonymous_role="admin"))
        gw = Gateway(config, adapters=adapters)  # type: ignore[arg-type]
        yield gw
        gw.close()


def _search(client: TestClient, **params: object) -> tuple[dict, float]:  # type: ignore[type-arg]
    started = time.monotonic()
    response = client.get("/v1/models", params={"deadline": DEADLINE, **params})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    return response.json(), elapsed


def test_failing_registries_cost_only_their_own_results(client: TestClient) -> None:
    body, elapsed = _search(client)
    assert elapsed < DEADLINE + SLACK, f"answered after {elapsed:.1f}s, deadline {DEADLINE}s"
    assert body["partial"] is True
    found = {(m["registry"], m["name"]) for m in body["items"]}
    assert found == {(r, n) for r in ("alpha", "beta") for n in SEEDED}
    assert [m["name"] for m in body["items"]] == sorted(m["name"] for m in body["items"])  # merged by name
    errors = {e["registry"]: e for e in body["errors"]}
    assert sorted(errors) == ["down", "erroring", "slow", "throttled"]  # one per failing registry
    assert errors["down"]["kind"] == "unavailable"
    assert errors["erroring"]["kind"] == "unavailable"
    assert errors["throttled"]["kind"] == "rate_limited"
    assert errors["slow"]["kind"] == "timeout" and "deadline" in errors["slow"]["message"]
    assert all(e["message"] for e in body["errors"])


def test_the_slow_registry_does_not_block_the_next_searches(client: TestClient) -> None:
    """The answer comes back while the slow registry's call is still in flight, and again."""
    for _ in range(3):
        body, elapsed = _search(client, q="fraud")
        assert elapsed < DEADLINE + SLACK
        assert {m["name"] for m in body["items"]} == {"fraud-detector", "fraud-scorer"}
    # Healthy registries answer at full speed meanwhile, without any deadline in play.
    started = time.monotonic()
    assert client.get("/v1/registries/alpha/models/churn").status_code == 200
    assert time.monotonic() - started < 2.0


def test_a_search_limited_to_healthy_registries_is_complete(client: TestClient) -> None:
    body, _ = _search(client, registry=["alpha", "beta"], tag="team=risk")
    assert body["partial"] is False and body["errors"] == []
    assert len(body["items"]) == 2 * len(SEEDED)


def test_versions_search_reports_the_same_failures(client: TestClient) -> None:
    response = client.get("/v1/versions", params={"deadline": DEADLINE})
    assert response.status_code == 200
    body = response.json()
    assert body["partial"] is True
    assert sorted(e["registry"] for e in body["errors"]) == ["down", "erroring", "slow", "throttled"]


def test_cli_search_path_reports_partial_results(gateway: Gateway) -> None:
    """``mrg models ls`` goes through Gateway.search_models: same fan-out, same errors."""
    started = time.monotonic()
    result = gateway.search_models(ModelQuery(text="churn"), deadline=DEADLINE)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert [(m.registry, m.name) for m in result.items] == [("alpha", "churn"), ("beta", "churn")]
    assert result.partial and {e["registry"] for e in result.errors} == {"down", "erroring", "slow", "throttled"}


def test_throttled_registry_answers_within_the_deadline(client: TestClient) -> None:
    body, elapsed = _search(client, registry=["throttled"])
    [error] = body["errors"]
    assert error["registry"] == "throttled" and error["message"]
    assert elapsed < DEADLINE + SLACK  # never sleeps through a Retry-After longer than the deadline
    assert body["items"] == [] and body["partial"] is True


def test_throttled_registry_is_reported_as_rate_limited_with_retry_after(client: TestClient) -> None:
    body, _ = _search(client, registry=["throttled"])
    [error] = body["errors"]
    assert error["kind"] == "rate_limited" and error["retry_after"] == 30


def test_proxy_really_holds_the_slow_registry(mlflow_url: str, tmp_path: Path) -> None:
    """Guard against a vacuous pass: the slow proxy does hold a request for ~SLOW seconds."""
    with FaultProxy(mlflow_url, Fault("delay", delay=1.0)) as proxy:
        adapter = MlflowAdapter("probe", {"tracking_uri": proxy.url})
        started = time.monotonic()
        adapter.list_models()
        assert time.monotonic() - started >= 1.0
        adapter.close()
