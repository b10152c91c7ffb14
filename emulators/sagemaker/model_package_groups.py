"""Model package groups: the registry's "models". Create, describe, list, delete."""

from __future__ import annotations

from typing import Any

from . import arns, pagination
from .errors import Conflict, ValidationError
from .request_context import Params, RequestContext, operation
from .tagging import drop_tags, set_tags
from .validation import parse_timestamp

DEFAULT_PAGE = 10


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the emulator's private bookkeeping keys (``_seq`` ...)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def group_key(reference: str) -> str:
    """Groups are unique case-insensitively; names and ARNs resolve to one lowercased key."""
    parsed = arns.parse(reference)
    if parsed is not None:
        return parsed.resource_id.lower()
    return reference.lower()


def find_group(ctx: RequestContext, reference: str) -> dict[str, Any] | None:
    parsed = arns.parse(reference)
    if parsed is not None and (not arns.is_local(ctx.settings, parsed) or parsed.resource_type != "model-package-group"):
        return None
    return ctx.state.groups.get(group_key(reference))


def require_group(ctx: RequestContext, reference: str) -> dict[str, Any]:
    group = find_group(ctx, reference)
    if group is None:
        name = group_key(reference) if reference.startswith("arn:") else reference
        raise ValidationError(f"ModelPackageGroup {name} does not exist.")
    return group


def group_packages(ctx: RequestContext, group: dict[str, Any]) -> list[dict[str, Any]]:
    key = group["ModelPackageGroupName"].lower()
    return [p for p in ctx.state.packages.values() if p.get("_group_key") == key]


@operation("CreateModelPackageGroup")
def create_group(ctx: RequestContext, params: Params) -> Params:
    name = params["ModelPackageGroupName"]
    arn = arns.group_arn(ctx.settings, name)
    if name.lower() in ctx.state.groups:
        raise ValidationError(f"Model Package Group already exists: {arn}")
    record: dict[str, Any] = {
        "ModelPackageGroupName": name,
        "ModelPackageGroupArn": arn,
        "CreationTime": ctx.now,
        "CreatedBy": ctx.user_context(),
        "ModelPackageGroupStatus": "Completed",
        "_seq": ctx.state.next_sequence(),
    }
    if "ModelPackageGroupDescription" in params:
        record["ModelPackageGroupDescription"] = params["ModelPackageGroupDescription"]
    if "ManagedConfiguration" in params:
        record["ManagedConfiguration"] = params["ManagedConfiguration"]
    ctx.state.groups[name.lower()] = record
    ctx.state.next_version.setdefault(name.lower(), 1)
    if params.get("Tags"):
        set_tags(ctx, arn, params["Tags"])
    ctx.changed()
    return {"ModelPackageGroupArn": arn}


@operation("DescribeModelPackageGroup")
def describe_group(ctx: RequestContext, params: Params) -> Params:
    return public(require_group(ctx, params["ModelPackageGroupName"]))


def summary(group: dict[str, Any]) -> dict[str, Any]:
    keys = ("ModelPackageGroupName", "ModelPackageGroupArn", "ModelPackageGroupDescription",
            "CreationTime", "ModelPackageGroupStatus", "ManagedConfiguration")
    return {k: group[k] for k in keys if k in group}


@operation("ListModelPackageGroups")
def list_groups(ctx: RequestContext, params: Params) -> Params:
    groups = list(ctx.state.groups.values())
    if "NameContains" in params:
        needle = params["NameContains"].lower()
        groups = [g for g in groups if needle in g["ModelPackageGroupName"].lower()]
    if "CreationTimeAfter" in params:
        groups = [g for g in groups if g["CreationTime"] > parse_timestamp(params["CreationTimeAfter"])]
    if "CreationTimeBefore" in params:
        groups = [g for g in groups if g["CreationTime"] < parse_timestamp(params["CreationTimeBefore"])]
    by_name = params.get("SortBy") == "Name"

    def key(g: dict[str, Any]) -> list[Any]:
        primary = g["ModelPackageGroupName"] if by_name else g["CreationTime"]
        return [primary, g["_seq"]]

    chunk, token = pagination.page(
        groups, key, descending=params.get("SortOrder") == "Descending",
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {"ModelPackageGroupSummaryList": [summary(g) for g in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteModelPackageGroup")
def delete_group(ctx: RequestContext, params: Params) -> Params:
    group = require_group(ctx, params["ModelPackageGroupName"])
    if group_packages(ctx, group):
        raise Conflict(
            f"Model Package Group {group['ModelPackageGroupName']} contains model packages and cannot be "
            "deleted. Delete all model packages in the group first."
        )
    key = group["ModelPackageGroupName"].lower()
    del ctx.state.groups[key]
    ctx.state.next_version.pop(key, None)
    drop_tags(ctx, group["ModelPackageGroupArn"])
    ctx.changed()
    return {}
