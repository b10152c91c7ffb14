"""The gateway's Azure ML adapter against the emulator, side by side with the plain SDK:
what one writes, the other reads identically."""

from __future__ import annotations

import hashlib
import os

import pytest
from azure.ai.ml.entities import Model as AzureModel

from adapters.azureml import AzureMLAdapter
from adapters.base import ArtifactUpload, Conflict, InvalidInput, NotFound, Unavailable
from emulators import launcher
from mapping.schema import Approval, ApprovalStatus, Lineage, SourceRun, Stage, VersionSpec
from tests.conformance.backends.azureml import emulator_settings


@pytest.fixture(scope="module")
def adapter(emulator):
    adapter = AzureMLAdapter("az-test", emulator_settings(emulator.info))
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def registry_adapter(emulator):
    adapter = AzureMLAdapter("az-reg-test", emulator_settings(emulator.info, registry=True))
    yield adapter
    adapter.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("form", ["workspace", "registry"])
def test_sdk_upload_is_listed_with_same_tags_stage_and_checksum(
    form, ml_client, registry_client, adapter, registry_adapter, name, artifact
):
    client, gateway = (ml_client, adapter) if form == "workspace" else (registry_client, registry_adapter)
    assert gateway.health().ok
    client.models.create_or_update(
        AzureModel(name=name, version="1", path=str(artifact), tags={"team": "risk", "n": "1"}, stage="Production")
    )
    listed = [v for v in gateway.iter_versions(name)]
    assert [v.version for v in listed] == ["1"]
    version = listed[0]
    assert version.tags == {"team": "risk", "n": "1"}
    assert (version.stage, version.stage_native) == (Stage.PRODUCTION, "Production")
    files = gateway.list_artifacts(name, "1")
    assert [(f.path, f.size, f.sha256) for f in files] == [("model.bin", artifact.stat().st_size, sha(artifact.read_bytes()))]
    assert name in {m.name for m in gateway.iter_models()}


@pytest.mark.parametrize("form", ["workspace", "registry"])
def test_sdk_download_returns_identical_bytes_for_an_adapter_version(
    form, ml_client, registry_client, adapter, registry_adapter, name, tmp_path
):
    client, gateway = (ml_client, adapter) if form == "workspace" else (registry_client, registry_adapter)
    weights = os.urandom(300_000)
    config = b'{"k": 1}'
    gateway.create_model(name, description="from the gateway")
    created = gateway.create_version(
        name, VersionSpec(tags={"a": "b"}, stage=Stage.STAGING),
        [ArtifactUpload.from_bytes("model.bin", weights), ArtifactUpload.from_bytes("conf/c.json", config)],
    )
    client.models.download(name, version=created.version, download_path=str(tmp_path))
    got = {p.relative_to(tmp_path).as_posix().split("/", 2)[-1]: p.read_bytes()
           for p in tmp_path.rglob("*") if p.is_file()}
    assert got == {"model.bin": weights, "conf/c.json": config}
    sdk_view = client.models.get(name, version=created.version)
    assert (sdk_view.tags["a"], sdk_view.stage) == ("b", "Staging")


def test_archive_is_the_canonical_archived_stage(ml_client, adapter, name, artifact):
    ml_client.models.create_or_update(AzureModel(name=name, version="1", path=str(artifact), stage="Staging"))
    ml_client.models.archive(name, version="1")
    assert adapter.get_version(name, "1").stage == Stage.ARCHIVED
    adapter.set_stage(name, "1", Stage.PRODUCTION)
    assert [m.version for m in ml_client.models.list(name)] == ["1"]  # restored for SDK users too
    adapter.set_stage(name, "1", Stage.ARCHIVED)
    assert list(ml_client.models.list(name)) == []


def test_updating_an_archived_version_keeps_it_archived(adapter, name):
    adapter.create_model(name)
    v = adapter.create_version(name, VersionSpec(stage=Stage.ARCHIVED))
    adapter.set_approval(name, v.version, Approval(status=ApprovalStatus.APPROVED, by="dana"))
    got = adapter.get_version(name, v.version)
    assert (got.stage, got.approval.status) == (Stage.ARCHIVED, ApprovalStatus.APPROVED)


def test_job_name_becomes_the_source_run(emulator, adapter, name):
    url = f"{emulator.workspace_prefix}/models/{name}/versions/1"
    body = {"properties": {"modelUri": "azureml://datastores/workspaceblobstore/paths/x/m.bin", "jobName": "train-9"}}
    assert emulator.rest("PUT", url, body).status_code == 201
    assert adapter.get_lineage(name, "1").source_run == SourceRun(system="azureml", id="train-9")


def test_envelope_lineage_wins_over_job_name_and_properties_keep_provenance(ml_client, adapter, name):
    adapter.create_model(name)
    spec = VersionSpec(created_by="erin", lineage=Lineage(source_run=SourceRun(system="mlflow", id="run-1")))
    v = adapter.create_version(name, spec)
    assert adapter.get_version(name, v.version).lineage.source_run.id == "run-1"
    assert ml_client.models.get(name, version=v.version).properties["mrg.created_by"] == "erin"


def test_requested_version_that_exists_is_refused(adapter, name):
    from adapters.base import AlreadyExists

    adapter.create_model(name)
    adapter.create_version(name, VersionSpec(version="3"))
    with pytest.raises(AlreadyExists):
        adapter.create_version(name, VersionSpec(version="3"))
    assert adapter.create_version(name, VersionSpec()).version == "4"


def test_azure_errors_map_to_the_taxonomy(emulator, adapter, name):
    with pytest.raises(NotFound) as missing:
        adapter.get_version(name, "1")
    assert (missing.value.registry, missing.value.operation) == ("az-test", "get_version")
    with pytest.raises(InvalidInput):
        adapter.create_model("not a valid name")
    with pytest.raises(InvalidInput):
        adapter.get_version(name, "v1")
    # a modelUri change is Azure's 409 "Asset paths cannot be updated." -> Conflict
    url = f"{emulator.workspace_prefix}/models/{name}/versions/1"
    emulator.rest("PUT", url, {"properties": {"modelUri": "azureml://datastores/workspaceblobstore/paths/a"}})
    with pytest.raises(Conflict) as frozen, adapter._op("update_version"):  # the translation layer, real error
        adapter._put_version(name, "1", {"properties": {"modelUri": "azureml://datastores/workspaceblobstore/paths/b"}})
    assert frozen.value.native_code == "UserError"


def test_unreachable_endpoint_is_unavailable_and_retryable(emulator):
    info = dict(emulator.info)
    dead = "https://127.0.0.1:9"
    info["cloud_metadata"] = {**info["cloud_metadata"], "resource_manager": dead + "/"}
    adapter = AzureMLAdapter("az-dead", emulator_settings(info))
    with pytest.raises(Unavailable) as info_:
        adapter.get_model("anything")
    assert info_.value.retryable
    assert not adapter.health().ok


def test_two_clouds_in_one_process_do_not_leak(emulator, adapter, name, tmp_path):
    before = {k: os.environ.get(k) for k in ("AZUREML_CURRENT_CLOUD", "REQUESTS_CA_BUNDLE")}
    with launcher.start("azureml", log_path=tmp_path / "second.log", timeout=120) as second:
        other = AzureMLAdapter("az-other", emulator_settings(second.info))
        for gateway, payload in ((adapter, b"first cloud"), (other, b"second cloud")):
            gateway.create_model(name)
            gateway.create_version(name, VersionSpec(), [ArtifactUpload.from_bytes("w.bin", payload)])
        # interleaved reads: each adapter reaches its own storage account endpoint
        assert adapter.read_artifact_bytes(name, "1", "w.bin") == b"first cloud"
        assert other.read_artifact_bytes(name, "1", "w.bin") == b"second cloud"
        assert adapter.create_version(name, VersionSpec(), [ArtifactUpload.from_bytes("w.bin", b"again")]).version == "2"
        other.close()
    assert {k: os.environ.get(k) for k in before} == before


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, InvalidInput), (401, "PermissionDenied"), (403, "PermissionDenied"), (404, NotFound), (409, Conflict),
     (429, "RateLimited"), (500, Unavailable), (503, Unavailable)],
)
def test_http_statuses_map_explicitly(adapter, status, expected):
    from azure.core.exceptions import HttpResponseError

    import adapters.base as base

    expected_cls = getattr(base, expected) if isinstance(expected, str) else expected
    exc = HttpResponseError(message=f"service said {status}")
    exc.status_code = status
    translated = adapter._translate(exc, "get_model")
    assert type(translated) is expected_cls
    assert (translated.registry, translated.operation) == ("az-test", "get_model")


def test_sdk_validation_errors_are_invalid_input(adapter):
    from azure.ai.ml.exceptions import ErrorTarget, ValidationException

    exc = ValidationException(message="bad path", no_personal_data_message="bad path", target=ErrorTarget.MODEL)
    assert isinstance(adapter._translate(exc, "create_version"), InvalidInput)
