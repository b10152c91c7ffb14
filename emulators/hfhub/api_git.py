"""Git-level endpoints: preupload, commit, refs, tags, branches, history, tree, paths-info, cards."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from . import cards, trees, validation, views
from .api_repos import _TYPES_BY_PLURAL, json_body
from .commits import apply_commit, parse_ndjson
from .context import Hub, base_url, caller, query_bool, readable_repo, writable_repo
from .errors import HubError, bad_request, conflict, entry_not_found, revision_not_found
from .gitattributes import is_lfs_tracked
from .pagination import paginated
from .store import Repo


def _resolve(hub: Hub, repo: Repo, revision: str) -> str:
    commit = hub.store.resolve(repo, revision)
    if commit is None:
        raise revision_not_found(revision)
    return commit


async def preupload(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    user = caller(hub, request)
    repo = writable_repo(hub, user, _TYPES_BY_PLURAL[plural], ns, name)
    revision = unquote(rev)
    commit = _resolve(hub, repo, revision)
    body = await json_body(request)
    files = body.get("files")
    if not isinstance(files, list):
        raise bad_request("Invalid preupload payload: files must be an array")
    if len(files) > 1000:
        raise bad_request("Too many files in a single preupload request (max 1000)")
    current = hub.store.flatten(hub.store.commit(commit).tree)
    attributes_oid = current.get(".gitattributes")
    attributes = hub.store.blob(attributes_oid).decode("utf-8", "replace") if attributes_oid else ""
    result = []
    for item in files:
        if not isinstance(item, dict):
            raise bad_request("Invalid preupload payload: each file must be an object")
        path = validation.file_path(str(item.get("path", "")))
        size = int(item.get("size") or 0)
        try:
            sample = base64.b64decode(item.get("sample") or "", validate=True)
        except binascii.Error as exc:
            raise bad_request(f"Invalid sample for {path}") from exc
        lfs = is_lfs_tracked(attributes, path) or size >= hub.settings.lfs_threshold or b"\0" in sample
        oid = None
        if path in current:
            entry = hub.store.file_entry(path, current[path])
            oid = entry.lfs[0] if entry.lfs else entry.blob_oid
        result.append({"path": item.get("path"), "uploadMode": "lfs" if lfs else "regular",
                       "shouldIgnore": False, "oid": oid})
    return JSONResponse({"files": result, "commitOid": commit})


async def commit(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    user = caller(hub, request)
    repo = writable_repo(hub, user, _TYPES_BY_PLURAL[plural], ns, name)
    if query_bool(request, "create_pr"):
        raise HubError(501, "Pull requests are not supported by this emulator")
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    try:
        if "ndjson" in content_type:
            lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            lines = _json_commit_as_lines(json.loads(raw or b"{}"))
    except ValueError as exc:
        raise bad_request("Invalid commit payload: malformed JSON") from exc
    request_ = parse_ndjson(lines)
    assert user is not None
    oid = apply_commit(hub.store, repo, unquote(rev), request_, user)
    url = f"{base_url(request)}/{views.web_prefix(repo.type)}{repo.id}/commit/{oid}"
    return JSONResponse({"success": True, "commitOid": oid, "commitUrl": url, "hookOutput": ""})


def _json_commit_as_lines(body: Any) -> list[dict[str, Any]]:
    """The older application/json commit shape (summary/files/lfsFiles/deletedFiles)."""
    if not isinstance(body, dict):
        raise bad_request("Invalid commit payload")
    lines: list[dict[str, Any]] = [{"key": "header", "value": {
        "summary": body.get("summary"), "description": body.get("description"),
        "parentCommit": body.get("parentCommit")}}]
    for key, plural in (("file", "files"), ("lfsFile", "lfsFiles"), ("deletedFile", "deletedFiles")):
        lines += [{"key": key, "value": v} for v in body.get(plural) or []]
    return lines


def _ref_json(kind: str, name: str, target: str) -> dict[str, str]:
    prefix = "refs/heads/" if kind == "branch" else "refs/tags/"
    return {"name": name, "ref": prefix + name, "targetCommit": target}


async def refs(hub: Hub, request: Request, plural: str, ns: str, name: str) -> Response:
    repo = readable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    all_refs = hub.store.refs(repo)
    data: dict[str, Any] = {
        "branches": [_ref_json("branch", r.name, r.target) for r in all_refs if r.kind == "branch"],
        "converts": [],
        "tags": [_ref_json("tag", r.name, r.target) for r in all_refs if r.kind == "tag"],
    }
    if query_bool(request, "include_prs"):
        data["pullRequests"] = []
    return JSONResponse(data)


async def create_tag(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = writable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    body = await json_body(request)
    tag = body.get("tag")
    if not isinstance(tag, str):
        raise bad_request("Missing tag name")
    validation.ref_name(tag, "tag")
    target = _resolve(hub, repo, unquote(rev))
    if hub.store.get_ref(repo, "tag", tag) is not None:
        raise conflict(f"Tag reference {tag} already exists")
    message = body.get("message")
    hub.store.set_ref(repo, "tag", tag, target, str(message) if message else None)
    return JSONResponse({})


async def delete_tag(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = writable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    tag = unquote(rev)
    if not hub.store.delete_ref(repo, "tag", tag):
        raise revision_not_found(tag)
    return JSONResponse({})


async def create_branch(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = writable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    branch = unquote(rev)
    validation.ref_name(branch, "branch")
    body = await json_body(request)
    if hub.store.get_ref(repo, "branch", branch) is not None and not body.get("overwrite"):
        raise conflict(f"Reference refs/heads/{branch} already exists")
    if body.get("emptyBranch"):
        raise HubError(501, "Empty branches are not supported by this emulator")
    starting = body.get("startingPoint") or "main"
    target = _resolve(hub, repo, str(starting))
    hub.store.set_ref(repo, "branch", branch, target)
    return JSONResponse({})


async def delete_branch(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = writable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    branch = unquote(rev)
    if branch == "main":
        raise HubError(403, "Cannot delete the default branch")
    if not hub.store.delete_ref(repo, "branch", branch):
        raise revision_not_found(branch)
    return JSONResponse({})


async def list_commits(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = readable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    head = _resolve(hub, repo, unquote(rev))
    formatted = "formatted" in request.query_params.getlist("expand[]") + request.query_params.getlist("expand")
    items = []
    for oid, c in hub.store.history(head):
        item = views.commit_json(oid, c)
        if formatted:
            item["formatted"] = {"title": c.title, "message": c.description}
        items.append(item)
    return paginated(request, items, hub.settings.commits_page_size)


async def tree(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str, path: str = "") -> Response:
    repo = readable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    commit_oid = _resolve(hub, repo, unquote(rev))
    path = unquote(path).strip("/")
    found = trees.lookup(hub.store, hub.store.commit(commit_oid).tree, path)
    if found is None or found[0] != "tree":
        raise entry_not_found(path, commit_oid)
    prefix = f"{path}/" if path else ""
    items = list(trees.walk(hub.store, found[1], prefix, query_bool(request, "recursive")))
    if query_bool(request, "expand"):
        _add_last_commits(hub, commit_oid, items)
    return paginated(request, items, hub.settings.tree_page_size)


def _add_last_commits(hub: Hub, commit_oid: str, items: list[dict[str, Any]]) -> None:
    """``expand=true``: the last commit of each entry (security scan fields are not emulated)."""
    last = trees.last_commits(hub.store, commit_oid, [item["path"] for item in items])
    for item in items:
        if item["path"] in last:
            item["lastCommit"] = last[item["path"]]


async def paths_info(hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str) -> Response:
    repo = readable_repo(hub, caller(hub, request), _TYPES_BY_PLURAL[plural], ns, name)
    commit_oid = _resolve(hub, repo, unquote(rev))
    if "json" in request.headers.get("content-type", ""):
        body = await json_body(request)
        paths, expand = body.get("paths") or [], str(body.get("expand", "false"))
    else:
        # urlencoded form, parsed without python-multipart (not a dependency of this project)
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        paths, expand = form.get("paths", []), (form.get("expand") or ["false"])[0]
    form_expand = expand.lower() in ("1", "true")
    root = hub.store.commit(commit_oid).tree
    out = []
    for path in paths:
        clean = str(path).strip("/")
        found = trees.lookup(hub.store, root, clean)
        if found is not None:
            out.append(trees.entry_json(hub.store, clean, *found))
    if form_expand:
        _add_last_commits(hub, commit_oid, out)
    return JSONResponse(out)


async def validate_yaml(hub: Hub, request: Request) -> Response:
    body = await json_body(request)
    content = body.get("content")
    if not isinstance(content, str):
        raise bad_request("Missing content")
    errors, warnings = cards.validate(content)
    if "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse("\n".join(errors), status_code=400 if errors else 200)
    if errors:
        payload = {"error": "; ".join(errors), "errors": [{"message": e} for e in errors],
                   "warnings": [{"message": w} for w in warnings]}
        return JSONResponse(payload, status_code=400)
    return JSONResponse({"errors": [], "warnings": [{"message": w} for w in warnings]})
