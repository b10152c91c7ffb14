"""The register -> approve -> find-latest-approved flow a SageMaker user writes with boto3."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import client_for, error_code, error_message

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:latest"


def register(sm: Any, group: str, model_url: str, **extra: Any) -> str:
    spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": model_url}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}
    return sm.create_model_package(ModelPackageGroupName=group, InferenceSpecification=spec, **extra)["ModelPackageArn"]


def test_register_approve_and_find_latest_approved(sm: Any, s3: Any, unique: Any) -> None:
    group, bucket = unique("fraud"), unique("models")
    s3.create_bucket(Bucket=bucket)
    body = b"model-bytes" * 100
    s3.put_object(Bucket=bucket, Key="fraud/model.tar.gz", Body=body, ChecksumAlgorithm="SHA256")
    url = f"s3://{bucket}/fraud/model.tar.gz"
    group_arn = sm.create_model_package_group(
        ModelPackageGroupName=group, ModelPackageGroupDescription="fraud models",
        Tags=[{"Key": "team", "Value": "risk"}],
    )["ModelPackageGroupArn"]
    assert group_arn == f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group}"
    described_group = sm.describe_model_package_group(ModelPackageGroupName=group)
    assert described_group["ModelPackageGroupStatus"] == "Completed"
    assert described_group["ModelPackageGroupDescription"] == "fraud models"
    assert "CreatedBy" in described_group
    assert sm.describe_model_package_group(ModelPackageGroupName=group_arn)["ModelPackageGroupName"] == group

    arns = [register(sm, group, url, ModelPackageDescription=f"v{i}") for i in (1, 2, 3)]
    assert [a.rsplit("/", 1)[1] for a in arns] == ["1", "2", "3"]
    v2 = sm.describe_model_package(ModelPackageName=arns[1])
    assert v2["ModelPackageVersion"] == 2 and v2["ModelPackageGroupName"] == group
    assert v2["ModelApprovalStatus"] == "PendingManualApproval"
    assert v2["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == url

    sm.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved", ApprovalDescription="LGTM")
    approved = sm.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved")
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arns[1]]
    latest = sm.list_model_packages(ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending",
                                    MaxResults=1)["ModelPackageSummaryList"][0]
    assert latest["ModelPackageVersion"] == 3
    assert "ModelPackageName" not in latest  # versioned summaries carry no name
    after = sm.describe_model_package(ModelPackageName=arns[1])
    assert after["ApprovalDescription"] == "LGTM"
    assert after["LastModifiedBy"]["IamIdentity"]["PrincipalId"] == "testing"
    # The model data the package points at is in the announced S3, byte for byte.
    bucket_name, key = url[5:].split("/", 1)
    fetched = s3.get_object(Bucket=bucket_name, Key=key)["Body"].read()
    assert hashlib.sha256(fetched).digest() == hashlib.sha256(body).digest()


def test_metadata_patch_semantics_and_removal(sm: Any, unique: Any) -> None:
    group = unique("meta")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = register(sm, group, "s3://bucket/m.tar.gz",
                   CustomerMetadataProperties={"framework": "xgboost", "owner": "ana"})
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"env": "prod"})
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {"framework": "xgboost", "owner": "ana", "env": "prod"}
    assert described["ModelApprovalStatus"] == "Approved" and described["ApprovalDescription"] == "ok"
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataPropertiesToRemove=["owner", "framework"])
    assert sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"] == {"env": "prod"}
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataPropertiesToRemove=["env"])
    assert "CustomerMetadataProperties" not in sm.describe_model_package(ModelPackageName=arn)


def test_metadata_limit_is_enforced_across_updates(sm: Any, unique: Any) -> None:
    group = unique("limit")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = register(sm, group, "s3://b/m", CustomerMetadataProperties={f"k{i}": "v" for i in range(50)})
    with pytest.raises(ClientError) as exc:
        sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"one-more": "v"})
    assert error_code(exc) == "ValidationException"
    assert len(sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]) == 50


def test_lifecycle_model_card_source_uri_and_metadata_round_trip(sm: Any, unique: Any) -> None:
    group = unique("card")
    sm.create_model_package_group(ModelPackageGroupName=group)
    card = '{"model_overview": {"model_creator": "risk-team"}}'
    arn = register(
        sm, group, "s3://b/m",
        ModelCard={"ModelCardContent": card, "ModelCardStatus": "Draft"},
        ModelLifeCycle={"Stage": "Development", "StageStatus": "InProgress", "StageDescription": "training"},
        SourceUri="s3://b/source",
        MetadataProperties={"CommitId": "abc123", "Repository": "git@example:fraud.git", "GeneratedBy": "job-1"},
        ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/metrics.json"}}},
    )
    sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle={"Stage": "Production", "StageStatus": "Approved"},
                            ModelCard={"ModelCardStatus": "Approved"})
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelLifeCycle"] == {"Stage": "Production", "StageStatus": "Approved"}
    assert described["ModelCard"] == {"ModelCardContent": card, "ModelCardStatus": "Approved"}
    assert described["SourceUri"] == "s3://b/source"
    assert described["MetadataProperties"]["CommitId"] == "abc123"
    assert described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://b/metrics.json"
    summary = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"][0]
    assert summary["ModelLifeCycle"]["Stage"] == "Production"


def test_versions_are_never_reused_after_delete(sm: Any, unique: Any) -> None:
    group = unique("del")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arns = [register(sm, group, "s3://b/m") for _ in range(3)]
    sm.delete_model_package(ModelPackageName=arns[2])
    with pytest.raises(ClientError) as exc:
        sm.describe_model_package(ModelPackageName=arns[2])
    assert error_code(exc) == "ValidationException"
    assert register(sm, group, "s3://b/m").endswith("/4")
    assert sm.describe_model_package(ModelPackageName=f"{group}/2")["ModelPackageArn"] == arns[1]


def test_non_empty_group_cannot_be_deleted(sm: Any, unique: Any) -> None:
    group = unique("busy")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = register(sm, group, "s3://b/m")
    with pytest.raises(ClientError) as exc:
        sm.delete_model_package_group(ModelPackageGroupName=group)
    assert error_code(exc) == "ConflictException"
    sm.delete_model_package(ModelPackageName=arn)
    sm.delete_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError) as exc:
        sm.describe_model_package_group(ModelPackageGroupName=group)
    assert error_code(exc) == "ValidationException"
    assert "does not exist" in error_message(exc)


def test_duplicate_group_is_rejected_and_keeps_original(sm: Any, unique: Any) -> None:
    group = unique("dup")
    sm.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription="first")
    with pytest.raises(ClientError) as exc:
        sm.create_model_package_group(ModelPackageGroupName=group.upper(), ModelPackageGroupDescription="second")
    assert error_code(exc) == "ValidationException"
    assert "already exists" in error_message(exc)
    assert sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupDescription"] == "first"


def test_client_token_makes_create_idempotent(sm: Any, unique: Any) -> None:
    group = unique("idem")
    sm.create_model_package_group(ModelPackageGroupName=group)
    first = register(sm, group, "s3://b/m", ClientToken="token-1")
    again = register(sm, group, "s3://b/m", ClientToken="token-1")
    other = register(sm, group, "s3://b/m", ClientToken="token-2")
    assert first == again and other != first
    listed = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert len(listed) == 2


def test_batch_describe_reports_found_and_missing(sm: Any, unique: Any) -> None:
    group = unique("batch")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = register(sm, group, "s3://b/m")
    missing = arn[:-1] + "9"
    out = sm.batch_describe_model_package(ModelPackageArnList=[arn, missing])
    assert out["ModelPackageSummaries"][arn]["ModelPackageVersion"] == 1
    assert out["ModelPackageSummaries"][arn]["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE
    assert missing in out["BatchDescribeModelPackageErrorMap"]


def test_versioned_package_takes_no_tags_but_group_tags_apply(sm: Any, unique: Any) -> None:
    group = unique("tags")
    group_arn = sm.create_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    with pytest.raises(ClientError) as exc:
        register(sm, group, "s3://b/m", Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(exc) == "ValidationException"
    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": "team", "Value": "risk"}, {"Key": "tier", "Value": "1"}])
    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": "team", "Value": "fraud"}])
    assert sm.list_tags(ResourceArn=group_arn)["Tags"] == [{"Key": "team", "Value": "fraud"}, {"Key": "tier", "Value": "1"}]
    sm.delete_tags(ResourceArn=group_arn, TagKeys=["tier"])
    assert sm.list_tags(ResourceArn=group_arn)["Tags"] == [{"Key": "team", "Value": "fraud"}]


def test_created_by_and_last_modified_by_follow_the_caller(emulator: Any, sm: Any, unique: Any) -> None:
    group = unique("who")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = register(sm, group, "s3://b/m")
    reviewer = client_for(emulator.info, access_key="AKIAREVIEWER")
    reviewer.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription="no")
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["CreatedBy"]["IamIdentity"]["PrincipalId"] == "testing"
    assert described["LastModifiedBy"]["IamIdentity"]["PrincipalId"] == "AKIAREVIEWER"
    assert described["LastModifiedTime"] >= described["CreationTime"]


def test_unversioned_packages_are_listed_by_default(sm: Any, unique: Any) -> None:
    name = unique("algo")
    arn = sm.create_model_package(ModelPackageName=name, InferenceSpecification={
        "Containers": [{"Image": IMAGE}], "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]
    names = [p.get("ModelPackageName") for p in sm.list_model_packages(NameContains=name)["ModelPackageSummaryList"]]
    assert names == [name]
    assert sm.describe_model_package(ModelPackageName=name)["ModelPackageArn"] == arn
