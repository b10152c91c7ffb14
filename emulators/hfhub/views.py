"""JSON shapes of Hub resources, as huggingface_hub parses them (ModelInfo, RepoFile, ...)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from . import cards
from . import gitobjects as g
from .store import FileEntry, Repo, Store


def iso(ts: float) -> str:
    """The Hub's timestamp format: millisecond ISO-8601 in UTC with a 'Z'."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def object_id(repo: Repo) -> str:
    """A stable 24-hex id shaped like the Hub's Mongo ``_id``."""
    return hashlib.sha1(f"{repo.type}:{repo.pk}".encode()).hexdigest()[:24]


def web_prefix(repo_type: str) -> str:
    return {"model": "", "dataset": "datasets/", "space": "spaces/"}[repo_type]


def file_json(entry: FileEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "file", "oid": entry.blob_oid, "size": entry.size, "path": entry.path}
    if entry.lfs:
        data["lfs"] = {"oid": entry.lfs[0], "size": entry.lfs[1], "pointerSize": entry.blob_size}
    return data


def sibling_json(entry: FileEntry, blobs: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"rfilename": entry.path}
    if blobs:
        data["blobId"] = entry.blob_oid
        data["size"] = entry.size
        if entry.lfs:
            data["lfs"] = {"sha256": entry.lfs[0], "size": entry.lfs[1], "pointerSize": entry.blob_size}
    return data


def commit_json(oid: str, commit: g.Commit) -> dict[str, Any]:
    return {
        "id": oid,
        "title": commit.title,
        "message": commit.description,
        "authors": [{"user": commit.author, "avatar": None}],
        "date": iso(commit.timestamp),
    }


def repo_files(store: Store, commit_oid: str) -> list[FileEntry]:
    flat = store.flatten(store.commit(commit_oid).tree)
    return [store.file_entry(path, oid) for path, oid in sorted(flat.items())]


def readme_card(store: Store, commit_oid: str) -> dict[str, Any] | None:
    flat = store.flatten(store.commit(commit_oid).tree)
    oid = flat.get("README.md")
    return cards.card_data(store.blob(oid)) if oid else None


def repo_json(
    store: Store,
    repo: Repo,
    commit_oid: str,
    *,
    siblings: bool = True,
    blobs: bool = False,
    card: bool = True,
    full: bool = True,
) -> dict[str, Any]:
    """``model_info``/``list_models`` item. Fields the emulator has no notion of are neutral."""
    commit = store.commit(commit_oid)
    card_data = readme_card(store, commit_oid)
    tags = cards.derived_tags(card_data)
    if repo.type == "model":
        tags = [*tags, "region:us"]
    data: dict[str, Any] = {
        "_id": object_id(repo),
        "id": repo.id,
        "private": repo.private,
        "tags": tags,
        "downloads": 0,
        "likes": 0,
        "createdAt": iso(repo.created_at),
    }
    if repo.type == "model":
        data["modelId"] = repo.id
        for key in ("library_name", "pipeline_tag"):
            if card_data and card_data.get(key):
                data[key] = card_data[key]
    if full:
        files = repo_files(store, commit_oid)
        data.update(
            {
                "author": repo.namespace,
                "sha": commit_oid,
                "lastModified": iso(commit.timestamp),
                "gated": False,
                "disabled": False,
                "usedStorage": sum(f.size for f in files),
            }
        )
        if siblings:
            data["siblings"] = [sibling_json(f, blobs) for f in files]
        if repo.type == "model":
            data["spaces"] = []
    if card and card_data is not None:
        data["cardData"] = card_data
        if card_data.get("model-index") is not None:
            data["model-index"] = card_data["model-index"]
    return data
