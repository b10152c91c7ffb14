"""The emulator as a process: announcement line, persistence, clean stop, throttling."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulators import launcher

from .conftest import client_for, error_code, error_message

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")


def test_announcement_names_both_endpoints(emulator: launcher.RunningEmulator) -> None:
    info = emulator.info
    assert info["emulator"] == "sagemaker" and info["region"] == "us-east-1"
    assert info["endpoint"].startswith("http://127.0.0.1:") and info["s3_endpoint"].startswith("http://127.0.0.1:")
    assert info["endpoint"] != info["s3_endpoint"]


def test_unchanged_sdk_code_reaches_it_through_endpoint_env_vars(
    emulator: launcher.RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the sandbox exports: boto3's own AWS_ENDPOINT_URL_<SERVICE> variables, no code change."""
    info = emulator.info
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", info["endpoint"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", info["s3_endpoint"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", info["region"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", info["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", info["aws_secret_access_key"])
    name = f"env-{uuid.uuid4().hex[:8]}"
    arn = boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]
    assert arn.endswith(f"model-package-group/{name}")
    boto3.client("s3").create_bucket(Bucket=name)
    assert name in [b["Name"] for b in client_for(info, "s3").list_buckets()["Buckets"]]


def test_an_existing_s3_can_be_announced_instead() -> None:
    with launcher.start("sagemaker", extra_args=["--s3-endpoint", "http://127.0.0.1:9"]) as running:
        assert running.info["s3_endpoint"] == "http://127.0.0.1:9"


def test_state_survives_a_restart_with_data_dir(tmp_path: Path) -> None:
    args = ["--region", "eu-west-1", "--account-id", "111122223333"]
    weights = bytes(range(256)) * 1000
    with launcher.start("sagemaker", data_dir=tmp_path, extra_args=args) as first:
        sm = client_for(first.info)
        arn = sm.create_model_package_group(ModelPackageGroupName="persisted",
                                            Tags=[{"Key": "k", "Value": "v"}])["ModelPackageGroupArn"]
        v1 = sm.create_model_package(ModelPackageGroupName="persisted")["ModelPackageArn"]
        sm.update_model_package(ModelPackageArn=v1, ModelApprovalStatus="Approved", ApprovalDescription="ok",
                                CustomerMetadataProperties={"k": "v"})
        data = sm.create_artifact(ArtifactType="DataSet", Source={"SourceUri": "s3://d/x"})["ArtifactArn"]
        sm.update_artifact(ArtifactArn=data, Properties={"digest": "abc"})
        ctx = sm.create_context(ContextName="endpoint", ContextType="Endpoint", Source={"SourceUri": "e"})["ContextArn"]
        sm.add_association(SourceArn=data, DestinationArn=ctx)
        s3 = client_for(first.info, "s3")
        s3.create_bucket(Bucket="models", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="models", Key="fraud/v1/model.bin", Body=weights, ContentType="application/octet-stream")
        s3.create_bucket(Bucket="empty", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=10) == 0
    assert arn == "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/persisted"
    with launcher.start("sagemaker", data_dir=tmp_path, extra_args=args) as second:
        sm = client_for(second.info)
        assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        assert sm.create_model_package(ModelPackageGroupName="persisted")["ModelPackageArn"].endswith("/2")
        described = sm.describe_model_package(ModelPackageName=v1)
        assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "ok")
        assert described["CustomerMetadataProperties"] == {"k": "v"}
        assert sm.describe_artifact(ArtifactArn=data)["Properties"] == {"digest": "abc"}
        assert [a["DestinationArn"] for a in sm.list_associations(SourceArn=data)["AssociationSummaries"]] == [ctx]
        s3 = client_for(second.info, "s3")
        restored = s3.get_object(Bucket="models", Key="fraud/v1/model.bin")
        assert restored["Body"].read() == weights and restored["ContentType"] == "application/octet-stream"
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"models", "empty"}


def test_throttling_is_answered_as_aws_does() -> None:
    with launcher.start("sagemaker", extra_args=["--no-s3", "--max-rps", "1"]) as running:
        sm = client_for(running.info)
        with pytest.raises(ClientError) as exc:
            for _ in range(5):
                sm.list_model_package_groups()
        assert error_code(exc) == "ThrottlingException" and error_message(exc) == "Rate exceeded"
        # botocore must classify the answer as throttling and retry it (succeeding or not).
        retrying = client_for(running.info, config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
        try:
            metadata = retrying.list_model_package_groups()["ResponseMetadata"]
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ThrottlingException"
            metadata = err.response["ResponseMetadata"]
        assert metadata["RetryAttempts"] >= 1
