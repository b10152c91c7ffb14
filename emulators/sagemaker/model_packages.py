"""Model packages: versioned ones (registry versions inside a group) and unversioned ones.

Versions are assigned by the service, start at 1 and only ever grow within a group (a
deleted version's number is not reused). UpdateModelPackage has patch semantics: members
that are not sent keep their value, CustomerMetadataProperties are merged and
CustomerMetadataPropertiesToRemove deletes keys.
"""

from __future__ import annotations

import copy
from typing import Any

from . import arns, pagination
from .errors import ValidationError
from .model_package_groups import DEFAULT_PAGE, find_group, public, require_group
from .request_context import Params, RequestContext, operation
from .tagging import drop_tags, set_tags
from .validation import parse_timestamp

MAX_METADATA_ENTRIES = 50
MAX_ADDITIONAL_INFERENCE_SPECS = 15
DEFAULT_APPROVAL = "PendingManualApproval"
_NOT_STORED = {"ModelPackageName", "ModelPackageGroupName", "Tags", "ClientToken"}
_SUMMARY_KEYS = (
    "ModelPackageName", "ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn",
    "ModelPackageDescription", "CreationTime", "ModelPackageStatus", "ModelApprovalStatus",
    "ModelLifeCycle", "ModelPackageRegistrationType",
)


def canonical_arn(ctx: RequestContext, reference: str) -> str | None:
    """The stored key for a package reference: ARN, ``group/version`` or unversioned name."""
    parsed = arns.parse(reference)
    if parsed is not None:
        if parsed.resource_type != "model-package" or not arns.is_local(ctx.settings, parsed):
            return None
        name, _, version = parsed.resource_id.partition("/")
    else:
        name, _, version = reference.partition("/")
    if version:
        if not version.isdigit():
            return None
        return arns.package_arn(ctx.settings, name, int(version))
    return arns.package_arn(ctx.settings, name, None)


def find_package(ctx: RequestContext, reference: str) -> dict[str, Any] | None:
    arn = canonical_arn(ctx, reference)
    return ctx.state.packages.get(arn) if arn else None


def require_package(ctx: RequestContext, reference: str) -> dict[str, Any]:
    package = find_package(ctx, reference)
    if package is None:
        raise ValidationError(f"ModelPackage {reference} does not exist.")
    return package


def _creation_fields(ctx: RequestContext, params: Params) -> dict[str, Any]:
    record = {k: copy.deepcopy(v) for k, v in params.items() if k not in _NOT_STORED}
    record.update(
        CreationTime=ctx.now,
        CreatedBy=ctx.user_context(),
        ModelPackageStatus="Completed",
        ModelPackageStatusDetails={"ValidationStatuses": [], "ImageScanStatuses": []},
        _seq=ctx.state.next_sequence(),
    )
    return record


def _create_versioned(ctx: RequestContext, params: Params) -> str:
    group = require_group(ctx, params["ModelPackageGroupName"])
    key = group["ModelPackageGroupName"].lower()
    if params.get("Tags"):
        raise ValidationError(
            "Tags cannot be supplied when creating a versioned model package; "
            "it uses the tags of its model package group."
        )
    token_key = f"{key}|{params['ClientToken']}" if params.get("ClientToken") else None
    if token_key and ctx.state.client_tokens.get(token_key) in ctx.state.packages:
        return ctx.state.client_tokens[token_key]
    version = ctx.state.next_version.get(key, 1)
    ctx.state.next_version[key] = version + 1
    arn = arns.package_arn(ctx.settings, group["ModelPackageGroupName"], version)
    record = _creation_fields(ctx, params)
    record.update(
        ModelPackageName=group["ModelPackageGroupName"],
        ModelPackageGroupName=group["ModelPackageGroupName"],
        ModelPackageVersion=version,
        ModelPackageArn=arn,
        _type="Versioned",
        _group_key=key,
    )
    record.setdefault("ModelApprovalStatus", DEFAULT_APPROVAL)
    ctx.state.packages[arn] = record
    if token_key:
        ctx.state.client_tokens[token_key] = arn
    return arn


def _create_unversioned(ctx: RequestContext, params: Params) -> str:
    name = params["ModelPackageName"]
    arn = arns.package_arn(ctx.settings, name, None)
    token_key = f"|{params['ClientToken']}" if params.get("ClientToken") else None
    if token_key and ctx.state.client_tokens.get(token_key) == arn and arn in ctx.state.packages:
        return arn
    if arn in ctx.state.packages:
        raise ValidationError(f"Model Package already exists: {arn}")
    record = _creation_fields(ctx, params)
    record.update(ModelPackageName=name, ModelPackageArn=arn, _type="Unversioned")
    ctx.state.packages[arn] = record
    if params.get("Tags"):
        set_tags(ctx, arn, params["Tags"])
    if token_key:
        ctx.state.client_tokens[token_key] = arn
    return arn


@operation("CreateModelPackage")
def create_package(ctx: RequestContext, params: Params) -> Params:
    has_name = bool(params.get("ModelPackageName"))
    has_group = bool(params.get("ModelPackageGroupName"))
    if has_name and has_group:
        raise ValidationError(
            "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
            "Cannot determine which one to use."
        )
    if not has_name and not has_group:
        raise ValidationError("Missing ARN.")
    arn = _create_versioned(ctx, params) if has_group else _create_unversioned(ctx, params)
    ctx.changed()
    return {"ModelPackageArn": arn}


@operation("DescribeModelPackage")
def describe_package(ctx: RequestContext, params: Params) -> Params:
    return public(require_package(ctx, params["ModelPackageName"]))


def package_summary(package: dict[str, Any]) -> dict[str, Any]:
    out = {k: package[k] for k in _SUMMARY_KEYS if k in package}
    if package.get("_type") == "Versioned":
        out.pop("ModelPackageName", None)  # AWS lists versioned packages without a name
    return out


@operation("ListModelPackages")
def list_packages(ctx: RequestContext, params: Params) -> Params:
    group_ref = params.get("ModelPackageGroupName")
    kind = params.get("ModelPackageType") or ("Versioned" if group_ref else "Unversioned")
    packages = list(ctx.state.packages.values())
    if kind != "Both":
        packages = [p for p in packages if p["_type"] == kind]
    if group_ref:
        group = find_group(ctx, group_ref)
        key = group["ModelPackageGroupName"].lower() if group else None
        packages = [p for p in packages if key and p.get("_group_key") == key]
    if "NameContains" in params:
        needle = params["NameContains"].lower()
        packages = [p for p in packages if needle in p["ModelPackageName"].lower()]
    if "ModelApprovalStatus" in params:
        packages = [p for p in packages if p.get("ModelApprovalStatus") == params["ModelApprovalStatus"]]
    if "CreationTimeAfter" in params:
        packages = [p for p in packages if p["CreationTime"] > parse_timestamp(params["CreationTimeAfter"])]
    if "CreationTimeBefore" in params:
        packages = [p for p in packages if p["CreationTime"] < parse_timestamp(params["CreationTimeBefore"])]
    by_name = params.get("SortBy") == "Name"

    def key_of(p: dict[str, Any]) -> list[Any]:
        if by_name:
            return [p["ModelPackageName"], p.get("ModelPackageVersion", 0), p["_seq"]]
        return [p["CreationTime"], p["_seq"]]

    chunk, token = pagination.page(
        packages, key_of, descending=params.get("SortOrder") == "Descending",
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {"ModelPackageSummaryList": [package_summary(p) for p in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("BatchDescribeModelPackage")
def batch_describe(ctx: RequestContext, params: Params) -> Params:
    summaries: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    keys = ("ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageDescription",
            "CreationTime", "InferenceSpecification", "ModelPackageStatus", "ModelApprovalStatus",
            "ModelPackageRegistrationType")
    for arn in params["ModelPackageArnList"]:
        package = find_package(ctx, arn)
        if package is None:
            errors[arn] = {"ErrorCode": "ValidationException", "ErrorResponse": f"ModelPackage {arn} does not exist."}
            continue
        summaries[arn] = {k: copy.deepcopy(package[k]) for k in keys if k in package}
    return {"ModelPackageSummaries": summaries, "BatchDescribeModelPackageErrorMap": errors}


def _merge_metadata(package: dict[str, Any], params: Params) -> None:
    added: dict[str, str] = params.get("CustomerMetadataProperties") or {}
    removed: list[str] = params.get("CustomerMetadataPropertiesToRemove") or []
    both = sorted(set(added) & set(removed))
    if both:
        raise ValidationError(
            "The same key cannot be added with CustomerMetadataProperties and removed with "
            f"CustomerMetadataPropertiesToRemove in one request: {', '.join(both)}"
        )
    if not added and not removed:
        return
    merged = dict(package.get("CustomerMetadataProperties") or {})
    merged.update(added)
    for key in removed:
        merged.pop(key, None)
    if len(merged) > MAX_METADATA_ENTRIES:
        raise ValidationError(
            f"CustomerMetadataProperties would have {len(merged)} entries after the update; "
            f"a model package can have at most {MAX_METADATA_ENTRIES}."
        )
    if merged:
        package["CustomerMetadataProperties"] = merged
    else:
        package.pop("CustomerMetadataProperties", None)


@operation("UpdateModelPackage")
def update_package(ctx: RequestContext, params: Params) -> Params:
    package = require_package(ctx, params["ModelPackageArn"])
    staged = copy.deepcopy(package)  # validate everything before changing anything
    _merge_metadata(staged, params)
    extra = params.get("AdditionalInferenceSpecificationsToAdd") or []
    if extra:
        current = staged.get("AdditionalInferenceSpecifications") or []
        if len(current) + len(extra) > MAX_ADDITIONAL_INFERENCE_SPECS:
            raise ValidationError(
                "The total number of AdditionalInferenceSpecifications can not exceed "
                f"{MAX_ADDITIONAL_INFERENCE_SPECS}."
            )
        staged["AdditionalInferenceSpecifications"] = current + copy.deepcopy(extra)
    for key in ("ModelApprovalStatus", "ApprovalDescription", "InferenceSpecification", "SourceUri",
                "ModelLifeCycle", "ModelPackageRegistrationType"):
        if key in params:
            staged[key] = copy.deepcopy(params[key])
    if "ModelCard" in params:
        card = dict(staged.get("ModelCard") or {})
        card.update(params["ModelCard"])
        staged["ModelCard"] = card
    staged["LastModifiedTime"] = ctx.now
    staged["LastModifiedBy"] = ctx.user_context()
    ctx.state.packages[staged["ModelPackageArn"]] = staged
    ctx.changed()
    return {"ModelPackageArn": staged["ModelPackageArn"]}


@operation("DeleteModelPackage")
def delete_package(ctx: RequestContext, params: Params) -> Params:
    package = require_package(ctx, params["ModelPackageName"])
    arn = package["ModelPackageArn"]
    del ctx.state.packages[arn]
    drop_tags(ctx, arn)
    ctx.state.client_tokens.remove_where(lambda target: target == arn)
    ctx.changed()
    return {}
