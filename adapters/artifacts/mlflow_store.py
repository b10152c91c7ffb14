"""Streaming reads and writes of MLflow artifacts, whatever store is behind the tracking server.

MLflow's artifact repositories download and upload through local files; a gateway that copies
gigabytes between registries must not stage them on disk. This module streams instead, using
MLflow's own repository objects and HTTP helper: local stores are read and written in place,
``mlflow-artifacts:`` (the server's proxy) with a streamed GET/PUT, ``s3://`` with the
repository's own boto3 client. Other stores fall back to MLflow's download, said in the
docstring of :func:`open_read`.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

CHUNK = 1024 * 1024


def _repo(artifact_uri: str, tracking_uri: str | None) -> Any:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repo = get_artifact_repository(artifact_uri, tracking_uri=tracking_uri)
    # runs:/ and models:/ repositories wrap the store that really holds the bytes.
    while hasattr(repo, "repo") and repo.repo is not None and repo.repo is not repo:
        repo = repo.repo
    return repo


def resolve(artifact_uri: str, tracking_uri: str | None) -> Any:
    """The repository holding ``artifact_uri``'s bytes. Resolving a ``runs:/`` URI costs a
    ``get_run``: callers that list and then read a version resolve once and pass ``repo``."""
    return _repo(artifact_uri, tracking_uri)


def list_files(artifact_uri: str, tracking_uri: str | None, *, repo: Any = None) -> list[tuple[str, int | None]]:
    """Every file under ``artifact_uri`` (recursively) as (relative path, size)."""
    repo = repo if repo is not None else _repo(artifact_uri, tracking_uri)
    out: list[tuple[str, int | None]] = []

    def walk(path: str | None) -> None:
        for info in repo.list_artifacts(path):
            if info.is_dir:
                walk(info.path)
            else:
                out.append((info.path, info.file_size))

    walk(None)
    return sorted(out)


def open_read(
    artifact_uri: str, path: str, tracking_uri: str | None, chunk_size: int = CHUNK, *, repo: Any = None
) -> Iterator[bytes]:
    """Stream one file. Unknown stores are downloaded to a temporary file first (then removed)."""
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    repo = repo if repo is not None else _repo(artifact_uri, tracking_uri)
    if isinstance(repo, LocalArtifactRepository):
        return _iter_file(repo.get_local_path(path), chunk_size)
    if isinstance(repo, HttpArtifactRepository):
        from mlflow.utils.rest_utils import augmented_raise_for_status, http_request

        resp = http_request(repo._host_creds, posixpath.join("/", path), "GET", stream=True)
        augmented_raise_for_status(resp)
        return _iter_response(resp, chunk_size)
    s3 = _s3_location(repo, path)
    if s3 is not None:
        client, bucket, key = s3
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        return iter(lambda: body.read(chunk_size), b"")
    return _iter_downloaded(repo, path, chunk_size)


def write_stream(artifact_uri: str, path: str, stream: BinaryIO, tracking_uri: str | None) -> None:
    """Store ``stream`` as ``path`` under ``artifact_uri`` without a local copy where possible."""
    from mlflow.store.artifact.artifact_repo import StreamUploadMixin
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    repo = _repo(artifact_uri, tracking_uri)
    directory, filename = posixpath.split(path)
    if isinstance(repo, StreamUploadMixin):
        repo.log_artifact_from_stream(stream, filename, directory or None)
        return
    if isinstance(repo, HttpArtifactRepository):
        from mlflow.utils.rest_utils import augmented_raise_for_status, http_request

        resp = http_request(
            repo._host_creds,
            posixpath.join("/", path),
            "PUT",
            data=iter(lambda: stream.read(CHUNK), b""),
            extra_headers={"Content-Type": "application/octet-stream"},
        )
        augmented_raise_for_status(resp)
        return
    s3 = _s3_location(repo, path)
    if s3 is not None:
        client, bucket, key = s3
        client.upload_fileobj(stream, bucket, key)
        return
    with tempfile.TemporaryDirectory(prefix="mrg-") as tmp:
        local = os.path.join(tmp, filename)
        with open(local, "wb") as fh:
            shutil.copyfileobj(stream, fh, CHUNK)
        repo.log_artifact(local, directory or None)


def _s3_location(repo: Any, path: str) -> tuple[Any, str, str] | None:
    try:
        from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository
    except ImportError:  # pragma: no cover - boto3 missing
        return None
    if not isinstance(repo, S3ArtifactRepository):
        return None
    from mlflow.utils.data_utils import parse_s3_uri

    bucket, prefix = parse_s3_uri(repo.artifact_uri)
    return repo._get_s3_client(), bucket, posixpath.join(prefix, path)


def _iter_file(local_path: str, chunk_size: int) -> Iterator[bytes]:
    fh = open(local_path, "rb")  # noqa: SIM115 - opened now: a missing file fails the call, not the first chunk
    return _iter_open(fh, chunk_size)


def _iter_open(fh: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with fh:
        while block := fh.read(chunk_size):
            yield block


def _iter_response(resp: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from resp.iter_content(chunk_size=chunk_size)
    finally:
        resp.close()


def _iter_downloaded(repo: Any, path: str, chunk_size: int) -> Iterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="mrg-") as tmp:
        local = repo.download_artifacts(path, dst_path=tmp)
        yield from _iter_file(local, chunk_size)
