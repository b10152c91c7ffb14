"""Merged ordering and keyset cursors over results gathered from many registries.

Pure. A cursor holds the sort key of the last item returned (not an offset), so a page stays
correct when models are added or deleted between requests: nothing is skipped or repeated
that was present on both requests. It also holds the query's fingerprint, so a cursor is
refused on a different search rather than silently paging something else.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mapping.errors import InvalidInput
from mapping.schema import Model, ModelVersion

T = TypeVar("T")
SortKey = tuple[Any, ...]


def model_key(model: Model) -> SortKey:
    """Models by name, then registry: the same model in two clouds sits side by side."""
    return (model.name, model.registry)


def version_key(version: ModelVersion) -> SortKey:
    """Versions by model, registry, then creation order (ordinal), version id as tie-break."""
    return (version.model, version.registry, version.ordinal, version.version)


@dataclass(frozen=True)
class Window:
    items: list[Any]
    next_cursor: str | None


def paginate(items: Sequence[T], key: Callable[[T], SortKey], limit: int, cursor: str | None, fingerprint: str) -> Window:
    """Sort ``items``, skip everything up to the cursor's key, return ``limit`` and the next cursor."""
    ordered = sorted(items, key=key)
    after = decode_cursor(cursor, fingerprint)
    if after is not None:
        ordered = [item for item in ordered if _comparable(key(item)) > after]
    window = ordered[:limit]
    more = len(ordered) > limit
    return Window(items=list(window), next_cursor=encode_cursor(key(window[-1]), fingerprint) if more and window else None)


def encode_cursor(key: SortKey, fingerprint: str) -> str:
    raw = json.dumps({"k": list(key), "f": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, fingerprint: str) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        key, owner = data["k"], data["f"]
        if not isinstance(key, list) or not all(isinstance(p, str | int) and not isinstance(p, bool) for p in key):
            raise ValueError("bad key")
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise InvalidInput("cursor: not a cursor this gateway issued", field="cursor") from None
    if owner != fingerprint:
        raise InvalidInput("cursor: issued for a different search; repeat the same query parameters with it",
                           field="cursor")
    return _comparable(tuple(key))


def _comparable(key: SortKey) -> tuple[Any, ...]:
    """Tag each part with its type so a forged cursor mixing ints and strings cannot raise TypeError."""
    return tuple((isinstance(part, str), part) for part in key)
