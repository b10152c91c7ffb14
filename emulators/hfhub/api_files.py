"""File downloads: ``/resolve`` (Hub metadata headers) and the CDN-like LFS payload origin."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from . import trees
from .context import Hub, caller, cdn_url, readable_repo
from .errors import HubError, entry_not_found, revision_not_found

_TYPE_BY_PREFIX = {"": "model", "datasets/": "dataset", "spaces/": "space"}


def _disposition(path: str) -> str:
    filename = path.rsplit("/", 1)[-1]
    return f"inline; filename*=UTF-8''{quote(filename)}; filename=\"{quote(filename)}\";"


async def resolve(hub: Hub, request: Request, prefix: str, ns: str, name: str, rev: str, path: str) -> Response:
    repo = readable_repo(hub, caller(hub, request), _TYPE_BY_PREFIX[prefix or ""], ns, name)
    revision = unquote(rev)
    commit = hub.store.resolve(repo, revision)
    if commit is None:
        raise revision_not_found(revision)
    file_path = unquote(path)
    found = trees.lookup(hub.store, hub.store.commit(commit).tree, file_path)
    if found is None or found[0] != "blob":
        raise entry_not_found(file_path, commit)
    entry = hub.store.file_entry(file_path, found[1])
    headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes", "Content-Disposition": _disposition(file_path)}
    if entry.lfs:
        sha256, size = entry.lfs
        query = hub.sign("cdn", oid=sha256, commit=commit, name=file_path.rsplit("/", 1)[-1])
        location = f"{cdn_url(hub, request)}/_cdn/{sha256}?{query}"
        headers.update({"ETag": f'"{entry.blob_oid}"', "X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(size)})
        return RedirectResponse(location, status_code=302, headers=headers)
    content = hub.store.blob(entry.blob_oid)
    headers["ETag"] = f'"{entry.blob_oid}"'
    media_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
    if media_type.startswith("text/") or file_path.endswith((".md", ".json", ".txt", ".yaml", ".yml")):
        media_type = f"{media_type}; charset=utf-8"
    range_header = request.headers.get("range")
    if range_header and range_header.startswith("bytes="):
        return _range(content, range_header, headers, media_type, request.method == "HEAD")
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(content))
        return Response(status_code=200, headers=headers, media_type=media_type)
    return Response(content, headers=headers, media_type=media_type)


def _range(content: bytes, header: str, headers: dict[str, str], media_type: str, head: bool) -> Response:
    start_s, _, end_s = header[len("bytes=") :].partition("-")
    total = len(content)
    try:
        if start_s == "":
            start, end = max(total - int(end_s), 0), total - 1
        else:
            start, end = int(start_s), (int(end_s) if end_s else total - 1)
    except ValueError:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
    if start >= total or start > end:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
    end = min(end, total - 1)
    headers = {**headers, "Content-Range": f"bytes {start}-{end}/{total}"}
    body = b"" if head else content[start : end + 1]
    if head:
        headers["Content-Length"] = str(end - start + 1)
    return Response(body, status_code=206, headers=headers, media_type=media_type)


async def cdn(hub: Hub, request: Request, oid: str) -> Response:
    params = hub.check_signature("cdn", dict(request.query_params))
    if params.get("oid") != oid:
        raise HubError(403, "Request signature does not match")
    size = hub.store.lfs_size(oid)
    if size is None:
        raise HubError(404, "Object not found")
    headers = {"ETag": f'"{oid}"', "X-Linked-Etag": f'"{oid}"', "X-Linked-Size": str(size)}
    if params.get("commit"):
        # Same-origin deployments follow the redirect; keep the Hub headers on this final response.
        headers["X-Repo-Commit"] = params["commit"]
    if params.get("name"):
        headers["Content-Disposition"] = _disposition(params["name"])
    return FileResponse(hub.store.lfs_path(oid), headers=headers, media_type="application/octet-stream")
