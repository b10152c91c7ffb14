"""A small AIP-160 filter language, the dialect Vertex list calls accept.

Each list call supplies a resolver that maps a field path (snake_case segments, camelCase
accepted and converted) to a value of one resource, and raises INVALID_ARGUMENT for fields
that call does not support — the service rejects unknown fields instead of matching nothing.
AIP-160 gives OR a higher precedence than AND (``a AND b OR c`` is ``a AND (b OR c)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

from .errors import invalid

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_OPS = ("<=", ">=", "!=", "=", "<", ">", ":")
_TEXT_STOP = set(' \t\r\n()=!<>:.",')


def snake(name: str) -> str:
    """camelCase -> snake_case, leaving snake_case untouched (both are accepted on the wire)."""
    return _CAMEL.sub("_", name).lower() if any(c.isupper() for c in name) else name


@dataclass(frozen=True)
class _Tok:
    kind: str  # TEXT, STRING, OP, LP, RP, COMMA, DOT, EOF
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Compare:
    path: tuple[str, ...]
    op: str
    value: str
    quoted: bool


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND / OR
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Compare, Call, BoolOp, Not]  # noqa: UP007 - recursive alias needs the runtime form


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise invalid(f"Invalid filter: unterminated string in {text!r}.")
            toks.append(_Tok("STRING", "".join(buf), i, j + 1))
            i = j + 1
            continue
        two = text[i : i + 2]
        if two in _OPS:
            toks.append(_Tok("OP", two, i, i + 2))
            i += 2
            continue
        if ch in "=<>:":
            toks.append(_Tok("OP", ch, i, i + 1))
            i += 1
            continue
        simple = {"(": "LP", ")": "RP", ",": "COMMA", ".": "DOT"}
        if ch in simple:
            toks.append(_Tok(simple[ch], ch, i, i + 1))
            i += 1
            continue
        if ch == "!":
            raise invalid(f"Invalid filter: unexpected '!' in {text!r}.")
        j = i
        while j < n and text[j] not in _TEXT_STOP:
            j += 1
        toks.append(_Tok("TEXT", text[i:j], i, j))
        i = j
    toks.append(_Tok("EOF", "", n, n))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def fail(self, why: str) -> Exception:
        return invalid(f"Invalid filter {self.text!r}: {why}.")

    def parse(self) -> Node:
        node = self.and_expr(0)
        if self.peek().kind != "EOF":
            raise self.fail(f"unexpected '{self.peek().value}'")
        return node

    def and_expr(self, depth: int) -> Node:
        items = [self.or_expr(depth)]
        while True:
            tok = self.peek()
            if tok.kind == "TEXT" and tok.value == "AND":
                self.take()
                items.append(self.or_expr(depth))
            elif tok.kind in ("TEXT", "STRING", "LP"):
                items.append(self.or_expr(depth))  # juxtaposition is an implicit AND
            else:
                break
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def or_expr(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while self.peek().kind == "TEXT" and self.peek().value == "OR":
            self.take()
            items.append(self.unary(depth))
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def unary(self, depth: int) -> Node:
        tok = self.peek()
        if tok.kind == "TEXT" and tok.value == "NOT":
            self.take()
            return Not(self.unary(depth))
        if tok.kind == "LP":
            if depth >= 5:
                raise self.fail("maximum nested expression depth is 5")
            self.take()
            node = self.and_expr(depth + 1)
            if self.take().kind != "RP":
                raise self.fail("missing ')'")
            return node
        return self.restriction()

    def restriction(self) -> Node:
        first = self.take()
        if first.kind not in ("TEXT", "STRING"):
            raise self.fail(f"expected a field name, got '{first.value or 'end of filter'}'")
        if first.kind == "TEXT" and self.peek().kind == "LP" and self.peek().start == first.end:
            self.take()
            args: list[str] = []
            while self.peek().kind != "RP":
                arg = self.take()
                if arg.kind not in ("TEXT", "STRING"):
                    raise self.fail("bad function argument")
                args.append(arg.value)
                if self.peek().kind == "COMMA":
                    self.take()
            self.take()
            return Call(first.value, tuple(args))
        path = [first.value if first.kind == "STRING" else snake(first.value)]
        while self.peek().kind == "DOT":
            self.take()
            seg = self.take()
            if seg.kind not in ("TEXT", "STRING"):
                raise self.fail("expected a field after '.'")
            path.append(seg.value)
        op_tok = self.take()
        if op_tok.kind != "OP":
            raise self.fail(f"expected a comparison after '{'.'.join(path)}'")
        value_tok = self.take()
        if value_tok.kind == "STRING":
            return Compare(tuple(path), op_tok.value, value_tok.value, True)
        if value_tok.kind != "TEXT":
            raise self.fail(f"expected a value after '{op_tok.value}'")
        value, end = value_tok.value, value_tok.end
        # Re-join contiguous tokens so 1.5 or 2020-01-01T00:00:00.5Z stay one value.
        while self.peek().kind in ("DOT", "TEXT", "OP") and self.peek().start == end and self.peek().value != "":
            nxt = self.take()
            value += nxt.value
            end = nxt.end
        return Compare(tuple(path), op_tok.value, value, False)


def parse_filter(text: str) -> Node | None:
    """Parse a filter once per request; an empty filter matches everything."""
    if not text or not text.strip():
        return None
    return _Parser(text).parse()


Resolver = Callable[[Any, tuple[str, ...]], Any]
Functions = Mapping[str, Callable[[Any, tuple[str, ...]], bool]]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _compare(actual: Any, op: str, expected: str) -> bool:
    if op == ":":
        if expected == "*":
            return actual is not None and actual != ""
        if isinstance(actual, Mapping):
            return expected in actual
        if isinstance(actual, (list, tuple)):
            return expected in [str(a) for a in actual]
        return actual is not None and _compare(actual, "=", expected)
    if actual is None:
        return op == "!="
    if isinstance(actual, bool):
        left: Any = actual
        right: Any = expected.lower() == "true"
        if expected.lower() not in ("true", "false"):
            return op == "!="
    elif isinstance(actual, datetime):
        left, right = actual, _as_time(expected)
        if right is None:
            raise invalid(f"Invalid filter: '{expected}' is not an RFC 3339 time.")
    elif isinstance(actual, (int, float)):
        left, right = float(actual), _as_number(expected)
        if right is None:
            return op == "!="
    else:
        left, right = str(actual), expected
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    try:
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]
    except TypeError as exc:
        raise invalid(f"Invalid filter: cannot order-compare {actual!r}.") from exc


def matches(
    node: Node | None,
    record: Any,
    resolve: Resolver,
    functions: Functions | None = None,
) -> bool:
    if node is None:
        return True
    if isinstance(node, BoolOp):
        results = (matches(item, record, resolve, functions) for item in node.items)
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Not):
        return not matches(node.item, record, resolve, functions)
    if isinstance(node, Call):
        fn = (functions or {}).get(node.name)
        if fn is None:
            raise invalid(f"Invalid filter: unsupported function '{node.name}'.")
        return fn(record, node.args)
    return _compare(resolve(record, node.path), node.op, node.value)
