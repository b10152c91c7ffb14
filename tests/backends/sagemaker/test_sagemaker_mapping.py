"""Pure SageMaker mapping: state tables, value encoding, metadata budgeting, error translation."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from adapters.sagemaker import translate_error
from mapping import envelope
from mapping import sagemaker as sm_map
from mapping.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, RateLimited, Unavailable
from mapping.schema import Approval, ApprovalStatus, Stage

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_survives_the_native_lifecycle(stage: Stage) -> None:
    assert sm_map.stage_from_native(sm_map.lifecycle(stage)) == stage


@pytest.mark.parametrize("status", list(ApprovalStatus))
def test_every_approval_survives_native_status_plus_envelope(status: ApprovalStatus) -> None:
    recorded = Approval(status=status, by="bob", comment="two\nlines")
    package = {"ModelApprovalStatus": sm_map.APPROVAL_TO_NATIVE[status],
               "ApprovalDescription": sm_map.native_comment(recorded.comment)}
    assert sm_map.approval_from(package, recorded) == recorded


def test_native_change_outside_the_gateway_wins_over_the_envelope() -> None:
    recorded = Approval(status=ApprovalStatus.APPROVED, by="bob")
    package = {"ModelApprovalStatus": "Rejected", "ApprovalDescription": "regressed",
               "LastModifiedTime": 1_700_000_000.0, "LastModifiedBy": {"UserProfileName": "carol"}}
    got = sm_map.approval_from(package, recorded)
    assert (got.status, got.by, got.comment) == (ApprovalStatus.REJECTED, "carol", "regressed")


@pytest.mark.parametrize("value", ["plain-value", "", "has,comma", "b64:looks-encoded", "ünïcode ok", '{"json": 1}'])
def test_values_encode_into_the_metadata_charset_and_back(value: str) -> None:
    encoded = sm_map.encode_value(value)
    assert sm_map.kv_chars_ok(encoded) and encoded != ""
    assert sm_map.decode_value(encoded) == value


def test_metadata_respects_sagemaker_limits_and_reports_overflow() -> None:
    tags = {f"tag{i}": "v" for i in range(30)}
    fields = {"params": {f"p{i}": "y" * 300 for i in range(30)}, "stage": Stage.STAGING,
              "approval": Approval(status=ApprovalStatus.NONE)}
    metadata, overflow = sm_map.build_metadata(tags, fields, sidecar_uri="s3://b/k/mrg.json")
    assert len(metadata) <= sm_map.METADATA_MAX_ENTRIES
    assert all(len(k) <= 128 and 1 <= len(v) <= 256 and sm_map.kv_chars_ok(v) for k, v in metadata.items())
    assert set(overflow) == {envelope.K_PARAMS} and metadata[envelope.K_SIDECAR] == "s3://b/k/mrg.json"
    user, entries = sm_map.read_metadata(metadata, overflow)
    assert user == tags and entries[envelope.K_STAGE] == "STAGING"
    assert envelope.decode_fields(entries)["approval"] == Approval(status=ApprovalStatus.NONE)


def test_tags_sagemaker_cannot_hold_plainly_go_through_the_envelope() -> None:
    metadata, _ = sm_map.build_metadata({"ok": "fine", "odd": "a,b", "empty": ""}, {})
    assert metadata["ok"] == "fine" and "odd" not in metadata and "empty" not in metadata
    user, entries = sm_map.read_metadata(metadata)
    assert {**user, **envelope.decode_fields(entries)["tags"]} == {"ok": "fine", "odd": "a,b", "empty": ""}


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "DescribeModelPackage")


@pytest.mark.parametrize(
    ("code", "message", "status", "kind"),
    [
        ("ThrottlingException", "Rate exceeded", 400, RateLimited),
        ("ValidationException", "ModelPackageGroup x does not exist.", 400, NotFound),
        ("ValidationException", "Model Package Group already exists: arn", 400, AlreadyExists),
        ("ValidationException", "1 validation error detected", 400, InvalidInput),
        ("ResourceNotFound", "Artifact gone", 400, NotFound),
        ("AccessDeniedException", "no", 400, PermissionDenied),
        ("500", "<html>boom</html>", 500, Unavailable),
        ("SomethingNew", "?", 429, RateLimited),
    ],
)
def test_botocore_errors_translate_explicitly(code: str, message: str, status: int, kind: type) -> None:
    err = translate_error(_client_error(code, message, status), registry="sm", operation="get_version")
    assert type(err) is kind
    assert (err.registry, err.operation, err.native_code) == ("sm", "get_version", code)
    assert "<html>" not in err.message
