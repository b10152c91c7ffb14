"""The SageMaker adapter against the emulator, checked with what plain boto3 then sees."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.base import ArtifactUpload
from adapters.sagemaker import SageMakerAdapter
from emulators import launcher
from mapping.errors import AlreadyExists, InvalidInput, NotFound, RateLimited, Unavailable
from mapping.schema import Approval, ApprovalStatus, DatasetRef, Lineage, ModelQuery, ParentRef, Stage, VersionSpec

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")

BUCKET = "mrg-adapter-tests"


def settings_for(info: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_url": info["endpoint"], "s3_endpoint_url": info.get("s3_endpoint"), "region": info["region"],
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        "bucket": BUCKET, "create_bucket": True, "max_attempts": 1, **extra,
    }


@pytest.fixture(scope="module")
def adapter(emulator: launcher.RunningEmulator) -> Iterator[SageMakerAdapter]:
    made = SageMakerAdapter("sm-test", settings_for(emulator.info))
    yield made
    made.close()


@pytest.fixture
def model(adapter: SageMakerAdapter, unique: Any) -> str:
    name = unique("adapter")
    adapter.create_model(name, description="fraud", tags={"team": "risk"})
    return name


def test_approval_through_the_adapter_is_native_in_sagemaker(adapter: SageMakerAdapter, sm: Any, model: str) -> None:
    adapter.create_version(model, VersionSpec(description="v1"))
    v2 = adapter.create_version(model, VersionSpec(description="v2"))
    adapter.set_approval(model, v2.version, Approval(status=ApprovalStatus.APPROVED, by="bob",
                                                     comment="drift and bias reports reviewed"))
    arn = v2.native["arn"] if v2.native else ""
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelPackageVersion"] == 2
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "drift and bias reports reviewed"
    approved = sm.list_model_packages(ModelPackageGroupName=model, ModelApprovalStatus="Approved")
    assert [p["ModelPackageVersion"] for p in approved["ModelPackageSummaryList"]] == [2]
    assert adapter.get_version(model, "2").approval.by == "bob"


@pytest.mark.parametrize("name", ["a" * 65, "bad_name!"])
def test_names_aws_rejects_are_invalid_input_naming_the_rule(adapter: SageMakerAdapter, sm: Any, name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        adapter.create_model(name)
    assert info.value.field == "name"
    assert "1-63 characters" in info.value.message and "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}" in info.value.message
    assert info.value.registry == "sm-test"


def test_stage_is_the_native_lifecycle_and_reads_back(adapter: SageMakerAdapter, sm: Any, model: str) -> None:
    v = adapter.create_version(model, VersionSpec(stage=Stage.STAGING))
    adapter.set_stage(model, v.version, Stage.PRODUCTION)
    described = sm.describe_model_package(ModelPackageName=v.native["arn"])  # type: ignore[index]
    assert described["ModelLifeCycle"] == {"Stage": "Production", "StageStatus": "Active"}
    got = adapter.get_version(model, v.version)
    assert (got.stage, got.stage_native) == (Stage.PRODUCTION, "Production")


def test_user_tags_are_plain_metadata_and_overflow_goes_to_the_sidecar(
    adapter: SageMakerAdapter, sm: Any, s3: Any, model: str
) -> None:
    params = {f"param_{i:03d}": "x" * 200 for i in range(80)}  # far past 50 x 256 characters
    spec = VersionSpec(tags={"team": "risk"}, params=params, metrics={"auc": 0.93},
                       model_card="# Card\n\nmulti-line\n", description="line one\nline two")
    v = adapter.create_version(model, spec)
    described = sm.describe_model_package(ModelPackageName=v.native["arn"])  # type: ignore[index]
    metadata = described["CustomerMetadataProperties"]
    assert metadata["team"] == "risk"
    assert len(metadata) <= 50 and all(len(value) <= 256 for value in metadata.values())
    sidecar_uri = metadata["mrg.sidecar"]
    bucket, key = sidecar_uri[5:].split("/", 1)
    assert key.endswith("/mrg.json") and s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    got = adapter.get_version(model, v.version)
    assert got.params == params and got.metrics == {"auc": 0.93}
    assert got.model_card == spec.model_card and got.description == spec.description
    assert '"mrg_markdown"' in described["ModelCard"]["ModelCardContent"]


def test_artifacts_stream_to_s3_with_checksums(adapter: SageMakerAdapter, s3: Any, model: str) -> None:
    data = bytes(range(256)) * 40_000  # ~10 MiB: a multipart upload
    spec = VersionSpec(format="safetensors", framework="pytorch")
    v = adapter.create_version(model, spec, [ArtifactUpload.from_bytes("weights/model.bin", data)])
    assert (v.artifact.format, v.artifact.framework) == ("safetensors", "pytorch")
    assert v.artifact.uri and v.artifact.uri.startswith(f"s3://{BUCKET}/")
    bucket, prefix = v.artifact.uri[5:].split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=f"{prefix}/weights/model.bin")["ContentLength"] == len(data)
    files = adapter.list_artifacts(model, v.version)
    assert [(f.path, f.size) for f in files] == [("weights/model.bin", len(data))]
    assert b"".join(adapter.read_artifact(model, v.version, "weights/model.bin")) == data
    s3.put_object(Bucket=bucket, Key=f"{prefix}/weights/model.bin", Body=b"tampered")  # behind the registry's back
    with pytest.raises(InvalidInput) as info:
        b"".join(adapter.read_artifact(model, v.version, "weights/model.bin"))
    assert info.value.field == "artifact.sha256"
    adapter.delete_version(model, v.version)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0) == 0


def test_aliases_are_unique_per_model_in_group_tags(adapter: SageMakerAdapter, sm: Any, model: str) -> None:
    v1 = adapter.create_version(model, VersionSpec())
    v2 = adapter.create_version(model, VersionSpec())
    adapter.set_alias(model, "champion", v1.version)
    adapter.set_alias(model, "champion", v2.version)
    adapter.set_alias(model, "challenger", v1.version)
    assert adapter.get_model(model).aliases == {"champion": v2.version, "challenger": v1.version}
    group_arn = sm.describe_model_package_group(ModelPackageGroupName=model)["ModelPackageGroupArn"]
    keys = [t["Key"] for t in sm.list_tags(ResourceArn=group_arn)["Tags"]]
    assert "mrg.aliases" in keys and "team" in keys
    adapter.delete_version(model, v2.version)
    assert adapter.get_model(model).aliases == {"challenger": v1.version}


def test_lineage_is_published_as_sagemaker_lineage_entities(adapter: SageMakerAdapter, sm: Any, model: str) -> None:
    dataset_uri = f"s3://data/{uuid.uuid4().hex}.parquet"
    lineage = Lineage(datasets=[DatasetRef(uri=dataset_uri, digest="abc", name="train")],
                      parents=[ParentRef(uri="mrg://hub/base/versions/1", relation="fine-tune")])
    v = adapter.create_version(model, VersionSpec(lineage=lineage))
    dataset = sm.list_artifacts(SourceUri=dataset_uri)["ArtifactSummaries"][0]["ArtifactArn"]
    reached = sm.query_lineage(StartArns=[dataset], Direction="Descendants")["Vertices"]
    package_artifact = sm.list_artifacts(SourceUri=v.native["arn"])["ArtifactSummaries"][0]["ArtifactArn"]  # type: ignore[index]
    assert {"Arn": package_artifact, "Type": "ModelPackage", "LineageType": "Artifact"} in reached
    assert adapter.get_lineage(model, v.version) == lineage


def test_versions_registered_outside_the_gateway_read_sensibly(adapter: SageMakerAdapter, sm: Any, model: str) -> None:
    arn = sm.create_model_package(ModelPackageGroupName=model, ModelPackageDescription="by hand",
                                  ModelLifeCycle={"Stage": "prod", "StageStatus": "Deployed"},
                                  CustomerMetadataProperties={"owner": "ana"})["ModelPackageArn"]
    got = adapter.get_version(model, arn.rsplit("/", 1)[1])
    assert got.description == "by hand" and got.tags == {"owner": "ana"}
    assert got.stage == Stage.PRODUCTION and got.stage_native == "prod"
    assert got.approval.status == ApprovalStatus.PENDING  # SageMaker's default, not "no approval"


def test_errors_map_onto_the_taxonomy(adapter: SageMakerAdapter, model: str) -> None:
    with pytest.raises(AlreadyExists):
        adapter.create_model(model)
    with pytest.raises(NotFound) as info:
        adapter.get_version(model, "41")
    assert info.value.operation == "get_version"
    with pytest.raises(NotFound):
        adapter.get_model(model + "-missing")
    with pytest.raises(InvalidInput):
        adapter.create_model(model + "-2", tags={"bad": "comma,value"})


def test_throttling_is_rate_limited_and_retryable() -> None:
    with launcher.start("sagemaker", extra_args=["--no-s3", "--max-rps", "1"]) as running:
        throttled = SageMakerAdapter("sm-throttled", settings_for(running.info, bucket=None))
        with pytest.raises(RateLimited) as info:
            for _ in range(5):
                throttled.list_models()
        assert info.value.retryable and info.value.native_code == "ThrottlingException"


def test_list_models_filters_by_prefix_and_tag(adapter: SageMakerAdapter, unique: Any) -> None:
    stem = unique("lm")
    adapter.create_model(f"{stem}-a", tags={"tier": "gold"})
    adapter.create_model(f"{stem}-b", tags={"tier": "silver"})
    adapter.create_version(f"{stem}-a", VersionSpec())
    found = list(adapter.iter_models(ModelQuery(name_prefix=stem, tags={"tier": "gold"}), page_size=1))
    assert [(m.name, m.latest_version) for m in found] == [(f"{stem}-a", "1")]
    updated = adapter.update_model(f"{stem}-b", description="now with, punctuation & newlines\n", remove_tags=["tier"])
    assert updated.description == "now with, punctuation & newlines\n" and updated.tags == {}


def test_health_and_an_unreachable_endpoint(adapter: SageMakerAdapter) -> None:
    assert adapter.health().ok
    dead = SageMakerAdapter("sm-dead", {"endpoint_url": "http://127.0.0.1:9", "aws_access_key_id": "x",
                                        "aws_secret_access_key": "y", "max_attempts": 1, "connect_timeout": 1})
    report = dead.health()
    assert not report.ok and report.message
    with pytest.raises(Unavailable) as info:
        dead.get_model("anything")
    assert info.value.retryable and info.value.registry == "sm-dead"


def test_capabilities_follow_the_settings(adapter: SageMakerAdapter) -> None:
    caps = adapter.capabilities()
    assert caps.approval_native and caps.stage_native and not caps.version_id_assignable
    assert caps.artifact_upload and caps.list_page_max == 100 and caps.max_tags == 50
    assert not SageMakerAdapter("no-bucket", {}).capabilities().artifact_upload


def test_mixed_case_model_names_work_end_to_end(adapter: SageMakerAdapter, sm: Any) -> None:
    name = f"Fraud-CS-{uuid.uuid4().hex[:6]}"
    adapter.create_model(name)
    v = adapter.create_version(name, VersionSpec(description="first"))
    assert v.native and v.native["arn"].endswith(f"model-package/{name.lower()}/1")
    assert adapter.get_version(name, "1").description == "first"
    assert [m.name for m in adapter.iter_models(ModelQuery(name_prefix=name))] == [name]
    adapter.delete_model(name)
    with pytest.raises(NotFound):
        adapter.get_model(name)
