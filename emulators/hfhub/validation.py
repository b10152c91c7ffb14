"""Input rules the Hub enforces server-side (names, refs, paths).

The client validates repo ids too, but only loosely; a server that accepts what the Hub refuses
would let a pipeline pass locally and fail in production.
"""

from __future__ import annotations

import re

from .errors import bad_request

_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_REPO_TYPES = {"model", "dataset", "space"}
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def repo_type(value: str | None) -> str:
    value = value or "model"
    if value not in _REPO_TYPES:
        raise bad_request(f"Invalid repo type: {value}")
    return value


def repo_name(name: str) -> None:
    """Namespace and repo names: alphanumerics, '-', '_', '.'; no '--'/'..'; <= 96 chars."""
    if (
        not isinstance(name, str)
        or not _NAME_RE.match(name)
        or "--" in name
        or ".." in name
        or name.endswith(".git")
    ):
        raise bad_request(
            f"Invalid repo name: '{name}'. Repo names use alphanumeric chars, '-', '_' or '.', "
            "cannot start or end with '-' or '.', cannot contain '--' or '..', and are at most 96 chars."
        )


def ref_name(name: str, kind: str) -> None:
    """git check-ref-format rules, which the Hub applies to branch and tag names."""
    invalid = (
        not name
        or name.startswith(("/", "-", ".", "refs/"))
        or name.endswith(("/", ".", ".lock"))
        or "//" in name
        or ".." in name
        or "@{" in name
        or name == "@"
        or "/." in name
        or any(c in name for c in " ~^:?*[\\\x7f")
        or any(ord(c) < 32 for c in name)
        or COMMIT_RE.match(name) is not None
    )
    if invalid:
        raise bad_request(f"Invalid reference for a {kind}: {name}")


def file_path(path: str) -> str:
    """Normalise a path in a commit; refuse what git or the Hub cannot store."""
    if not isinstance(path, str) or not path:
        raise bad_request("Invalid path: empty")
    clean = path.strip("/") if path.startswith("./") is False else path[2:]
    parts = clean.split("/")
    if (
        any(part in ("", ".", "..") for part in parts)
        or parts[0] == ".git"
        or "\0" in clean
        or len(clean.encode()) > 4096
    ):
        raise bad_request(f"Invalid path: {path}")
    return clean
