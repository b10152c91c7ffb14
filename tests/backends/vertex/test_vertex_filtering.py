"""The emulator's AIP-160 filter dialect: precedence and field rules list calls rely on."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.vertex.errors import ApiError
from emulators.vertex.filtering import matches, parse_filter


def _resolve(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ('display_name="a" AND labels.team="x" OR labels.team="y"', True),  # OR binds tighter than AND
        ("labels:team", True),
        ("labels.team:*", True),
        ("labels.missing:*", False),
        ("NOT labels.team=x", True),
        ("NOT labels.team=y", False),
        ('displayName = "a"', True),  # camelCase is accepted
        ('labels."a key"="v v"', True),
        ("size > 2 AND size <= 3.5", True),
        ('create_time > "2020-01-01T00:00:00Z"', True),
    ],
)
def test_filter_semantics(flt: str, expected: bool) -> None:
    record = {
        "display_name": "a",
        "labels": {"team": "y", "a key": "v v"},
        "size": 3,
        "create_time": "2024-05-01T10:00:00Z",
    }
    assert matches(parse_filter(flt), record, _resolve) is expected


@pytest.mark.parametrize("flt", ['display_name="unterminated', "display_name", "((((((a=1))))))", "a = "])
def test_malformed_filters_are_invalid_argument(flt: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_filter(flt)
    assert info.value.status == "INVALID_ARGUMENT"
