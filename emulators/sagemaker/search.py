"""Search over ModelPackage and ModelPackageGroup records (filters, nesting, sort, pages).

Property names are dotted paths into the SearchRecord shape. Map-valued properties
(``Tags.<key>``, ``CustomerMetadataProperties.<key>``) take the rest of the path as the key,
so keys that themselves contain dots still resolve.
"""

from __future__ import annotations

import copy
from typing import Any

from . import pagination
from .errors import ValidationError
from .model_package_groups import public
from .model_package_groups import summary as group_summary
from .request_context import Params, RequestContext, operation
from .service_model import service_model
from .tagging import tags_for
from .validation import parse_timestamp

DEFAULT_PAGE = 10
_TIME_PROPERTIES = {"CreationTime", "LastModifiedTime"}


def _package_record(ctx: RequestContext, package: dict[str, Any]) -> dict[str, Any]:
    record = public(copy.deepcopy(package))
    tags: dict[str, str] = {}
    if package.get("_group_key"):
        group = ctx.state.groups.get(package["_group_key"])
        if group is not None:
            tags.update({t["Key"]: t["Value"] for t in tags_for(ctx, group["ModelPackageGroupArn"])})
    tags.update({t["Key"]: t["Value"] for t in tags_for(ctx, package["ModelPackageArn"])})
    record["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return record


def _group_record(ctx: RequestContext, group: dict[str, Any]) -> dict[str, Any]:
    record = group_summary(group)
    record["CreatedBy"] = copy.deepcopy(group["CreatedBy"])
    record["Tags"] = tags_for(ctx, group["ModelPackageGroupArn"])
    return record


def _records(ctx: RequestContext, resource: str) -> list[tuple[int, dict[str, Any]]]:
    if resource == "ModelPackage":
        return [(p["_seq"], _package_record(ctx, p)) for p in ctx.state.packages.values()]
    if resource == "ModelPackageGroup":
        return [(g["_seq"], _group_record(ctx, g)) for g in ctx.state.groups.values()]
    return []


def _walk(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node] if node is not None else []
    if isinstance(node, list):
        if node and all(isinstance(i, dict) and set(i) <= {"Key", "Value"} and "Key" in i for i in node):
            return _walk({i["Key"]: i.get("Value", "") for i in node}, parts)
        return [v for item in node for v in _walk(item, parts)]
    if isinstance(node, dict):
        for cut in range(len(parts), 0, -1):  # longest key first: map keys may contain dots
            key = ".".join(parts[:cut])
            if key in node:
                return _walk(node[key], parts[cut:])
    return []


def resolve(record: dict[str, Any], name: str) -> list[Any]:
    return _walk(record, name.split("."))


def _as_number(value: Any, prop: str) -> float | None:
    if prop.split(".")[-1] in _TIME_PROPERTIES:
        try:
            return parse_timestamp(value)
        except ValidationError:
            return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(op: str, actual: Any, wanted: str, prop: str) -> bool:
    if op in ("Equals", "NotEquals", "In"):
        candidates = [w.strip() for w in wanted.split(",")] if op == "In" else [wanted]
        hit = any(_equal(actual, c, prop) for c in candidates)
        return not hit if op == "NotEquals" else hit
    if op == "Contains":
        return isinstance(actual, str) and wanted in actual
    left, right = _as_number(actual, prop), _as_number(wanted, prop)
    if left is None or right is None:
        return False
    return {
        "GreaterThan": left > right,
        "GreaterThanOrEqualTo": left >= right,
        "LessThan": left < right,
        "LessThanOrEqualTo": left <= right,
    }[op]


def _equal(actual: Any, wanted: str, prop: str) -> bool:
    if isinstance(actual, bool):
        return str(actual).lower() == wanted.lower()
    if isinstance(actual, (int, float)):
        number = _as_number(wanted, prop)
        return number is not None and float(actual) == number
    return str(actual) == wanted


def _filter_matches(record: Any, flt: dict[str, Any], prefix: str = "") -> bool:
    name = flt["Name"]
    op = flt.get("Operator", "Equals")
    path = name[len(prefix) + 1:] if prefix and name.startswith(prefix + ".") else name
    values = resolve(record, path) if isinstance(record, dict) else []
    if op == "Exists":
        return bool(values)
    if op == "NotExists":
        return not values
    if "Value" not in flt:
        raise ValidationError(f"A Value is required for the {op} operator (filter {name}).")
    if op == "NotEquals":
        return all(_compare(op, v, flt["Value"], name) for v in values)
    return any(_compare(op, v, flt["Value"], name) for v in values)


def _nested_matches(record: dict[str, Any], nested: dict[str, Any]) -> bool:
    prefix = nested["NestedPropertyName"]
    elements = resolve(record, prefix)
    flat = [e for item in elements for e in (item if isinstance(item, list) else [item])]
    return any(all(_filter_matches(e, f, prefix) for f in nested["Filters"]) for e in flat)


def _check_expression(expression: dict[str, Any], allowed: set[str]) -> None:
    filters = list(expression.get("Filters") or [])
    for nested in expression.get("NestedFilters") or []:
        filters.extend(nested["Filters"])
    if sum(1 for f in filters if f.get("Operator") == "Contains") > 1:
        raise ValidationError("A SearchExpression can include only one Contains operator.")
    for flt in filters:
        top = flt["Name"].split(".")[0]
        if top not in allowed:
            raise ValidationError(f"Unknown property name: {flt['Name']}")
    for sub in expression.get("SubExpressions") or []:
        _check_expression(sub, allowed)


def matches(record: dict[str, Any], expression: dict[str, Any]) -> bool:
    results = [_filter_matches(record, f) for f in expression.get("Filters") or []]
    results += [_nested_matches(record, n) for n in expression.get("NestedFilters") or []]
    results += [matches(record, s) for s in expression.get("SubExpressions") or []]
    if not results:
        return True
    return any(results) if expression.get("Operator") == "Or" else all(results)


def _allowed_properties(resource: str) -> set[str]:
    shape = service_model().shape_for(resource)
    return set(shape.members) if hasattr(shape, "members") else set()


@operation("Search")
def search(ctx: RequestContext, params: Params) -> Params:
    resource = params["Resource"]
    expression = params.get("SearchExpression") or {}
    if resource in ("ModelPackage", "ModelPackageGroup"):
        _check_expression(expression, _allowed_properties(resource))
    records = [(seq, r) for seq, r in _records(ctx, resource) if matches(r, expression)]
    sort_by = params.get("SortBy", "LastModifiedTime")

    def key(item: tuple[int, dict[str, Any]]) -> list[Any]:
        seq, record = item
        found = resolve(record, sort_by)
        value = found[0] if found else None
        if value is None and sort_by == "LastModifiedTime":
            value = record.get("CreationTime")
        return [pagination.comparable(value), seq]

    chunk, token = pagination.page(
        records, key, descending=params.get("SortOrder", "Descending") == "Descending",
        max_results=params.get("MaxResults", DEFAULT_PAGE), token=params.get("NextToken"),
    )
    out: Params = {
        "Results": [{resource: record} for _, record in chunk],
        "TotalHits": {"Value": len(records), "Relation": "EqualTo"},
    }
    if token:
        out["NextToken"] = token
    return out
