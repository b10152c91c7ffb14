"""Artifacts: bytes in equal bytes out, listed with sizes and digests, streamed in chunks."""

from __future__ import annotations

import pytest

from adapters.base import ArtifactUpload, Capabilities, InvalidInput, RegistryAdapter
from mapping.fidelity import Placement
from mapping.schema import MigratedFrom, VersionSpec
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


def test_version_files_list_and_read_what_the_contract_does(adapter: RegistryAdapter, model: str,
                                                            caps: Capabilities) -> None:
    require(caps.artifact_upload, "artifact_upload")
    adapter.create_version(model, VersionSpec(), uploads())
    [listed] = list(adapter.iter_versions(model))
    files = adapter.version_files(listed)
    by_path = {f.path: f for f in files.list()}
    assert by_path == {f.path: f for f in adapter.list_artifacts(model, listed.version)}
    assert by_path["model.bin"].sha256 == sha256(WEIGHTS)
    undigested = {f.path: f.size for f in files.list(digests=False)}
    assert undigested == {path: f.size for path, f in by_path.items()}
    assert sha256(b"".join(files.read("model.bin", chunk_size=64 * 1024))) == sha256(WEIGHTS)


def test_staged_uploads_report_what_was_stored_and_take_metadata_at_commit(
    adapter: RegistryAdapter, model: str, caps: Capabilities
) -> None:
    """What a copier relies on to hash a checksum-less source once: ``stage_version`` reports the
    digest of every file it stored, and ``commit_version`` writes ``staged.spec`` as it is then."""
    require(caps.staged_uploads, "staged_uploads")
    require(caps.fidelity.get("lineage.migrated_from") not in (None, Placement.UNSUPPORTED), "lineage.migrated_from")
    unhashed = [ArtifactUpload(path="model.bin", chunks=[WEIGHTS[: len(WEIGHTS) // 2], WEIGHTS[len(WEIGHTS) // 2 :]]),
                ArtifactUpload(path="config/settings.json", chunks=[CONFIG])]
    staged = adapter.stage_version(model, VersionSpec(description="late digest"), unhashed)
    assert staged.stored is not None
    assert {f.path: (f.size, f.sha256) for f in staged.stored} == {
        "model.bin": (len(WEIGHTS), sha256(WEIGHTS)), "config/settings.json": (len(CONFIG), sha256(CONFIG))}
    staged.spec.lineage.migrated_from = MigratedFrom(uri="mrg://elsewhere/m/versions/3", digest="sha256:late")
    created = adapter.commit_version(staged)
    again = adapter.get_version(model, created.version)
    assert again.lineage.migrated_from == MigratedFrom(uri="mrg://elsewhere/m/versions/3", digest="sha256:late")
