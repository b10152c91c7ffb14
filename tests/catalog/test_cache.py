"""The catalog cache: answers from the store, says how old it is, follows gateway writes at
once and everything else at the next refresh; a registry it never copied is asked live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.mlflow import MlflowAdapter
from gateway.api import create_app
from gateway.catalog import CacheConfig, Catalog, CatalogConfig, CatalogQuery, catalog_for
from gateway.core import Gateway
from gateway.sandbox.services import free_port
from gateway.store import Store
from gateway.store.db import head_revisions
from tests.catalog.conftest import make_gateway

CACHED = CatalogConfig(cache=CacheConfig(enabled=True, refresh_seconds=3600))


@pytest.fixture
def gateway(tmp_path: Path, database_url: str) -> Iterator[Gateway]:
    """On SQLite and on PostgreSQL (when configured): the cache is rows in the gateway's store."""
    gw = make_gateway(tmp_path, database_url=database_url)
    yield gw
    gw.close()


@pytest.fixture
def catalog(gateway: Gateway) -> Iterator[Catalog]:
    cat = catalog_for(gateway, CACHED)
    yield cat
    cat.close()


@pytest.fixture
def client(gateway: Gateway, catalog: Catalog) -> Iterator[TestClient]:
    with TestClient(create_app(gateway.config, gateway=gateway)) as c:
        yield c


def _names(client: TestClient, path: str = "/v1/models", **params: object) -> list[str]:
    body = client.get(path, params=params).json()
    return [f"{i['registry']}/{i.get('name') or i['model'] + '@' + i['version']}" for i in body["items"]]


def test_cached_answers_say_how_fresh_they_are(gateway: Gateway, catalog: Catalog, client: TestClient) -> None:
    gateway.adapter("east").create_model("direct")
    assert catalog.refresh() == []
    body = client.get("/v1/models").json()
    assert [m["name"] for m in body["items"]] == ["direct"]
    assert body["cached_at"] is not None and 0 <= body["age_seconds"] < 60
    live = client.get("/v1/models", params={"fresh": True}).json()
    assert live["cached_at"] is None and live["age_seconds"] is None


def test_writes_through_the_gateway_show_at_once(gateway: Gateway, catalog: Catalog, client: TestClient) -> None:
    catalog.refresh()
    assert client.post("/v1/registries/west/models", json={"name": "fraud"}).status_code == 201
    v = client.post("/v1/registries/west/models/fraud/versions", json={"stage": "STAGING"}).json()["version"]
    client.put(f"/v1/registries/west/models/fraud/versions/{v}/stage", json={"stage": "PRODUCTION"})
    client.put("/v1/registries/west/models/fraud/aliases/champion", json={"version": v})
    assert _names(client) == ["west/fraud"]
    [version] = client.get("/v1/versions", params={"stage": "PRODUCTION"}).json()["items"]
    assert version["aliases"] == ["champion"] and client.get("/v1/versions").json()["cached_at"] is not None
    client.delete("/v1/registries/west/models/fraud/aliases/champion")
    assert client.get("/v1/versions", params={"alias": "champion"}).json()["items"] == []
    client.delete(f"/v1/registries/west/models/fraud/versions/{v}")
    assert client.get("/v1/versions").json()["items"] == []
    client.delete("/v1/registries/west/models/fraud")
    assert _names(client) == []


def test_changes_behind_the_gateways_back_wait_for_the_refresh(gateway: Gateway, catalog: Catalog,
                                                               client: TestClient) -> None:
    catalog.refresh()
    gateway.adapter("east").create_model("sideways")  # straight into MLflow
    assert _names(client) == []
    assert _names(client, fresh=True) == ["east/sideways"]
    catalog.refresh(["east"])
    assert _names(client) == ["east/sideways"]


def test_a_registry_never_copied_is_asked_live_and_a_failed_refresh_is_reported(tmp_path: Path) -> None:
    dead = MlflowAdapter("dead", {"tracking_uri": f"http://127.0.0.1:{free_port()}"})  # nothing listens
    gw = make_gateway(tmp_path, {"dead": dead})
    cat = catalog_for(gw, CACHED)
    try:
        gw.adapter("east").create_model("m1")
        failures = cat.refresh()
        assert [f.registry for f in failures] == ["dead"]
        page = cat.search_models(CatalogQuery())
        assert [m.name for m in page.items] == ["m1"] and page.cached_at is not None
        assert [(f.registry, f.kind) for f in page.failures] == [("dead", "unavailable")]  # asked live
        # Once copied, a later failed refresh keeps serving the copy and says so.
        cat.cache.replace_registry("dead", [], [])  # type: ignore[union-attr]
        cat.cache.record_failure("dead", "unavailable: connection refused")  # type: ignore[union-attr]
        page = cat.search_models(CatalogQuery())
        assert [(f.registry, f.kind) for f in page.failures] == [("dead", "stale")]
    finally:
        cat.close()
        gw.close()


def test_schema_revision_0005_creates_the_cache_tables(tmp_path: Path) -> None:
    assert "0005" in head_revisions()
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    from sqlalchemy import inspect

    tables = set(inspect(store.engine).get_table_names())
    assert {"catalog_models", "catalog_versions", "catalog_lineage_refs", "catalog_sources"} <= tables
    store.close()
