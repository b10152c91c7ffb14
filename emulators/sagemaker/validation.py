"""Generic request validation against the botocore service model, phrased the way AWS does.

boto3 only checks types and required members client-side; AWS also enforces lengths,
patterns, ranges and enums and answers ``ValidationException`` with a message such as
``1 validation error detected: Value 'x' at 'modelPackageGroupName' failed to satisfy
constraint: Member must satisfy regular expression pattern: ...``. Walking the input shape
generically means every operation gets the same rules AWS applies, not a hand-picked subset.

Patterns are Java regular expressions evaluated as whole-string matches without DOTALL (as
the service's validator does), so ``.`` does not match a newline.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

from .errors import SerializationError, ValidationError


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    """None for the few model patterns that are not valid outside Java (they are then not checked)."""
    try:
        return regex.compile(pattern)
    except regex.error:
        return None


def member_path(parent: str, member: str) -> str:
    """AWS names members in lowerCamelCase, joined by dots (``modelLifeCycle.stage``)."""
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def render(value: Any) -> str:
    """Java ``toString`` style, as AWS quotes the offending value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    return str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_ok(shape: Shape, value: Any) -> bool:
    kind = shape.type_name
    if kind == "string" or kind == "blob":
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "timestamp":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or isinstance(value, str)
    if kind == "structure" or kind == "map":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return True


def scalar_violations(shape: Shape, value: Any) -> list[str]:
    """The ``Member must ...`` clauses a scalar, list or map value breaks (size, pattern, enum)."""
    meta = shape.metadata
    out: list[str] = []
    if isinstance(value, (str, list, dict)):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            out.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            out.append(f"Member must have length less than or equal to {meta['max']}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            out.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            out.append(f"Member must have value less than or equal to {meta['max']}")
    if isinstance(value, str):
        pattern = meta.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                out.append(f"Member must satisfy regular expression pattern: {pattern}")
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            out.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    return out


class _Walker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, value: Any, path: str, clause: str) -> None:
        shown = "null" if value is None else f"'{render(value)}'"
        self.errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {clause}")

    def walk(self, shape: Shape, value: Any, path: str) -> None:
        if not _type_ok(shape, value):
            raise SerializationError(
                f"Unexpected {_json_type(value)} at '{path or 'request'}': expected {shape.type_name}"
            )
        for clause in scalar_violations(shape, value):
            self.fail(value, path, clause)
        if isinstance(shape, StructureShape):
            self.walk_structure(shape, value, path)
        elif isinstance(shape, ListShape):
            for index, item in enumerate(value, start=1):
                if item is not None:
                    self.walk(shape.member, item, f"{path}.{index}.member")
        elif isinstance(shape, MapShape):
            self.walk_map(shape, value, path)

    def walk_structure(self, shape: StructureShape, value: dict[str, Any], path: str) -> None:
        for name in shape.required_members:
            if value.get(name) is None:
                self.fail(None, member_path(path, name), "Member must not be null")
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                self.walk(member, item, member_path(path, name))

    def walk_map(self, shape: MapShape, value: dict[str, Any], path: str) -> None:
        key_clauses: list[str] = []
        value_clauses: list[str] = []
        for key, item in value.items():
            for clause in scalar_violations(shape.key, key):
                if clause not in key_clauses:
                    key_clauses.append(clause)
            if item is None:
                continue
            if not _type_ok(shape.value, item):
                raise SerializationError(
                    f"Unexpected {_json_type(item)} at '{path}': expected {shape.value.type_name}"
                )
            if isinstance(shape.value, (StructureShape, ListShape, MapShape)):
                self.walk(shape.value, item, f"{path}.{key}")
                continue
            for clause in scalar_violations(shape.value, item):
                if clause not in value_clauses:
                    value_clauses.append(clause)
        if key_clauses:
            self.fail(value, path, f"Map keys must satisfy constraint: [{', '.join(key_clauses)}]")
        if value_clauses:
            self.fail(value, path, f"Map value must satisfy constraint: [{', '.join(value_clauses)}]")


def validate(shape: StructureShape | None, params: dict[str, Any]) -> None:
    """Raise ValidationError (all violations, AWS wording) or SerializationError (wrong JSON types)."""
    if shape is None:
        return
    walker = _Walker()
    walker.walk(shape, params, "")
    if walker.errors:
        raise_validation(walker.errors)


def raise_validation(errors: list[str]) -> None:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(errors))


def parse_timestamp(value: Any) -> float:
    """Epoch seconds from a wire timestamp (boto3 sends epoch numbers; ISO-8601 is also accepted)."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Invalid timestamp value: {text}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()
