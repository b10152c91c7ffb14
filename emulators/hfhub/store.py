"""Persistent state: users, repos, refs and git objects in SQLite; LFS objects as files.

SQLite (not a JSON dump) so a mutation costs the same with 3 repos or 3,000 and a crash never
leaves half-written state; LFS payloads live outside it as one file per sha256, written once, so a
200 MiB weight shared by many versions or repos is stored once and streamed from disk.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import gitobjects as g
from .gitattributes import DEFAULT_GITATTRIBUTES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS org_members (
    org TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (org, member));
CREATE TABLE IF NOT EXISTS repos (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    private INTEGER NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (type, namespace, name));
CREATE TABLE IF NOT EXISTS refs (
    repo_pk INTEGER NOT NULL REFERENCES repos(pk) ON DELETE CASCADE,
    kind TEXT NOT NULL, name TEXT NOT NULL, target TEXT NOT NULL, message TEXT,
    PRIMARY KEY (repo_pk, kind, name));
CREATE TABLE IF NOT EXISTS objects (oid TEXT PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lfs_objects (oid TEXT PRIMARY KEY, size INTEGER NOT NULL);
"""

SYSTEM_AUTHOR = "system"


@dataclass(frozen=True)
class Repo:
    pk: int
    type: str
    namespace: str
    name: str
    private: bool
    created_at: float
    updated_at: float

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Ref:
    kind: str  # "branch" | "tag"
    name: str
    target: str
    message: str | None


@dataclass(frozen=True)
class FileEntry:
    """A file in a tree, with the LFS pointer already decoded."""

    path: str
    blob_oid: str
    blob_size: int
    lfs: tuple[str, int] | None  # (sha256, size)

    @property
    def size(self) -> int:
        return self.lfs[1] if self.lfs else self.blob_size


class Store:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.lfs_dir = data_dir / "lfs"
        self.tmp_dir = data_dir / "tmp"
        self.lfs_dir.mkdir(parents=True, exist_ok=True)
        # Uploads in progress die with the process that received them; never let them pile up.
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(data_dir / "hub.sqlite3", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- meta / users ------------------------------------------------------------------------

    def secret(self) -> bytes:
        """Key for signed LFS URLs; persisted so URLs stay valid across restarts."""
        row = self.db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        value = secrets.token_bytes(32)
        self.db.execute("INSERT INTO meta VALUES ('secret', ?)", (value.hex(),))
        return value

    def ensure_user(self, name: str, token: str | None = None) -> str:
        """Create the user if needed and return its token (kept across restarts)."""
        row = self.db.execute("SELECT token FROM users WHERE name=?", (name,)).fetchone()
        if row and (token is None or token == row[0]):
            return str(row[0])
        token = token or "hf_" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
        self.db.execute(
            "INSERT INTO users VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET token=excluded.token",
            (name, token, time.time()),
        )
        return token

    def add_org_member(self, org: str, member: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO org_members VALUES (?, ?)", (org, member))

    def user_for_token(self, token: str) -> str | None:
        row = self.db.execute("SELECT name FROM users WHERE token=?", (token,)).fetchone()
        return str(row[0]) if row else None

    def user_exists(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone() is not None

    def orgs_of(self, user: str) -> list[str]:
        rows = self.db.execute("SELECT org FROM org_members WHERE member=? ORDER BY org", (user,))
        return [r[0] for r in rows]

    def org_exists(self, org: str) -> bool:
        return self.db.execute("SELECT 1 FROM org_members WHERE org=?", (org,)).fetchone() is not None

    # --- git objects -------------------------------------------------------------------------

    def put_object(self, kind: str, body: bytes) -> str:
        oid = g.object_id(kind, body)
        self.db.execute("INSERT OR IGNORE INTO objects VALUES (?, ?, ?)", (oid, kind, body))
        return oid

    def get_object(self, oid: str) -> tuple[str, bytes] | None:
        row = self.db.execute("SELECT kind, body FROM objects WHERE oid=?", (oid,)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def blob(self, oid: str) -> bytes:
        obj = self.get_object(oid)
        assert obj is not None and obj[0] == "blob", oid
        return obj[1]

    def blob_size(self, oid: str) -> int:
        row = self.db.execute("SELECT length(body) FROM objects WHERE oid=?", (oid,)).fetchone()
        return int(row[0])

    def commit(self, oid: str) -> g.Commit:
        obj = self.get_object(oid)
        assert obj is not None and obj[0] == "commit", oid
        return g.decode_commit(obj[1])

    def is_commit(self, oid: str) -> bool:
        obj = self.db.execute("SELECT kind FROM objects WHERE oid=?", (oid,)).fetchone()
        return obj is not None and obj[0] == "commit"

    def tree_entries(self, oid: str) -> list[g.TreeEntry]:
        obj = self.get_object(oid)
        assert obj is not None and obj[0] == "tree", oid
        return g.decode_tree(obj[1])

    def flatten(self, tree_oid: str, prefix: str = "") -> dict[str, str]:
        """path -> blob oid for every file under a tree."""
        files: dict[str, str] = {}
        for entry in self.tree_entries(tree_oid):
            path = f"{prefix}{entry.name}"
            if entry.is_tree:
                files.update(self.flatten(entry.oid, path + "/"))
            else:
                files[path] = entry.oid
        return files

    def build_tree(self, files: dict[str, str]) -> str:
        """Write the nested trees for a flat path -> blob map and return the root tree id."""
        children: dict[str, dict[str, str]] = {}
        entries: list[g.TreeEntry] = []
        for path, oid in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = oid
            else:
                entries.append(g.TreeEntry(g.FILE_MODE, head, oid))
        for name, sub in children.items():
            entries.append(g.TreeEntry(g.TREE_MODE, name, self.build_tree(sub)))
        return self.put_object("tree", g.encode_tree(entries))

    def file_entry(self, path: str, blob_oid: str) -> FileEntry:
        size = self.blob_size(blob_oid)
        lfs = g.parse_lfs_pointer(self.blob(blob_oid)) if size <= 1024 else None
        return FileEntry(path, blob_oid, size, lfs)

    def write_commit(
        self, tree: str, parents: tuple[str, ...], author: str, message: str, when: float | None = None
    ) -> str:
        commit = g.Commit(
            tree=tree,
            parents=parents,
            author=author,
            email=f"{author}@users.noreply.huggingface.co",
            timestamp=int(when if when is not None else time.time()),
            message=message,
        )
        return self.put_object("commit", g.encode_commit(commit))

    def history(self, head: str) -> Iterator[tuple[str, g.Commit]]:
        """First-parent history, newest first (the Hub's commit list order)."""
        oid: str | None = head
        while oid:
            commit = self.commit(oid)
            yield oid, commit
            oid = commit.parents[0] if commit.parents else None

    # --- repos and refs ----------------------------------------------------------------------

    def _repo(self, row: tuple | None) -> Repo | None:
        if row is None:
            return None
        pk, type_, ns, name, private, created, updated = row
        return Repo(pk, type_, ns, name, bool(private), created, updated)

    def get_repo(self, type_: str, namespace: str, name: str) -> Repo | None:
        row = self.db.execute(
            "SELECT * FROM repos WHERE type=? AND namespace=? AND name=?", (type_, namespace, name)
        ).fetchone()
        return self._repo(row)

    def list_repos(self, type_: str) -> list[Repo]:
        rows = self.db.execute("SELECT * FROM repos WHERE type=? ORDER BY pk", (type_,)).fetchall()
        return [r for r in (self._repo(row) for row in rows) if r is not None]

    def create_repo(self, type_: str, namespace: str, name: str, private: bool) -> Repo:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cur = self.db.execute(
                "INSERT INTO repos (type, namespace, name, private, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (type_, namespace, name, int(private), now, now),
            )
            blob = self.put_object("blob", DEFAULT_GITATTRIBUTES.encode())
            tree = self.build_tree({".gitattributes": blob})
            initial = self.write_commit(tree, (), SYSTEM_AUTHOR, "initial commit", now)
            self.db.execute(
                "INSERT INTO refs VALUES (?, 'branch', 'main', ?, NULL)", (cur.lastrowid, initial)
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        repo = self.get_repo(type_, namespace, name)
        assert repo is not None
        return repo

    def delete_repo(self, repo: Repo) -> None:
        self.db.execute("DELETE FROM repos WHERE pk=?", (repo.pk,))

    def set_private(self, repo: Repo, private: bool) -> None:
        self.db.execute("UPDATE repos SET private=?, updated_at=? WHERE pk=?", (int(private), time.time(), repo.pk))

    def move_repo(self, repo: Repo, namespace: str, name: str) -> None:
        self.db.execute("UPDATE repos SET namespace=?, name=? WHERE pk=?", (namespace, name, repo.pk))

    def touch(self, repo: Repo) -> None:
        self.db.execute("UPDATE repos SET updated_at=? WHERE pk=?", (time.time(), repo.pk))

    def refs(self, repo: Repo) -> list[Ref]:
        rows = self.db.execute(
            "SELECT kind, name, target, message FROM refs WHERE repo_pk=? ORDER BY kind, name", (repo.pk,)
        )
        return [Ref(*row) for row in rows]

    def get_ref(self, repo: Repo, kind: str, name: str) -> Ref | None:
        row = self.db.execute(
            "SELECT kind, name, target, message FROM refs WHERE repo_pk=? AND kind=? AND name=?",
            (repo.pk, kind, name),
        ).fetchone()
        return Ref(*row) if row else None

    def set_ref(self, repo: Repo, kind: str, name: str, target: str, message: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO refs VALUES (?,?,?,?,?) ON CONFLICT(repo_pk, kind, name) "
            "DO UPDATE SET target=excluded.target, message=excluded.message",
            (repo.pk, kind, name, target, message),
        )

    def move_branch(self, repo: Repo, name: str, expected: str, target: str) -> bool:
        """Compare-and-swap a branch head so concurrent commits cannot silently drop one another."""
        cur = self.db.execute(
            "UPDATE refs SET target=? WHERE repo_pk=? AND kind='branch' AND name=? AND target=?",
            (target, repo.pk, name, expected),
        )
        return cur.rowcount == 1

    def delete_ref(self, repo: Repo, kind: str, name: str) -> bool:
        cur = self.db.execute("DELETE FROM refs WHERE repo_pk=? AND kind=? AND name=?", (repo.pk, kind, name))
        return cur.rowcount == 1

    def resolve(self, repo: Repo, revision: str) -> str | None:
        """Branch, then tag, then full commit id reachable in this repo — the Hub's order."""
        for kind in ("branch", "tag"):
            ref = self.get_ref(repo, kind, revision)
            if ref:
                return ref.target
        is_sha = len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
        if is_sha and self.is_commit(revision) and self._reachable(repo, revision):
            return revision
        return None

    def _reachable(self, repo: Repo, oid: str) -> bool:
        return any(any(c == oid for c, _ in self.history(ref.target)) for ref in self.refs(repo))

    # --- LFS objects -------------------------------------------------------------------------

    def lfs_path(self, oid: str) -> Path:
        return self.lfs_dir / oid[:2] / oid[2:4] / oid

    def lfs_size(self, oid: str) -> int | None:
        row = self.db.execute("SELECT size FROM lfs_objects WHERE oid=?", (oid,)).fetchone()
        return int(row[0]) if row else None

    def lfs_adopt(self, oid: str, size: int, tmp_file: Path) -> None:
        """Move a verified upload into place; an object already present wins (content-addressed)."""
        target = self.lfs_path(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp_file.unlink(missing_ok=True)
        else:
            os.replace(tmp_file, target)
        self.db.execute("INSERT OR IGNORE INTO lfs_objects VALUES (?, ?)", (oid, size))

    def temp_file(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=suffix)
        os.close(fd)
        return Path(name)
