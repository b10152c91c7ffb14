"""AddTags / ListTags / DeleteTags over every resource this emulator hosts.

Tags live in one ARN-keyed table so any resource type can carry them and deleting a
resource drops its tags with it. AddTags overwrites an existing key (AWS: "Tag keys must be
unique per resource").
"""

from __future__ import annotations

from typing import Any

from . import arns, pagination
from .errors import ResourceLimitExceeded, ResourceNotFound
from .request_context import Params, RequestContext, operation

MAX_TAGS_PER_RESOURCE = 50
DEFAULT_LIST_TAGS = 50


def tags_for(ctx: RequestContext, arn: str) -> list[dict[str, str]]:
    return [dict(t) for t in ctx.state.tags.get(arn, [])]


def set_tags(ctx: RequestContext, arn: str, new_tags: list[dict[str, str]]) -> None:
    """Merge ``new_tags`` into the resource's tags, later values winning, order kept."""
    merged = {t["Key"]: t.get("Value", "") for t in ctx.state.tags.get(arn, [])}
    for tag in new_tags:
        merged[tag["Key"]] = tag.get("Value", "")
    if len(merged) > MAX_TAGS_PER_RESOURCE:
        raise ResourceLimitExceeded(
            f"Resource {arn} would have {len(merged)} tags; the limit is {MAX_TAGS_PER_RESOURCE} tags per resource."
        )
    ctx.state.tags[arn] = [{"Key": k, "Value": v} for k, v in merged.items()]


def drop_tags(ctx: RequestContext, arn: str) -> None:
    ctx.state.tags.pop(arn, None)


def resource_exists(ctx: RequestContext, arn: str) -> bool:
    parsed = arns.parse(arn)
    if parsed is None or not arns.is_local(ctx.settings, parsed):
        return False
    state = ctx.state
    if parsed.resource_type == "model-package-group":
        group = state.groups.get(parsed.resource_id.lower())
        return group is not None and group["ModelPackageGroupArn"] == arn
    return any(arn in table for table in (state.packages, state.artifacts, state.contexts, state.actions))


def _require(ctx: RequestContext, arn: str) -> None:
    if not resource_exists(ctx, arn):
        raise ResourceNotFound(f"Resource {arn} does not exist.")


@operation("AddTags")
def add_tags(ctx: RequestContext, params: Params) -> Params:
    arn = params["ResourceArn"]
    _require(ctx, arn)
    set_tags(ctx, arn, params["Tags"])
    ctx.changed()
    return {"Tags": params["Tags"]}


@operation("ListTags")
def list_tags(ctx: RequestContext, params: Params) -> Params:
    arn = params["ResourceArn"]
    _require(ctx, arn)
    indexed: list[tuple[int, dict[str, Any]]] = list(enumerate(tags_for(ctx, arn)))
    chunk, token = pagination.page(
        indexed, lambda item: [item[0]], descending=False,
        max_results=params.get("MaxResults", DEFAULT_LIST_TAGS), token=params.get("NextToken"),
    )
    out: Params = {"Tags": [tag for _, tag in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteTags")
def delete_tags(ctx: RequestContext, params: Params) -> Params:
    arn = params["ResourceArn"]
    _require(ctx, arn)
    doomed = set(params["TagKeys"])
    ctx.state.tags[arn] = [t for t in ctx.state.tags.get(arn, []) if t["Key"] not in doomed]
    ctx.changed()
    return {}
