"""The lineage graph across two real MLflow registries: parents, migrated copies, datasets,
depth and direction, the text formats, routing of names with '/', and ``mrg lineage``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.api import create_app
from gateway.core import Gateway
from tests.catalog.conftest import make_gateway

BASE = "mrg://east/base/versions/1"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lineage")


@pytest.fixture(scope="module")
def gateway(root: Path) -> Iterator[Gateway]:
    gw = make_gateway(root)
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_app(gateway.config, gateway=gateway)) as c:
        _build_family(c)
        yield c


def _create(client: TestClient, registry: str, model: str, lineage: dict) -> None:  # type: ignore[type-arg]
    client.post(f"/v1/registries/{registry}/models", json={"name": model})
    response = client.post(f"/v1/registries/{registry}/models/{model}/versions", json={"lineage": lineage})
    assert response.status_code == 201, response.text


def _build_family(client: TestClient) -> None:
    """east/base v1 <- west/ft v1 (fine-tune) <- west/distilled v1 (distill); west/copy v1 migrated from base."""
    _create(client, "east", "base", {
        "datasets": [{"uri": "s3://data/train.csv", "digest": "abc", "name": "train"}],
        "code": {"repo": "github.com/acme/models", "commit": "c0ffee"},
        "parents": [{"uri": "hf://bert-base-uncased", "relation": "fine-tune"}]})
    _create(client, "west", "ft", {"parents": [{"uri": BASE, "relation": "fine-tune"},
                                               {"uri": "mrg://nowhere/x/versions/1", "relation": "merge"}]})
    _create(client, "west", "distilled", {"parents": [{"uri": "mrg://west/ft/versions/1", "relation": "distill"}]})
    _create(client, "west", "copy", {"migrated_from": {"uri": BASE, "digest": "sha256:1"}})


def _graph(client: TestClient, registry: str, model: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/registries/{registry}/models/{model}/versions/1/lineage", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _edges(graph: dict) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(e["source"], e["target"], e["relation"]) for e in graph["edges"]}


def test_upstream_follows_parents_across_registries_to_the_requested_depth(client: TestClient) -> None:
    one = _graph(client, "west", "distilled", direction="up", depth=1)
    assert one["root"] == "mrg://west/distilled/versions/1"
    assert ("mrg://west/ft/versions/1", "mrg://west/distilled/versions/1", "distill") in _edges(one)
    assert BASE not in {n["id"] for n in one["nodes"]}
    two = _graph(client, "west", "distilled", direction="up", depth=2)
    nodes = {n["id"]: n for n in two["nodes"]}
    assert (BASE, "mrg://west/ft/versions/1", "fine-tune") in _edges(two)
    assert nodes[BASE]["registry"] == "east" and nodes[BASE]["missing"] is None
    assert "not configured" in nodes["mrg://nowhere/x/versions/1"]["missing"]


def test_versions_carry_their_datasets_code_and_external_parents(client: TestClient) -> None:
    graph = _graph(client, "east", "base", direction="up")
    kinds = {n["id"]: n["kind"] for n in graph["nodes"]}
    assert kinds["dataset:s3://data/train.csv@abc"] == "dataset"
    assert kinds["code:github.com/acme/models@c0ffee"] == "code"
    assert kinds["hf://bert-base-uncased"] == "external"
    assert ("dataset:s3://data/train.csv@abc", BASE, "trained_on") in _edges(graph)


def test_downstream_finds_derived_versions_and_migrated_copies(client: TestClient) -> None:
    one = _graph(client, "east", "base", direction="down", depth=1)
    assert {(s, t, r) for s, t, r in _edges(one) if s == BASE} >= {
        (BASE, "mrg://west/ft/versions/1", "fine-tune"), (BASE, "mrg://west/copy/versions/1", "migrated_from")}
    assert "mrg://west/distilled/versions/1" not in {n["id"] for n in one["nodes"]}
    assert one["truncated"] is False and one["errors"] == []
    two = _graph(client, "east", "base", direction="down", depth=2)
    assert ("mrg://west/ft/versions/1", "mrg://west/distilled/versions/1", "distill") in _edges(two)
    both = _graph(client, "west", "ft", direction="both", depth=1)
    assert {BASE, "mrg://west/distilled/versions/1"} <= {n["id"] for n in both["nodes"]}


def test_mermaid_and_dot_renderings(client: TestClient) -> None:
    url = "/v1/registries/east/models/base/versions/1/lineage"
    mermaid = client.get(url, params={"format": "mermaid", "direction": "down"})
    assert mermaid.status_code == 200 and mermaid.headers["content-type"].startswith("text/plain")
    assert mermaid.text.startswith("flowchart LR\n") and "-->|migrated_from|" in mermaid.text
    dot = client.get(url, params={"format": "dot", "direction": "down"})
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    assert dot.text.startswith("digraph lineage {") and f'"{BASE}" -> "mrg://west/copy/versions/1"' in dot.text


def test_unknown_root_is_404_and_bad_parameters_400(client: TestClient) -> None:
    assert client.get("/v1/registries/east/models/base/versions/99/lineage").status_code == 404
    assert client.get("/v1/registries/east/models/base/versions/1/lineage", params={"depth": 0}).status_code == 400
    assert client.get("/v1/registries/east/models/base/versions/1/lineage",
                      params={"direction": "sideways"}).status_code == 400


def test_lineage_route_wins_over_the_model_catch_all_for_names_with_slashes(client: TestClient) -> None:
    """'acme/bert' (a Hugging Face style name) must reach the lineage route, not GET …/models/{model:path}
    (which would take the model to be 'acme/bert/versions/7/lineage' and ignore ``depth``)."""
    response = client.get("/v1/registries/east/models/acme/bert/versions/7/lineage", params={"depth": 0})
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "depth"
    # And with valid parameters the lineage route hands the adapter the name with its slash.
    response = client.get("/v1/registries/east/models/acme/bert/versions/7/lineage")
    assert response.status_code == 400 and "acme/bert" in response.json()["error"]["message"]
    assert "lineage" not in response.json()["error"]["message"]


def test_cli_prints_the_graph(client: TestClient, root: Path, tmp_path: Path) -> None:
    from gateway.cli import app

    config = tmp_path / "mrg.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "registries": {name: {"kind": "mlflow", "tracking_uri": f"sqlite:///{root / f'{name}.db'}",
                              "artifact_location": str(root / f"{name}-art")} for name in ("east", "west")},
    }))
    runner = CliRunner()
    as_json = runner.invoke(app, ["lineage", "east", "base", "1", "--direction", "down", "--json", "-c", str(config)])
    assert as_json.exit_code == 0, as_json.output
    assert "mrg://west/copy/versions/1" in {n["id"] for n in json.loads(as_json.stdout)["nodes"]}
    tree = runner.invoke(app, ["lineage", "west", "distilled", "1", "--depth", "2", "-c", str(config)])
    assert tree.exit_code == 0 and "distill" in tree.stdout and "east/base v1" in tree.stdout
    missing = runner.invoke(app, ["lineage", "east", "base", "42", "-c", str(config)])
    assert missing.exit_code == 2
