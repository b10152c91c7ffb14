"""Requests AWS rejects are rejected here too, with AWS's codes and message wording."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code, error_message

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")

NAME_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


def raw_call(endpoint: str, target: str, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST without boto3, to send what botocore's client-side checks would stop."""
    request = urllib.request.Request(endpoint, data=body, method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.mark.parametrize(
    ("name", "clauses"),
    [
        ("bad_name!", [f"Member must satisfy regular expression pattern: {NAME_PATTERN}"]),
        ("a" * 64, ["Member must have length less than or equal to 63",
                    f"Member must satisfy regular expression pattern: {NAME_PATTERN}"]),
        ("-leading", [f"Member must satisfy regular expression pattern: {NAME_PATTERN}"]),
    ],
)
def test_group_names_aws_rejects(sm: Any, name: str, clauses: list[str]) -> None:
    with pytest.raises(ClientError) as exc:
        sm.create_model_package_group(ModelPackageGroupName=name)
    assert error_code(exc) == "ValidationException"
    expected = "; ".join(
        f"Value '{name}' at 'modelPackageGroupName' failed to satisfy constraint: {c}" for c in clauses)
    count = f"{len(clauses)} validation error{'s' if len(clauses) > 1 else ''} detected"
    assert error_message(exc) == f"{count}: {expected}"


def test_every_violation_is_reported_at_once(sm: Any) -> None:
    name = "x_" * 33
    with pytest.raises(ClientError) as exc:
        sm.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription="d" * 1025)
    message = error_message(exc)
    assert message.startswith("3 validation errors detected: ")
    assert "at 'modelPackageGroupName' failed to satisfy constraint: Member must have length less than or equal to 63" in message
    assert "at 'modelPackageGroupDescription' failed to satisfy constraint: Member must have length less than or equal to 1024" in message


def test_enum_violation_names_the_allowed_values(sm: Any, unique: Any) -> None:
    group = unique("enum")
    sm.create_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError) as exc:
        sm.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus="Bogus")
    assert error_message(exc) == (
        "1 validation error detected: Value 'Bogus' at 'modelApprovalStatus' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]"
    )


def test_nested_members_are_validated_with_their_path(sm: Any, unique: Any) -> None:
    group = unique("nested")
    sm.create_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError) as exc:
        sm.create_model_package(ModelPackageGroupName=group,
                                ModelLifeCycle={"Stage": "bad stage", "StageStatus": "ok"})
    assert "at 'modelLifeCycle.stage' failed to satisfy constraint" in error_message(exc)
    with pytest.raises(ClientError) as exc:
        sm.create_model_package(ModelPackageGroupName=group, InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "ftp://nope"}]})
    assert "at 'inferenceSpecification.containers.1.member.modelDataUrl'" in error_message(exc)


def test_customer_metadata_limits(sm: Any, unique: Any) -> None:
    group = unique("cmp")
    sm.create_model_package_group(ModelPackageGroupName=group)
    for metadata, clause in [
        ({f"k{i}": "v" for i in range(51)}, "Member must have length less than or equal to 50"),
        ({"k" * 129: "v"}, "Map keys must satisfy constraint: [Member must have length less than or equal to 128"),
        ({"k": "v" * 257}, "Map value must satisfy constraint: [Member must have length less than or equal to 256"),
        ({"k": "no!bang"}, "Map value must satisfy constraint: [Member must satisfy regular expression pattern"),
    ]:
        with pytest.raises(ClientError) as exc:
            sm.create_model_package(ModelPackageGroupName=group, CustomerMetadataProperties=metadata)
        assert error_code(exc) == "ValidationException"
        assert "at 'customerMetadataProperties' failed to satisfy constraint: " + clause in error_message(exc)
    assert sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"] == []


def test_list_page_size_above_100_is_rejected(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.list_model_package_groups(MaxResults=101)
    assert "Member must have value less than or equal to 100" in error_message(exc)


def test_required_member_missing_on_the_wire(emulator: Any) -> None:
    status, headers, body = raw_call(emulator.endpoint, "SageMaker.DescribeModelPackageGroup", b"{}")
    assert status == 400
    assert body == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'modelPackageGroupName' failed to satisfy "
                   "constraint: Member must not be null",
    }
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert headers["x-amzn-RequestId"]


def test_wrong_json_type_and_bad_json_are_serialization_errors(emulator: Any) -> None:
    status, _, body = raw_call(emulator.endpoint, "SageMaker.ListModelPackageGroups", b'{"MaxResults": "ten"}')
    assert (status, body["__type"]) == (400, "SerializationException")
    status, _, body = raw_call(emulator.endpoint, "SageMaker.ListModelPackageGroups", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_unknown_operation(emulator: Any) -> None:
    status, _, body = raw_call(emulator.endpoint, "SageMaker.MakeCoffee", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_both_name_and_group_is_rejected(sm: Any, unique: Any) -> None:
    group = unique("both")
    sm.create_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError) as exc:
        sm.create_model_package(ModelPackageGroupName=group, ModelPackageName=group)
    assert error_code(exc) == "ValidationException"
    assert "Both ModelPackageName and ModelPackageGroupName" in error_message(exc)


def test_overlapping_add_and_remove_keys_are_rejected(sm: Any, unique: Any) -> None:
    group = unique("overlap")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = sm.create_model_package(ModelPackageGroupName=group, CustomerMetadataProperties={"a": "1"})["ModelPackageArn"]
    with pytest.raises(ClientError) as exc:
        sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"a": "2"},
                                CustomerMetadataPropertiesToRemove=["a"])
    assert error_code(exc) == "ValidationException"
    assert sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"] == {"a": "1"}


def test_newlines_break_dot_star_patterns_as_in_java(sm: Any, unique: Any) -> None:
    group = unique("nl")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arn = sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"]
    with pytest.raises(ClientError) as exc:
        sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="line1\nline2")
    assert "at 'approvalDescription' failed to satisfy constraint: Member must satisfy regular expression pattern: .*" in error_message(exc)
