"""The official MLClient in its registry form: discovery, tempdatarefs upload, datarefs download."""

from __future__ import annotations

import hashlib
import os

import pytest
from azure.ai.ml.entities import Model
from azure.core.exceptions import ResourceNotFoundError


def test_registry_round_trip(registry_client, emulator, name, artifact, tmp_path):
    created = registry_client.models.create_or_update(
        Model(name=name, version="1", path=str(artifact), description="shared", tags={"src": "probe"},
              properties={"p": "1"}, stage="Staging")
    )
    assert created.id == f"azureml://registries/{emulator.info['registry_name']}/models/{name}/versions/1"
    assert created.path.startswith(emulator.info["blob_endpoint"] + "/")

    got = registry_client.models.get(name, version="1")
    assert (got.description, got.tags, got.stage, got.properties["p"]) == ("shared", {"src": "probe"}, "Staging", "1")
    assert registry_client.models.get(name, label="latest").version == "1"
    assert name in {m.name for m in registry_client.models.list()}

    out = tmp_path / "out"
    registry_client.models.download(name, version="1", download_path=str(out))
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert hashlib.sha256(files[0].read_bytes()).digest() == hashlib.sha256(artifact.read_bytes()).digest()


def test_registry_archive_restore_and_auto_version(registry_client, name, tmp_path):
    for i in range(2):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(os.urandom(200))
        registry_client.models.create_or_update(Model(name=name, path=str(path)))
    registry_client.models.archive(name, version="2")
    assert [m.version for m in registry_client.models.list(name)] == ["1"]
    registry_client.models.restore(name, version="2")
    assert sorted(m.version for m in registry_client.models.list(name)) == ["1", "2"]


def test_registry_missing_version(registry_client, name):
    with pytest.raises(ResourceNotFoundError):
        registry_client.models.get(name, version="1")


def test_temporary_reference_refuses_an_existing_version(registry_client, emulator, name, artifact):
    registry_client.models.create_or_update(Model(name=name, version="1", path=str(artifact)))
    body = {
        "assetId": f"azureml://registries/{emulator.info['registry_name']}/models/{name}/versions/1",
        "temporaryDataReferenceType": "TemporaryBlobReference",
    }
    url = f"{emulator.registry_prefix}/tempdatarefs/{name}/versions/1"
    response = emulator.rest("PUT", url, body, api_version="2021-10-01-dataplanepreview")
    assert response.status_code == 409  # azure-ai-ml reads this as "already uploaded, skip"


def test_deleted_registry_version_cannot_be_recreated(emulator, name):
    url = f"{emulator.registry_prefix}/models/{name}/versions/1"
    body = {"properties": {"modelUri": f"{emulator.info['blob_endpoint']}/c/m.bin"}}
    v = "2021-10-01-dataplanepreview"
    assert emulator.rest("PUT", url, body, api_version=v).status_code == 201
    assert emulator.rest("DELETE", url, api_version=v).status_code == 200
    assert emulator.rest("DELETE", url, api_version=v).status_code == 204
    again = emulator.rest("PUT", url, body, api_version=v)
    assert again.status_code == 400
    assert "cannot be recreated" in again.json()["error"]["message"]
    container = emulator.rest("GET", f"{emulator.registry_prefix}/models/{name}", api_version=v).json()
    assert container["properties"]["nextVersion"] == "2"
