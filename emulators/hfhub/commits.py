"""The commit endpoint's semantics: apply NDJSON operations to a branch atomically.

One request = one git commit (or nothing), whatever the number of files, which is what lets a
registry map one model version to exactly one commit.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from . import gitobjects as g
from .errors import HubError, bad_request, revision_not_found
from .gitattributes import is_lfs_tracked, track
from .store import Repo, Store
from .validation import file_path

_SHA256_HEX = set("0123456789abcdef")


@dataclass
class CommitRequest:
    summary: str = ""
    description: str = ""
    parent_commit: str | None = None
    operations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def parse_ndjson(lines: list[dict[str, Any]]) -> CommitRequest:
    request = CommitRequest()
    for item in lines:
        if not isinstance(item, dict) or "key" not in item or not isinstance(item.get("value"), dict):
            raise bad_request("Invalid commit payload: each line must be {key, value}")
        key, value = item["key"], item["value"]
        if key == "header":
            request.summary = str(value.get("summary") or "")
            request.description = str(value.get("description") or "")
            request.parent_commit = value.get("parentCommit") or None
        elif key in ("file", "lfsFile", "deletedFile", "deletedFolder"):
            request.operations.append((key, value))
        else:
            raise bad_request(f"Invalid commit payload: unknown key {key!r}")
    if not request.summary.strip():
        raise bad_request("Invalid commit payload: header.summary is required")
    return request


def _decode_content(value: dict[str, Any]) -> bytes:
    content = value.get("content", "")
    encoding = value.get("encoding", "utf-8")
    if not isinstance(content, str):
        raise bad_request("Invalid commit payload: file content must be a string")
    if encoding == "base64":
        try:
            return base64.b64decode(content, validate=True)
        except binascii.Error as exc:
            raise bad_request(f"Invalid base64 content for {value.get('path')}") from exc
    if encoding in ("utf-8", "utf8"):
        return content.encode()
    raise bad_request(f"Invalid encoding: {encoding}")


def _check_no_file_dir_clash(files: dict[str, str], path: str) -> None:
    parts = path.split("/")
    for i in range(1, len(parts)):
        if "/".join(parts[:i]) in files:
            raise bad_request(f"Cannot create {path}: {'/'.join(parts[:i])} is a file")
    prefix = path + "/"
    if any(p.startswith(prefix) for p in files):
        raise bad_request(f"Cannot create file {path}: a folder with this name exists")


def apply_commit(store: Store, repo: Repo, branch: str, request: CommitRequest, author: str) -> str:
    """Write the commit and move the branch; returns the new commit id."""
    ref = store.get_ref(repo, "branch", branch)
    if ref is None:
        if store.resolve(repo, branch) is not None:
            raise bad_request(f"Invalid rev id: {branch} is not a branch")
        raise revision_not_found(branch)
    head = ref.target
    if request.parent_commit and request.parent_commit != head:
        raise HubError(
            412,
            f"A commit has happened since. Please refresh and try again. "
            f"(parentCommit {request.parent_commit} is not the head {head} of {branch})",
        )
    files = store.flatten(store.commit(head).tree)
    new_lfs_paths: list[str] = []
    for key, value in request.operations:
        path = file_path(value.get("path", ""))
        if key == "deletedFile":
            if path not in files:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            del files[path]
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            doomed = [p for p in files if p.startswith(prefix)]
            if not doomed:
                raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
            for p in doomed:
                del files[p]
        elif key == "file":
            content = _decode_content(value)
            files.pop(path, None)
            _check_no_file_dir_clash(files, path)
            files[path] = store.put_object("blob", content)
        else:  # lfsFile
            oid = str(value.get("oid", "")).lower()
            if value.get("algo", "sha256") != "sha256" or len(oid) != 64 or not set(oid) <= _SHA256_HEX:
                raise bad_request(f"Invalid LFS oid for {path}")
            stored = store.lfs_size(oid)
            if stored is None:
                raise HubError(
                    422, f"Your push was rejected because an LFS pointer pointed to a file that does not exist: {path}"
                )
            if value.get("size") is not None and int(value["size"]) != stored:
                raise bad_request(f"LFS object size mismatch for {path}: {value['size']} != {stored}")
            files.pop(path, None)
            _check_no_file_dir_clash(files, path)
            files[path] = store.put_object("blob", g.lfs_pointer(oid, stored))
            new_lfs_paths.append(path)

    attributes_oid = files.get(".gitattributes")
    attributes = store.blob(attributes_oid).decode("utf-8", "replace") if attributes_oid else ""
    untracked = [p for p in new_lfs_paths if not is_lfs_tracked(attributes, p)]
    if untracked:
        for path in untracked:
            attributes = track(attributes, path)
        files[".gitattributes"] = store.put_object("blob", attributes.encode())

    message = request.summary.strip()
    if request.description.strip():
        message += "\n\n" + request.description.strip()
    commit = store.write_commit(store.build_tree(files), (head,), author, message)
    if not store.move_branch(repo, branch, head, commit):
        raise HubError(412, "A commit has happened since. Please refresh and try again.")
    store.touch(repo)
    return commit
