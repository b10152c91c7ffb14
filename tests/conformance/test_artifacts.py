"""Artifacts: bytes in equal bytes out, listed with sizes and digests, streamed in chunks."""

from __future__ import annotations

import pytest

from adapters.base import ArtifactUpload, Capabilities, InvalidInput, RegistryAdapter
from mapping.schema import VersionSpec
from tests.conformance.conftest import require
from tests.conformance.specimens import CONFIG, WEIGHTS, full_spec, sha256, uploads


def test_uploaded_files_list_and_read_back_identically(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.artifact_upload, "artifact_upload")
    v = adapter.create_version(model, full_spec(), uploads())
    files = {f.path: f for f in adapter.list_artifacts(model, v.version)}
    assert {"model.bin", "config/settings.json"} <= set(files)
    assert files["model.bin"].size == len(WEIGHTS)
    assert files["model.bin"].sha256 == sha256(WEIGHTS)
    assert files["config/settings.json"].sha256 == sha256(CONFIG)
    assert adapter.read_artifact_bytes(model, v.version, "config/settings.json") == CONFIG


def test_reads_stream_in_chunks(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.artifact_upload, "artifact_upload")
    v = adapter.create_version(model, VersionSpec(), uploads())
    chunks = list(adapter.read_artifact(model, v.version, "model.bin", chunk_size=64 * 1024))
    assert len(chunks) > 1, "a 1 MiB file read with 64 KiB chunks must arrive in several pieces"
    assert max(len(c) for c in chunks) <= 1024 * 1024
    assert sha256(b"".join(chunks)) == sha256(WEIGHTS)


def test_corrupt_upload_fails_and_leaves_nothing(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.artifact_upload, "artifact_upload")
    bad = ArtifactUpload(path="model.bin", chunks=[b"tampered bytes"], sha256=sha256(b"original bytes"))
    with pytest.raises(InvalidInput) as info:
        adapter.create_version(model, VersionSpec(description="corrupt"), [bad])
    assert info.value.field == "artifact.sha256"
    assert [v.description for v in adapter.iter_versions(model)] == []


def test_artifact_of_missing_file_is_not_found(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.artifact_upload, "artifact_upload")
    from adapters.base import NotFound

    v = adapter.create_version(model, VersionSpec(), uploads())
    with pytest.raises(NotFound):
        adapter.read_artifact_bytes(model, v.version, "no/such/file.bin")
