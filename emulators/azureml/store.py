"""The emulator's state: workspaces and registries, each holding model containers and versions.

Plain JSON-able dicts under one lock, written atomically to ``state.json`` after every change when
a data directory is given, so a restarted emulator serves what it served before. Scope keys are
lower-cased because subscription, resource group, workspace and registry names are
case-insensitive in Azure; model names and versions are case-sensitive and stored as given.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Scope = dict[str, Any]


def scope_key(kind: str, subscription: str, resource_group: str, parent: str) -> str:
    return f"{kind}/{subscription.lower()}/{resource_group.lower()}/{parent.lower()}"


class Store:
    """Thread-safe state; use :meth:`transaction` for every read-modify-write."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.RLock()
        self._data: dict[str, Any] = {"seq": 0, "scopes": {}}
        if path is not None and path.is_file():
            self._data = json.loads(path.read_text(encoding="utf-8"))

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield self._data
            if write:
                self._save()

    def next_seq(self) -> int:
        """A global creation counter: orders ``createdtime`` even within one clock tick."""
        with self._lock:
            self._data["seq"] += 1
            return int(self._data["seq"])

    def scope(self, kind: str, subscription: str, resource_group: str, parent: str) -> Scope:
        """The workspace or registry, provisioned on first use (the emulator has no create-workspace API)."""
        key = scope_key(kind, subscription, resource_group, parent)
        with self._lock:
            scopes = self._data["scopes"]
            if key not in scopes:
                scopes[key] = {
                    "kind": kind, "subscription": subscription, "resourceGroup": resource_group, "parent": parent,
                    "models": {}, "deleted": {},
                }
            return scopes[key]  # type: ignore[no-any-return]

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self._path)
