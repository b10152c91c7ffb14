"""Opaque ``NextToken`` pagination shared by every List/Search operation.

Tokens carry the sort key of the last item returned (keyset pagination), so creating or
deleting entries between pages never repeats or skips the ones that remain.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import ValidationError

T = TypeVar("T")
SortKey = list[Any]


def comparable(value: Any) -> list[Any]:
    """A JSON-stable, totally ordered form of any property value (missing sorts first)."""
    if value is None:
        return [0, 0]
    if isinstance(value, bool):
        return [1, int(value)]
    if isinstance(value, (int, float)):
        return [1, value]
    return [2, str(value)]


def encode(key: SortKey) -> str:
    raw = json.dumps({"k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode(token: str) -> SortKey:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        key = data["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationError("Invalid pagination token: the NextToken is not valid.") from exc
    if not isinstance(key, list):
        raise ValidationError("Invalid pagination token: the NextToken is not valid.")
    return key


def page(
    items: Iterable[T],
    key: Callable[[T], SortKey],
    *,
    descending: bool,
    max_results: int,
    token: str | None,
) -> tuple[list[T], str | None]:
    """Sort, skip past the token's key, cut one page; return it with the next token (or None)."""
    ordered = sorted(items, key=key, reverse=descending)
    if token:
        after = decode(token)
        if descending:
            ordered = [item for item in ordered if key(item) < after]
        else:
            ordered = [item for item in ordered if key(item) > after]
    chunk = ordered[:max_results]
    next_token = encode(key(chunk[-1])) if len(ordered) > max_results else None
    return chunk, next_token
