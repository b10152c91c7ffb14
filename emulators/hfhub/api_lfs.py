"""Git LFS batch API with the Hub's two transfers (``basic``, ``multipart``) and verify.

Upload URLs carry their own HMAC signature because the client PUTs to them without
Authorization (they are S3 presigned URLs on the Hub). Payloads are streamed to disk and hashed
on the fly, so a 200 MiB file never sits in memory; a multipart part is written at its offset in
one file, so completing an upload is a hash, not a copy.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from math import ceil
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_repos import json_body
from .context import Hub, base_url, caller, readable_repo, writable_repo
from .errors import HubError, bad_request

LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"
_TYPE_BY_PREFIX = {"": "model", "datasets/": "dataset", "spaces/": "space"}
_HEX = set("0123456789abcdef")


def _lfs_json(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, media_type=LFS_MEDIA_TYPE)


def _valid_oid(oid: Any) -> bool:
    return isinstance(oid, str) and len(oid) == 64 and set(oid) <= _HEX


async def batch(hub: Hub, request: Request, prefix: str, ns: str, name: str) -> Response:
    user = caller(hub, request)
    body = await json_body(request)
    operation = body.get("operation")
    repo_type = _TYPE_BY_PREFIX[prefix or ""]
    if operation == "upload":
        writable_repo(hub, user, repo_type, ns, name)
    elif operation == "download":
        readable_repo(hub, user, repo_type, ns, name)
    else:
        raise bad_request(f"Invalid LFS operation: {operation}")
    if body.get("hash_algo", "sha256") != "sha256":
        return _lfs_json({"message": "Unsupported hash algorithm"}, 409)
    transfers = body.get("transfers") or ["basic"]
    objects = body.get("objects")
    if not isinstance(objects, list):
        raise bad_request("Invalid LFS batch request: objects must be an array")
    base = base_url(request)
    verify_href = f"{base}/{prefix or ''}{ns}/{name}.git/info/lfs/objects/verify"
    used_multipart = False
    out = []
    for obj in objects:
        oid, size = obj.get("oid"), obj.get("size")
        if not _valid_oid(oid) or not isinstance(size, int) or size < 0:
            out.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid object"}})
            continue
        stored = hub.store.lfs_size(oid)
        if operation == "download":
            if stored is None:
                out.append({"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}})
            else:
                href = f"{base}/_cdn/{oid}?{hub.sign('cdn', oid=oid)}"
                out.append({"oid": oid, "size": stored, "authenticated": True,
                            "actions": {"download": {"href": href}}})
            continue
        if stored is not None:
            if stored != size:
                out.append({"oid": oid, "size": size,
                            "error": {"code": 422, "message": f"Size mismatch: stored object is {stored} bytes"}})
            else:
                out.append({"oid": oid, "size": size, "authenticated": True})
            continue
        upload_id = secrets.token_hex(8)
        if "multipart" in transfers and size > hub.settings.multipart_threshold:
            used_multipart = True
            chunk = hub.settings.multipart_chunk_size
            header: dict[str, str] = {"chunk_size": str(chunk)}
            for part in range(1, ceil(size / chunk) + 1):
                query = hub.sign("part", oid=oid, size=size, part=part, chunk=chunk, upload=upload_id)
                header[f"{part:05d}"] = f"{base}/_lfs/part/{oid}?{query}"
            query = hub.sign("complete", oid=oid, size=size, chunk=chunk, upload=upload_id)
            upload = {"href": f"{base}/_lfs/complete/{oid}?{query}", "header": header}
        else:
            query = hub.sign("upload", oid=oid, size=size)
            upload = {"href": f"{base}/_lfs/upload/{oid}?{query}"}
        out.append({"oid": oid, "size": size, "authenticated": True,
                    "actions": {"upload": upload, "verify": {"href": verify_href}}})
    return _lfs_json({"transfer": "multipart" if used_multipart else "basic", "objects": out})


def _params(hub: Hub, request: Request, purpose: str, oid: str) -> dict[str, str]:
    params = hub.check_signature(purpose, dict(request.query_params))
    if params.get("oid") != oid:
        raise HubError(403, "Request signature does not match")
    return params


async def _receive(request: Request, fd: int, offset: int, limit: int) -> tuple[int, Any]:
    """Stream the body to ``fd`` at ``offset``; returns (bytes written, sha256 of them)."""
    digest = hashlib.sha256()
    written = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        if written + len(chunk) > limit:
            raise bad_request("Body is larger than announced")
        os.pwrite(fd, chunk, offset + written)
        digest.update(chunk)
        written += len(chunk)
    return written, digest


async def upload_basic(hub: Hub, request: Request, oid: str) -> Response:
    params = _params(hub, request, "upload", oid)
    size = int(params["size"])
    tmp = hub.store.temp_file(".upload")
    fd = os.open(tmp, os.O_WRONLY)
    try:
        written, digest = await _receive(request, fd, 0, size)
    finally:
        os.close(fd)
    if written != size or digest.hexdigest() != oid:
        tmp.unlink(missing_ok=True)
        raise bad_request(f"Uploaded content does not match oid {oid} and size {size}")
    hub.store.lfs_adopt(oid, size, tmp)
    return Response(status_code=200, headers={"ETag": f'"{oid}"'})


def _multipart_file(hub: Hub, oid: str, upload_id: str) -> str:
    return str(hub.store.tmp_dir / f"multipart-{oid}-{upload_id}")


async def upload_part(hub: Hub, request: Request, oid: str) -> Response:
    params = _params(hub, request, "part", oid)
    size, part, chunk = int(params["size"]), int(params["part"]), int(params["chunk"])
    offset = (part - 1) * chunk
    expected = min(chunk, size - offset)
    fd = os.open(_multipart_file(hub, oid, params["upload"]), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        written, digest = await _receive(request, fd, offset, expected)
    finally:
        os.close(fd)
    if written != expected:
        raise bad_request(f"Part {part} has {written} bytes, expected {expected}")
    return Response(status_code=200, headers={"ETag": f'"{digest.hexdigest()[:32]}"'})


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


async def complete_multipart(hub: Hub, request: Request, oid: str) -> Response:
    params = _params(hub, request, "complete", oid)
    size, chunk = int(params["size"]), int(params["chunk"])
    body = await json_body(request)
    parts = body.get("parts")
    if body.get("oid") != oid or not isinstance(parts, list) or len(parts) != ceil(size / chunk):
        raise bad_request("Invalid multipart completion payload")
    if any(not p.get("etag") for p in parts):
        raise bad_request("Every part needs an etag")
    path = _multipart_file(hub, oid, params["upload"])
    if not os.path.exists(path) or os.path.getsize(path) != size:
        raise bad_request("Upload is incomplete: missing parts")
    if await anyio.to_thread.run_sync(_sha256_file, path) != oid:
        os.unlink(path)
        raise bad_request(f"Uploaded content does not match oid {oid}")
    hub.store.lfs_adopt(oid, size, Path(path))
    return JSONResponse({"success": True})


async def verify(hub: Hub, request: Request, prefix: str, ns: str, name: str) -> Response:
    writable_repo(hub, caller(hub, request), _TYPE_BY_PREFIX[prefix or ""], ns, name)
    body = await json_body(request)
    oid, size = body.get("oid"), body.get("size")
    stored = hub.store.lfs_size(oid) if _valid_oid(oid) else None
    if stored is None:
        return _lfs_json({"message": f"Object {oid} does not exist"}, 404)
    if size is not None and stored != size:
        return _lfs_json({"message": f"Size mismatch for {oid}: {stored} != {size}"}, 422)
    return _lfs_json({"success": True})
