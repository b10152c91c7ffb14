"""The emulator's whole state: JSON-able records behind one lock, optionally in SQLite.

One lock around each request keeps version numbering and read-modify-write updates atomic,
which is what AWS guarantees a caller. Collections are dicts that remember which keys a
request touched, so persistence writes only those rows. Each request is then one small
SQLite transaction, whatever the size of the registry.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

STATE_FILE = "sagemaker-state.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Settings:
    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"


class TrackedDict(dict[str, Any]):
    """A dict that records the keys set or deleted since the last save.

    A record changed in place must be stored again (``table[key] = record``) or marked with
    ``touch``; the handlers store again.
    """

    def __init__(self, items: Iterable[tuple[str, Any]] = ()) -> None:
        super().__init__(items)
        self.dirty: set[str] = set()

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.dirty.add(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.dirty.add(key)

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        if key in self:
            self.dirty.add(key)
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.dirty.add(key)
        return super().setdefault(key, default)

    def touch(self, key: str) -> None:
        self.dirty.add(key)

    def remove_where(self, predicate: Any) -> None:
        """Delete every entry whose value satisfies ``predicate`` (in place, tracked)."""
        for key in [k for k, v in self.items() if predicate(v)]:
            del self[key]


@dataclass
class State:
    """Collections keyed the way lookups need them; every value is JSON-serialisable."""

    groups: TrackedDict = field(default_factory=TrackedDict)  # lower(name) -> group
    packages: TrackedDict = field(default_factory=TrackedDict)  # arn -> package
    next_version: TrackedDict = field(default_factory=TrackedDict)  # lower(group) -> next number
    client_tokens: TrackedDict = field(default_factory=TrackedDict)  # scope|token -> arn
    tags: TrackedDict = field(default_factory=TrackedDict)  # arn -> tags
    artifacts: TrackedDict = field(default_factory=TrackedDict)  # arn -> artifact
    contexts: TrackedDict = field(default_factory=TrackedDict)  # arn -> context
    actions: TrackedDict = field(default_factory=TrackedDict)  # arn -> action
    associations: TrackedDict = field(default_factory=TrackedDict)  # src|dst -> association
    sequence: int = 0  # monotonic tiebreak so equal timestamps keep creation order

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def collections(self) -> dict[str, TrackedDict]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sequence"}


class Store:
    """Owns the State, its lock and (optionally) its SQLite file."""

    def __init__(self, settings: Settings, data_dir: str | Path | None = None) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.state = State()
        self.db: sqlite3.Connection | None = None
        if data_dir:
            path = Path(data_dir)
            path.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path / STATE_FILE, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self._load()

    def _load(self) -> None:
        assert self.db is not None
        tables = self.state.collections()
        for collection, key, value in self.db.execute("SELECT collection, key, value FROM records"):
            if collection in tables:
                dict.__setitem__(tables[collection], key, json.loads(value))
        row = self.db.execute("SELECT value FROM meta WHERE key = 'sequence'").fetchone()
        self.state.sequence = int(row[0]) if row else 0

    def save(self) -> None:
        """Write the rows the last request touched, in one transaction; then forget them."""
        tables = self.state.collections()
        if self.db is not None:
            self.db.execute("BEGIN")
            try:
                for name, table in tables.items():
                    for key in table.dirty:
                        if key in table:
                            self.db.execute(
                                "INSERT OR REPLACE INTO records (collection, key, value) VALUES (?, ?, ?)",
                                (name, key, json.dumps(table[key], separators=(",", ":"))),
                            )
                        else:
                            self.db.execute("DELETE FROM records WHERE collection = ? AND key = ?", (name, key))
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sequence', ?)",
                                (str(self.state.sequence),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        for table in tables.values():
            table.dirty.clear()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
