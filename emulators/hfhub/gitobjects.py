"""Git object encoding, so commit/tree/blob ids are the ones real ``git`` computes.

The Hub is a git server: clients compare blob ids (preupload ``oid``), cache downloads by them
(``ETag``) and pin revisions by commit id. Reproducing git's hashing bit for bit keeps every one
of those ids meaningful and lets a stored repo be exported to plain git unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

FILE_MODE = "100644"
TREE_MODE = "40000"

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1\n"


def object_id(kind: str, body: bytes) -> str:
    """SHA-1 over git's ``<kind> <len>\\0<body>`` framing."""
    header = f"{kind} {len(body)}\0".encode()
    return hashlib.sha1(header + body).hexdigest()


def blob_id(content: bytes) -> str:
    return object_id("blob", content)


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer git-lfs stores in the tree in place of the large file."""
    return LFS_POINTER_PREFIX + f"oid sha256:{sha256}\nsize {size}\n".encode()


def parse_lfs_pointer(content: bytes) -> tuple[str, int] | None:
    """(sha256, size) when ``content`` is a git-lfs pointer, else None."""
    if not content.startswith(LFS_POINTER_PREFIX) or len(content) > 1024:
        return None
    oid = size = None
    for line in content.decode("ascii", "replace").splitlines()[1:]:
        key, _, value = line.partition(" ")
        if key == "oid" and value.startswith("sha256:"):
            oid = value[len("sha256:") :]
        elif key == "size" and value.isdigit():
            size = int(value)
    if oid is None or size is None:
        return None
    return oid, size


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    name: str
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE


def _sort_key(entry: TreeEntry) -> bytes:
    # git orders a sub-tree as if its name ended with "/", so "a.b" < "a/" < "a0".
    name = entry.name.encode()
    return name + b"/" if entry.is_tree else name


def encode_tree(entries: list[TreeEntry]) -> bytes:
    out = bytearray()
    for entry in sorted(entries, key=_sort_key):
        out += f"{entry.mode} {entry.name}\0".encode() + bytes.fromhex(entry.oid)
    return bytes(out)


def decode_tree(body: bytes) -> list[TreeEntry]:
    entries: list[TreeEntry] = []
    pos = 0
    while pos < len(body):
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        mode = body[pos:space].decode()
        name = body[space + 1 : nul].decode()
        oid = body[nul + 1 : nul + 21].hex()
        entries.append(TreeEntry(mode, name, oid))
        pos = nul + 21
    return entries


@dataclass(frozen=True)
class Commit:
    tree: str
    parents: tuple[str, ...]
    author: str
    email: str
    timestamp: int
    message: str

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def description(self) -> str:
        parts = self.message.split("\n\n", 1)
        return parts[1].rstrip("\n") if len(parts) == 2 else ""


def encode_commit(commit: Commit) -> bytes:
    ident = f"{commit.author} <{commit.email}> {commit.timestamp} +0000"
    lines = [f"tree {commit.tree}"]
    lines += [f"parent {p}" for p in commit.parents]
    lines += [f"author {ident}", f"committer {ident}"]
    message = commit.message if commit.message.endswith("\n") else commit.message + "\n"
    return ("\n".join(lines) + "\n\n" + message).encode()


def decode_commit(body: bytes) -> Commit:
    text = body.decode()
    head, _, message = text.partition("\n\n")
    tree = ""
    parents: list[str] = []
    author = email = ""
    timestamp = 0
    for line in head.splitlines():
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            name, _, rest = value.partition(" <")
            email, _, when = rest.partition("> ")
            author = name
            timestamp = int(when.split(" ")[0])
    return Commit(tree, tuple(parents), author, email, timestamp, message)
