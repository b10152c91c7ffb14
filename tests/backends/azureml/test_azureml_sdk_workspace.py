"""The official MLClient (workspace form) against the emulator: what a user does day to day."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from azure.ai.ml.entities import Model
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_create_then_get_returns_what_was_registered(ml_client, name, artifact):
    created = ml_client.models.create_or_update(
        Model(name=name, version="1", path=str(artifact), description="first", tags={"team": "ml", "n": 1},
              properties={"framework": "sklearn"}, stage="Development")
    )
    assert created.path.startswith("azureml://subscriptions/")
    assert "/datastores/workspaceblobstore/paths/LocalUpload/" in created.path

    got = ml_client.models.get(name, version="1")
    assert (got.description, got.tags, got.stage) == ("first", {"team": "ml", "n": "1"}, "Development")
    assert got.properties["framework"] == "sklearn"
    assert got.id.endswith(f"/workspaces/{ml_client.workspace_name}/models/{name}/versions/1")
    assert got.creation_context.created_by == "Emulator User"


def test_auto_version_and_latest_label(ml_client, name, tmp_path):
    versions = []
    for i in range(3):
        path = tmp_path / f"w{i}.bin"
        path.write_bytes(os.urandom(256))
        versions.append(ml_client.models.create_or_update(Model(name=name, path=str(path))).version)
    assert versions == ["1", "2", "3"]
    assert ml_client.models.get(name, label="latest").version == "3"
    assert sorted(m.version for m in ml_client.models.list(name)) == ["1", "2", "3"]
    listed = {m.name: m for m in ml_client.models.list()}
    assert listed[name].latest_version == "3"


def test_update_tags_description_stage_keeps_path_and_properties(ml_client, name, artifact):
    ml_client.models.create_or_update(
        Model(name=name, version="1", path=str(artifact), tags={"a": "1"}, properties={"p": "x"})
    )
    model = ml_client.models.get(name, version="1")
    original_path = model.path
    model.tags["reviewed"] = "yes"
    model.description = "updated"
    model.stage = "Production"
    ml_client.models.create_or_update(model)

    got = ml_client.models.get(name, version="1")
    assert got.tags == {"a": "1", "reviewed": "yes"}
    assert (got.description, got.stage, got.path) == ("updated", "Production", original_path)
    assert got.properties["p"] == "x"


def test_properties_are_add_only(ml_client, name, artifact):
    ml_client.models.create_or_update(Model(name=name, version="1", path=str(artifact), properties={"p": "x"}))
    model = ml_client.models.get(name, version="1")
    model.properties["q"] = "new"
    ml_client.models.create_or_update(model)
    assert ml_client.models.get(name, version="1").properties["q"] == "new"

    model = ml_client.models.get(name, version="1")
    model.properties["p"] = "changed"
    with pytest.raises(HttpResponseError) as info:
        ml_client.models.create_or_update(model)
    assert info.value.status_code == 400
    assert ml_client.models.get(name, version="1").properties["p"] == "x"


def test_model_uri_is_frozen(ml_client, name, artifact, tmp_path):
    ml_client.models.create_or_update(Model(name=name, version="1", path=str(artifact)))
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(512))
    with pytest.raises(ResourceExistsError) as info:
        ml_client.models.create_or_update(Model(name=name, version="1", path=str(other)))
    assert "Asset paths cannot be updated" in str(info.value)


def test_archive_hides_version_and_restore_brings_it_back_with_its_stage(ml_client, name, tmp_path):
    for v in ("1", "2"):
        path = tmp_path / f"{v}.bin"
        path.write_bytes(os.urandom(128))
        ml_client.models.create_or_update(Model(name=name, version=v, path=str(path), stage="Staging"))

    ml_client.models.archive(name, version="2")
    assert [m.version for m in ml_client.models.list(name)] == ["1"]
    assert ml_client.models.get(name, label="latest").version == "1"
    archived = ml_client.models.get(name, version="2")
    assert archived.stage == "Staging"  # the SDK's archive PUT omits stage; it must survive
    from azure.ai.ml.constants import ListViewType

    assert [m.version for m in ml_client.models.list(name, list_view_type=ListViewType.ARCHIVED_ONLY)] == ["2"]

    ml_client.models.restore(name, version="2")
    assert sorted(m.version for m in ml_client.models.list(name)) == ["1", "2"]
    assert ml_client.models.get(name, label="latest").version == "2"


def test_archiving_the_container_archives_every_version(ml_client, name, artifact):
    ml_client.models.create_or_update(Model(name=name, version="1", path=str(artifact)))
    ml_client.models.archive(name)
    assert name not in {m.name for m in ml_client.models.list()}
    assert list(ml_client.models.list(name)) == []
    ml_client.models.restore(name)
    assert [m.version for m in ml_client.models.list(name)] == ["1"]


def test_download_returns_identical_bytes_for_a_file(ml_client, name, artifact, tmp_path):
    ml_client.models.create_or_update(Model(name=name, version="1", path=str(artifact)))
    out = tmp_path / "out"
    ml_client.models.download(name, version="1", download_path=str(out))
    files = [p for p in out.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["model.bin"]
    assert sha256(files[0]) == sha256(artifact)


def test_download_returns_identical_tree_for_a_folder(ml_client, name, tmp_path):
    folder = tmp_path / "mlflow_model"
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text(f"flavors: {{}}\nid: {name}\n")
    (folder / "data" / "weights.bin").write_bytes(os.urandom(70_000))
    ml_client.models.create_or_update(Model(name=name, version="1", path=str(folder), type="mlflow_model"))
    out = tmp_path / "out"
    ml_client.models.download(name, version="1", download_path=str(out))
    root = out / name / "mlflow_model"
    for rel in ("MLmodel", "data/weights.bin"):
        assert sha256(root / rel) == sha256(folder / rel)
    assert ml_client.models.get(name, version="1").type == "mlflow_model"


def test_missing_version_raises_resource_not_found(ml_client, name):
    with pytest.raises(ResourceNotFoundError) as info:
        ml_client.models.get(name, version="7")
    assert info.value.status_code == 404
    assert info.value.error.code == "UserError"


def test_stage_filter_and_paging_over_many_versions(ml_client, emulator, name):
    uri = "azureml://datastores/workspaceblobstore/paths/many/model.bin"
    for v in range(1, 131):
        body = {"properties": {"modelUri": uri, "stage": "Production" if v % 10 == 0 else "Development"}}
        assert emulator.rest("PUT", f"{emulator.workspace_prefix}/models/{name}/versions/{v}", body).status_code == 201
    assert len(list(ml_client.models.list(name))) == 130
    skips = [
        e for e in emulator.wire()
        if e["path"].endswith(f"/models/{name}/versions") and parse_qs(e["query"]).get("$skip") == ["100"]
    ]
    assert skips, "the SDK should have followed nextLink to a second page"
    assert sorted(int(m.version) for m in ml_client.models.list(name, stage="Production")) == list(range(10, 131, 10))


def test_default_datastore_and_workspace(ml_client, emulator):
    store = ml_client.datastores.get_default()
    assert (store.name, store.account_name, store.type) == ("workspaceblobstore", "devstoreaccount1", "AzureBlob")
    assert store.container_name.startswith("azureml-blobstore-")
    workspace = ml_client.workspaces.get(ml_client.workspace_name)
    assert workspace.name == emulator.info["workspace_name"]
    assert workspace.location == emulator.info["location"]
