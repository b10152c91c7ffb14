"""Reading a commit's tree the way the tree/paths-info endpoints present it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import views
from .store import Store


def lookup(store: Store, tree_oid: str, path: str) -> tuple[str, str] | None:
    """('tree'|'blob', oid) for a path inside a tree, None when absent."""
    if path in ("", "/"):
        return "tree", tree_oid
    current = tree_oid
    parts = path.strip("/").split("/")
    for i, part in enumerate(parts):
        entry = next((e for e in store.tree_entries(current) if e.name == part), None)
        if entry is None:
            return None
        if i == len(parts) - 1:
            return ("tree" if entry.is_tree else "blob"), entry.oid
        if not entry.is_tree:
            return None
        current = entry.oid
    return None


def entry_json(store: Store, path: str, kind: str, oid: str) -> dict[str, Any]:
    if kind == "tree":
        return {"type": "directory", "oid": oid, "size": 0, "path": path}
    return views.file_json(store.file_entry(path, oid))


def walk(store: Store, tree_oid: str, prefix: str, recursive: bool) -> Iterator[dict[str, Any]]:
    """Entries in git order; with ``recursive`` a directory precedes its content, as on the Hub."""
    for entry in sorted(store.tree_entries(tree_oid), key=lambda e: e.name):
        path = f"{prefix}{entry.name}"
        if entry.is_tree:
            yield entry_json(store, path, "tree", entry.oid)
            if recursive:
                yield from walk(store, entry.oid, path + "/", recursive)
        else:
            yield entry_json(store, path, "blob", entry.oid)


def last_commits(store: Store, head: str, paths: list[str]) -> dict[str, dict[str, Any]]:
    """``lastCommit`` for each path: the newest first-parent commit that changed it.

    Walks history once, comparing each commit's entry for the path with its parent's, which is
    what ``git log -1 -- <path>`` answers for linear history.
    """
    pending = set(paths)
    found: dict[str, dict[str, Any]] = {}
    history = list(store.history(head))
    for index, (oid, commit) in enumerate(history):
        if not pending:
            break
        parent_tree = history[index + 1][1].tree if index + 1 < len(history) else None
        for path in list(pending):
            here = lookup(store, commit.tree, path)
            before = lookup(store, parent_tree, path) if parent_tree else None
            if here != before:
                found[path] = {"id": oid, "title": commit.title, "date": views.iso(commit.timestamp)}
                pending.discard(path)
    return found
