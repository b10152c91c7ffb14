"""Ordering and page tokens shared by every List call.

Page tokens are opaque to callers but bound to the query that issued them, because the
service rejects a token replayed with a different filter or order (INVALID_ARGUMENT).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import invalid
from .filtering import snake

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def parse_order_by(text: str, allowed: Sequence[str]) -> list[tuple[str, bool]]:
    """``"display_name, create_time desc"`` -> [("display_name", False), ("create_time", True)]."""
    keys: list[tuple[str, bool]] = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise invalid(f"Invalid order_by '{text}'.")
        field = snake(words[0])
        if field not in allowed:
            raise invalid(f"Unsupported order_by field '{words[0]}'. Supported fields: {', '.join(allowed)}.")
        keys.append((field, len(words) == 2 and words[1].lower() == "desc"))
    return keys


def sort_items(items: list[T], keys: list[tuple[str, bool]], value_of: Callable[[T, str], Any]) -> list[T]:
    """Stable multi-key sort; later keys break ties of earlier ones."""
    out = list(items)
    for field, desc in reversed(keys):
        out.sort(key=lambda item: value_of(item, field), reverse=desc)
    return out


def _fingerprint(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]


def paginate(items: list[T], page_size: int, page_token: str, query: dict[str, Any]) -> tuple[list[T], str]:
    """Slice one page; the next token encodes the offset and the query it belongs to."""
    if page_size < 0:
        raise invalid("page_size must not be negative.")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = 0
    if page_token:
        try:
            data = json.loads(base64.urlsafe_b64decode(page_token.encode() + b"=="))
            offset = int(data["o"])
            bound = data["q"]
        except (ValueError, KeyError, TypeError) as exc:
            raise invalid("Invalid page token.") from exc
        if bound != _fingerprint(query) or offset < 0:
            raise invalid("The page token does not match the request's other parameters.")
    page = items[offset : offset + size]
    next_offset = offset + size
    token = ""
    if next_offset < len(items):
        raw = json.dumps({"o": next_offset, "q": _fingerprint(query)}).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return page, token
