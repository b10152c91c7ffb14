"""ML Lineage: artifacts, contexts, actions, the associations between them, QueryLineage.

Associations are directed edges (source -> destination) stored once per ordered pair;
QueryLineage walks them breadth-first from the start ARN, downstream for ``Descendants``,
upstream for ``Ascendants`` and both ways (separately) for ``Both``.
"""

from __future__ import annotations

import copy
import uuid
from collections import deque
from typing import Any

from . import arns, pagination
from .errors import ResourceNotFound, ValidationError
from .model_package_groups import public
from .request_context import Params, RequestContext, operation
from .tagging import drop_tags, set_tags
from .validation import parse_timestamp

DEFAULT_PAGE = 10
DEFAULT_DEPTH = 10
KINDS = {"artifact": "Artifact", "context": "Context", "action": "Action"}


def _table(ctx: RequestContext, kind: str) -> dict[str, dict[str, Any]]:
    return {"artifact": ctx.state.artifacts, "context": ctx.state.contexts, "action": ctx.state.actions}[kind]


def entity(ctx: RequestContext, arn: str) -> dict[str, Any] | None:
    parsed = arns.parse(arn)
    if parsed is None or parsed.resource_type not in KINDS or not arns.is_local(ctx.settings, parsed):
        return None
    return _table(ctx, parsed.resource_type).get(arn)


def _entity_type(record: dict[str, Any]) -> str | None:
    return record.get("ArtifactType") or record.get("ContextType") or record.get("ActionType")


def _entity_name(record: dict[str, Any]) -> str | None:
    return record.get("ArtifactName") or record.get("ContextName") or record.get("ActionName")


def _by_name(ctx: RequestContext, kind: str, reference: str) -> dict[str, Any]:
    arn = reference if reference.startswith("arn:") else arns.build(ctx.settings, kind, reference.lower())
    record = _table(ctx, kind).get(arn)
    if record is None:
        raise ResourceNotFound(f"{KINDS[kind]} {reference} does not exist.")
    return record


def _stamp(ctx: RequestContext, record: dict[str, Any]) -> None:
    record.update(CreationTime=ctx.now, CreatedBy=ctx.user_context(), LastModifiedTime=ctx.now,
                  LastModifiedBy=ctx.user_context(), _seq=ctx.state.next_sequence())


def _drop_entity(ctx: RequestContext, kind: str, arn: str) -> None:
    del _table(ctx, kind)[arn]
    drop_tags(ctx, arn)
    ctx.state.associations.remove_where(lambda a: arn in (a["SourceArn"], a["DestinationArn"]))
    ctx.changed()


@operation("CreateArtifact")
def create_artifact(ctx: RequestContext, params: Params) -> Params:
    arn = arns.build(ctx.settings, "artifact", uuid.uuid4().hex)
    record = {k: copy.deepcopy(v) for k, v in params.items() if k != "Tags"}
    record["ArtifactArn"] = arn
    _stamp(ctx, record)
    ctx.state.artifacts[arn] = record
    if params.get("Tags"):
        set_tags(ctx, arn, params["Tags"])
    ctx.changed()
    return {"ArtifactArn": arn}


def _create_named(ctx: RequestContext, params: Params, kind: str, name_key: str, arn_key: str) -> Params:
    name = params[name_key]
    arn = arns.build(ctx.settings, kind, name.lower())
    if arn in _table(ctx, kind):
        raise ValidationError(f"{KINDS[kind]} {name} already exists: {arn}")
    record = {k: copy.deepcopy(v) for k, v in params.items() if k != "Tags"}
    record[arn_key] = arn
    _stamp(ctx, record)
    _table(ctx, kind)[arn] = record
    if params.get("Tags"):
        set_tags(ctx, arn, params["Tags"])
    ctx.changed()
    return {arn_key: arn}


@operation("CreateContext")
def create_context(ctx: RequestContext, params: Params) -> Params:
    return _create_named(ctx, params, "context", "ContextName", "ContextArn")


@operation("CreateAction")
def create_action(ctx: RequestContext, params: Params) -> Params:
    return _create_named(ctx, params, "action", "ActionName", "ActionArn")


@operation("DescribeArtifact")
def describe_artifact(ctx: RequestContext, params: Params) -> Params:
    record = ctx.state.artifacts.get(params["ArtifactArn"])
    if record is None:
        raise ResourceNotFound(f"Artifact {params['ArtifactArn']} does not exist.")
    return public(record)


@operation("DescribeContext")
def describe_context(ctx: RequestContext, params: Params) -> Params:
    return public(_by_name(ctx, "context", params["ContextName"]))


@operation("DescribeAction")
def describe_action(ctx: RequestContext, params: Params) -> Params:
    return public(_by_name(ctx, "action", params["ActionName"]))


@operation("DeleteArtifact")
def delete_artifact(ctx: RequestContext, params: Params) -> Params:
    if params.get("ArtifactArn"):
        doomed = [params["ArtifactArn"]] if params["ArtifactArn"] in ctx.state.artifacts else []
        missing = params["ArtifactArn"]
    elif params.get("Source"):
        uri = params["Source"]["SourceUri"]
        doomed = [a for a, r in ctx.state.artifacts.items() if r["Source"]["SourceUri"] == uri]
        missing = uri
    else:
        raise ValidationError("Either ArtifactArn or Source must be specified.")
    if not doomed:
        raise ResourceNotFound(f"Artifact {missing} does not exist.")
    for arn in doomed:
        _drop_entity(ctx, "artifact", arn)
    return {"ArtifactArn": doomed[0]}


@operation("DeleteContext")
def delete_context(ctx: RequestContext, params: Params) -> Params:
    record = _by_name(ctx, "context", params["ContextName"])
    _drop_entity(ctx, "context", record["ContextArn"])
    return {"ContextArn": record["ContextArn"]}


@operation("DeleteAction")
def delete_action(ctx: RequestContext, params: Params) -> Params:
    record = _by_name(ctx, "action", params["ActionName"])
    _drop_entity(ctx, "action", record["ActionArn"])
    return {"ActionArn": record["ActionArn"]}


def _update_properties(record: dict[str, Any], params: Params) -> None:
    props = dict(record.get("Properties") or {})
    props.update(params.get("Properties") or {})
    for key in params.get("PropertiesToRemove") or []:
        props.pop(key, None)
    record["Properties"] = props


@operation("UpdateArtifact")
def update_artifact(ctx: RequestContext, params: Params) -> Params:
    record = ctx.state.artifacts.get(params["ArtifactArn"])
    if record is None:
        raise ResourceNotFound(f"Artifact {params['ArtifactArn']} does not exist.")
    if "ArtifactName" in params:
        record["ArtifactName"] = params["ArtifactName"]
    _update_properties(record, params)
    record.update(LastModifiedTime=ctx.now, LastModifiedBy=ctx.user_context())
    ctx.state.artifacts.touch(record["ArtifactArn"])
    ctx.changed()
    return {"ArtifactArn": record["ArtifactArn"]}


@operation("UpdateContext")
def update_context(ctx: RequestContext, params: Params) -> Params:
    record = _by_name(ctx, "context", params["ContextName"])
    if "Description" in params:
        record["Description"] = params["Description"]
    _update_properties(record, params)
    record.update(LastModifiedTime=ctx.now, LastModifiedBy=ctx.user_context())
    ctx.state.contexts.touch(record["ContextArn"])
    ctx.changed()
    return {"ContextArn": record["ContextArn"]}


@operation("UpdateAction")
def update_action(ctx: RequestContext, params: Params) -> Params:
    record = _by_name(ctx, "action", params["ActionName"])
    for key in ("Description", "Status"):
        if key in params:
            record[key] = params[key]
    _update_properties(record, params)
    record.update(LastModifiedTime=ctx.now, LastModifiedBy=ctx.user_context())
    ctx.state.actions.touch(record["ActionArn"])
    ctx.changed()
    return {"ActionArn": record["ActionArn"]}


def _list_entities(ctx: RequestContext, params: Params, kind: str, type_key: str, list_key: str,
                   summary_keys: tuple[str, ...]) -> Params:
    records = list(_table(ctx, kind).values())
    if params.get("SourceUri"):
        records = [r for r in records if r["Source"]["SourceUri"] == params["SourceUri"]]
    if params.get(type_key):
        records = [r for r in records if r.get(type_key) == params[type_key]]
    if "CreatedAfter" in params:
        records = [r for r in records if r["CreationTime"] > parse_timestamp(params["CreatedAfter"])]
    if "CreatedBefore" in params:
        records = [r for r in records if r["CreationTime"] < parse_timestamp(params["CreatedBefore"])]
    by_name = params.get("SortBy") == "Name"

    def key(r: dict[str, Any]) -> list[Any]:
        return [pagination.comparable(_entity_name(r) if by_name else r["CreationTime"]), r["_seq"]]

    chunk, token = pagination.page(
        records, key, descending=params.get("SortOrder", "Descending") == "Descending",
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {list_key: [{k: copy.deepcopy(r[k]) for k in summary_keys if k in r} for r in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("ListArtifacts")
def list_artifacts(ctx: RequestContext, params: Params) -> Params:
    keys = ("ArtifactArn", "ArtifactName", "Source", "ArtifactType", "CreationTime", "LastModifiedTime")
    return _list_entities(ctx, params, "artifact", "ArtifactType", "ArtifactSummaries", keys)


@operation("ListContexts")
def list_contexts(ctx: RequestContext, params: Params) -> Params:
    keys = ("ContextArn", "ContextName", "Source", "ContextType", "CreationTime", "LastModifiedTime")
    return _list_entities(ctx, params, "context", "ContextType", "ContextSummaries", keys)


@operation("ListActions")
def list_actions(ctx: RequestContext, params: Params) -> Params:
    keys = ("ActionArn", "ActionName", "Source", "ActionType", "Status", "CreationTime", "LastModifiedTime")
    return _list_entities(ctx, params, "action", "ActionType", "ActionSummaries", keys)


@operation("AddAssociation")
def add_association(ctx: RequestContext, params: Params) -> Params:
    source, dest = params["SourceArn"], params["DestinationArn"]
    src_record, dst_record = entity(ctx, source), entity(ctx, dest)
    if src_record is None:
        raise ResourceNotFound(f"Resource {source} does not exist.")
    if dst_record is None:
        raise ResourceNotFound(f"Resource {dest} does not exist.")
    key = f"{source}|{dest}"
    if key not in ctx.state.associations:
        record: dict[str, Any] = {
            "SourceArn": source, "DestinationArn": dest,
            "SourceType": _entity_type(src_record), "DestinationType": _entity_type(dst_record),
            "AssociationType": params.get("AssociationType", "AssociatedWith"),
            "SourceName": _entity_name(src_record), "DestinationName": _entity_name(dst_record),
            "CreationTime": ctx.now, "CreatedBy": ctx.user_context(), "_seq": ctx.state.next_sequence(),
        }
        ctx.state.associations[key] = {k: v for k, v in record.items() if v is not None}
        ctx.changed()
    return {"SourceArn": source, "DestinationArn": dest}


@operation("DeleteAssociation")
def delete_association(ctx: RequestContext, params: Params) -> Params:
    key = f"{params['SourceArn']}|{params['DestinationArn']}"
    if key not in ctx.state.associations:
        raise ResourceNotFound(
            f"Association from {params['SourceArn']} to {params['DestinationArn']} does not exist."
        )
    del ctx.state.associations[key]
    ctx.changed()
    return {"SourceArn": params["SourceArn"], "DestinationArn": params["DestinationArn"]}


@operation("ListAssociations")
def list_associations(ctx: RequestContext, params: Params) -> Params:
    items = list(ctx.state.associations.values())
    for field in ("SourceArn", "DestinationArn", "SourceType", "DestinationType", "AssociationType"):
        if params.get(field):
            items = [a for a in items if a.get(field) == params[field]]
    if "CreatedAfter" in params:
        items = [a for a in items if a["CreationTime"] > parse_timestamp(params["CreatedAfter"])]
    if "CreatedBefore" in params:
        items = [a for a in items if a["CreationTime"] < parse_timestamp(params["CreatedBefore"])]
    sort_by = params.get("SortBy", "CreationTime")
    chunk, token = pagination.page(
        items, lambda a: [pagination.comparable(a.get(sort_by)), a["_seq"]],
        descending=params.get("SortOrder", "Descending") == "Descending",
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {"AssociationSummaries": [public(a) for a in chunk]}
    if token:
        out["NextToken"] = token
    return out


def _traverse(ctx: RequestContext, start: str, downstream: bool, max_depth: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Breadth-first walk; returns reached ARNs in discovery order and the edges crossed."""
    outgoing: dict[str, list[dict[str, Any]]] = {}
    for assoc in ctx.state.associations.values():
        origin = assoc["SourceArn"] if downstream else assoc["DestinationArn"]
        outgoing.setdefault(origin, []).append(assoc)
    seen = {start}
    order: list[str] = []
    edges: list[dict[str, Any]] = []
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    while queue:
        arn, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for assoc in sorted(outgoing.get(arn, []), key=lambda a: a["_seq"]):
            edges.append(assoc)
            nxt = assoc["DestinationArn"] if downstream else assoc["SourceArn"]
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append((nxt, depth + 1))
    return order, edges


def _vertex_matches(record: dict[str, Any], kind: str, filters: dict[str, Any]) -> bool:
    if filters.get("Types") and _entity_type(record) not in filters["Types"]:
        return False
    if filters.get("LineageTypes") and kind not in filters["LineageTypes"]:
        return False
    checks = (("CreatedBefore", "CreationTime", -1), ("CreatedAfter", "CreationTime", 1),
              ("ModifiedBefore", "LastModifiedTime", -1), ("ModifiedAfter", "LastModifiedTime", 1))
    for param, field, sign in checks:
        if param in filters:
            bound = parse_timestamp(filters[param])
            value = record.get(field, record["CreationTime"])
            if (value - bound) * sign <= 0:
                return False
    props = record.get("Properties") or {}
    return all(props.get(k) == v for k, v in (filters.get("Properties") or {}).items())


@operation("QueryLineage")
def query_lineage(ctx: RequestContext, params: Params) -> Params:
    starts = params.get("StartArns") or []
    for arn in starts:
        if entity(ctx, arn) is None:
            raise ResourceNotFound(f"Resource {arn} does not exist.")
    direction = params.get("Direction", "Both")
    max_depth = params.get("MaxDepth", DEFAULT_DEPTH)
    reached: list[str] = []
    edges: dict[str, dict[str, Any]] = {}
    for start in starts:
        ways = {"Descendants": (True,), "Ascendants": (False,), "Both": (True, False)}[direction]
        for downstream in ways:
            order, crossed = _traverse(ctx, start, downstream, max_depth)
            reached += [a for a in order if a not in reached and a not in starts]
            edges.update({f"{e['SourceArn']}|{e['DestinationArn']}": e for e in crossed})
    filters = params.get("Filters") or {}
    vertices: list[tuple[int, dict[str, Any]]] = []
    for index, arn in enumerate(reached):
        record = entity(ctx, arn)
        if record is None:
            continue
        kind = KINDS[arns.parse(arn).resource_type]  # type: ignore[union-attr]
        if _vertex_matches(record, kind, filters):
            vertices.append((index, {"Arn": arn, "Type": _entity_type(record), "LineageType": kind}))
    chunk, token = pagination.page(
        vertices, lambda v: [v[0]], descending=False,
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {"Vertices": [v for _, v in chunk], "Edges": []}
    if params.get("IncludeEdges", True):
        out["Edges"] = [
            {"SourceArn": e["SourceArn"], "DestinationArn": e["DestinationArn"], "AssociationType": e["AssociationType"]}
            for e in sorted(edges.values(), key=lambda e: e["_seq"])
        ]
    if token:
        out["NextToken"] = token
    return out
