"""The HF adapter against the emulator, checked with the plain Hub client a user would use."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.base import ArtifactUpload
from adapters.hf import HuggingFaceAdapter
from mapping.errors import InvalidInput, NotFound, PermissionDenied, Unavailable
from mapping.schema import DatasetRef, Lineage, ParentRef, Stage, VersionSpec

from .conftest import HubSession

# 200 MiB is the acceptance size; the default keeps the suite fast. Run the full size with
#   MRG_HF_ACCEPTANCE_MIB=200 .venv/bin/python -m pytest tests/backends/hf -k large
ACCEPTANCE_MIB = int(os.environ.get("MRG_HF_ACCEPTANCE_MIB", "24"))


@pytest.fixture
def adapter(hub: HubSession) -> Iterator[HuggingFaceAdapter]:
    adapter = HuggingFaceAdapter("hf-test", {"endpoint": hub.endpoint, "token": hub.token})
    yield adapter
    adapter.close()


def _stream(size: int, seed: bytes) -> tuple[Iterator[bytes], hashlib._Hash]:
    """Pseudo-random bytes produced 1 MiB at a time, so no test holds the whole file."""
    expected = hashlib.sha256()
    block = hashlib.sha256(seed).digest() * 32768

    def chunks() -> Iterator[bytes]:
        sent = 0
        index = 0
        while sent < size:
            chunk = index.to_bytes(4, "big") + block[4 : min(len(block), size - sent)]
            expected.update(chunk)
            sent += len(chunk)
            index += 1
            yield chunk

    return chunks(), expected


def test_large_artifact_downloads_identical_at_the_version_tag(
    adapter: HuggingFaceAdapter, repo_id: str, cache_dir: str
) -> None:
    from huggingface_hub import hf_hub_download

    size = ACCEPTANCE_MIB * 1024 * 1024 + 17
    chunks, expected = _stream(size, b"acceptance")
    adapter.create_model(repo_id, description="big weights")
    version = adapter.create_version(repo_id, VersionSpec(description="big"),
                                     [ArtifactUpload(path="weights/model.safetensors", chunks=chunks, size=size)])
    assert version.version == "1"
    path = hf_hub_download(repo_id, "weights/model.safetensors", revision="v1", cache_dir=cache_dir)
    got = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(8 * 1024 * 1024):
            got.update(block)
    assert (os.path.getsize(path), got.hexdigest()) == (size, expected.hexdigest())
    files = {f.path: f for f in adapter.list_artifacts(repo_id, "1")}
    assert (files["weights/model.safetensors"].size, files["weights/model.safetensors"].sha256) == (
        size, expected.hexdigest())
    streamed = hashlib.sha256()
    for block in adapter.read_artifact(repo_id, "1", "weights/model.safetensors"):
        streamed.update(block)
    assert streamed.hexdigest() == expected.hexdigest()


def test_card_pushed_by_a_user_is_read_with_lineage_and_metrics(
    adapter: HuggingFaceAdapter, api, repo_id: str, hub: HubSession
) -> None:
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"\0weights", path_in_repo="model.bin", repo_id=repo_id)
    data = ModelCardData(
        base_model="google-bert/bert-base-uncased",
        base_model_relation="finetune",
        datasets=["acme/fraud-2024"],
        eval_results=[
            EvalResult(task_type="text-classification", dataset_type="acme/fraud-2024", dataset_name="fraud",
                       metric_type="accuracy", metric_value=0.91),
            EvalResult(task_type="text-classification", dataset_type="acme/fraud-2024", dataset_name="fraud",
                       metric_type="f1", metric_value=0.88),
        ],
        model_name=repo_id.split("/")[1],
    )
    ModelCard.from_template(data, model_description="A fraud classifier.").push_to_hub(repo_id, token=hub.token)
    api.create_tag(repo_id, tag="v1")  # a Hub user's release

    model = adapter.get_model(repo_id)
    assert model.latest_version == "1"
    version = adapter.get_version(repo_id, "1")
    assert version.lineage.parents == [ParentRef(uri="hf://google-bert/bert-base-uncased", relation="fine-tune")]
    assert version.lineage.datasets == [DatasetRef(uri="hf://datasets/acme/fraud-2024", name="acme/fraud-2024")]
    assert version.metrics == {"accuracy": 0.91, "f1": 0.88}
    assert "A fraud classifier." in (version.model_card or "")
    files = {f.path: f.sha256 for f in adapter.list_artifacts(repo_id, "1")}
    assert files == {"model.bin": hashlib.sha256(b"\0weights").hexdigest()}


def test_versions_are_hub_native_for_hub_users(
    adapter: HuggingFaceAdapter, api, repo_id: str, hub: HubSession, cache_dir: str
) -> None:
    from huggingface_hub import ModelCard, hf_hub_download

    adapter.create_model(repo_id)
    parent = ParentRef(uri="hf://google-bert/bert-base-uncased", relation="fine-tune")
    spec = VersionSpec(description="first", metrics={"auc": 0.93}, model_card="# Scorer\n",
                       lineage=Lineage(parents=[parent], datasets=[DatasetRef(uri="hf://datasets/acme/d")]))
    v1 = adapter.create_version(repo_id, spec, [ArtifactUpload.from_bytes("model.bin", b"one")])
    v2 = adapter.create_version(repo_id, VersionSpec(description="second"),
                                [ArtifactUpload.from_bytes("other.bin", b"two")])
    adapter.set_alias(repo_id, "champion", v1.version)
    # One commit per version, each tagged; main holds exactly the latest version's files.
    refs = api.list_repo_refs(repo_id)
    assert {t.name for t in refs.tags} == {"v1", "v2"}
    assert sorted(api.list_repo_files(repo_id)) == [".gitattributes", "README.md", "mrg.json", "other.bin"]
    assert sorted(api.list_repo_files(repo_id, revision="v1")) == [".gitattributes", "README.md", "model.bin",
                                                                   "mrg.json"]
    assert Path(hf_hub_download(repo_id, "model.bin", revision="alias/champion", cache_dir=cache_dir)
                ).read_bytes() == b"one"
    card = ModelCard.load(hf_hub_download(repo_id, "README.md", revision="v1", cache_dir=cache_dir))
    assert card.data.base_model == "google-bert/bert-base-uncased" and card.data.base_model_relation == "finetune"
    assert card.data.eval_results[0].metric_value == 0.93 and card.text.strip() == "# Scorer"
    info = api.model_info(repo_id, revision="v1")
    assert "base_model:google-bert/bert-base-uncased" in info.tags
    # Later edits do not move the immutable tag; main's card mirrors the version main carries.
    adapter.set_stage(repo_id, v1.version, Stage.PRODUCTION)
    assert api.list_repo_refs(repo_id).tags == refs.tags
    assert adapter.get_version(repo_id, "1").stage == Stage.PRODUCTION
    assert api.model_info(repo_id).card_data["mrg"]["stage"] == "NONE"  # main carries v2
    adapter.set_stage(repo_id, v2.version, Stage.STAGING)
    assert api.model_info(repo_id).card_data["mrg"] == {"version": "2", "stage": "STAGING", "approval": "NONE"}
    assert [m.id for m in api.list_models(author=hub.user, filter="mrg-stage:staging") if m.id == repo_id]
    assert adapter.get_version(repo_id, v2.version).stage == Stage.STAGING
    assert adapter.get_version(repo_id, v2.version).aliases == []


def test_adapter_uploads_work_with_xet_enabled_in_the_client(
    adapter: HuggingFaceAdapter, repo_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hf_xet is installed: without the adapter's fallback, LFS files would go to a Xet CAS the
    emulator does not offer. The process-wide setting is left as the user had it."""
    pytest.importorskip("hf_xet")
    from huggingface_hub import constants
    from huggingface_hub.utils._runtime import is_xet_available

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    assert is_xet_available()
    adapter.create_model(repo_id)
    payload = os.urandom(256 * 1024)
    v = adapter.create_version(repo_id, VersionSpec(), [ArtifactUpload.from_bytes("w.safetensors", payload)])
    assert adapter.read_artifact_bytes(repo_id, v.version, "w.safetensors") == payload
    assert constants.HF_HUB_DISABLE_XET is False


def test_concurrent_state_edits_are_not_lost(hub: HubSession, repo_id: str) -> None:
    """Each edit is a read-modify-write of registry.json guarded by parentCommit."""
    first = HuggingFaceAdapter("a", {"endpoint": hub.endpoint, "token": hub.token})
    first.create_model(repo_id)
    versions = [first.create_version(repo_id, VersionSpec()).version for _ in range(4)]
    errors: list[BaseException] = []

    def promote(version: str) -> None:
        try:
            HuggingFaceAdapter("b", {"endpoint": hub.endpoint, "token": hub.token}).set_stage(
                repo_id, version, Stage.STAGING)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v.stage for v in first.iter_versions(repo_id)] == [Stage.STAGING] * 4


def test_hub_errors_map_to_the_taxonomy(adapter: HuggingFaceAdapter, hub: HubSession, api) -> None:
    with pytest.raises(InvalidInput):
        adapter.get_model("no-namespace")
    private = f"bob/private-{uuid.uuid4().hex[:8]}"
    from huggingface_hub import HfApi

    HfApi(endpoint=hub.endpoint, token=hub.other_token).create_repo(private, private=True)
    with pytest.raises(NotFound) as info:
        adapter.get_model(private)
    assert info.value.native_code == "RepoNotFound" and info.value.registry == "hf-test"
    with pytest.raises(PermissionDenied):
        HuggingFaceAdapter("x", {"endpoint": hub.endpoint, "token": "hf_wrong"}).get_model(f"{hub.user}/x")
    with pytest.raises(PermissionDenied):
        adapter.create_model("somebody-else/model")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    down = HuggingFaceAdapter("down", {"endpoint": f"http://127.0.0.1:{closed_port}", "token": hub.token})
    with pytest.raises(Unavailable) as err:
        down.get_model(f"{hub.user}/x")
    assert err.value.retryable
    assert down.health().ok is False and adapter.health().ok is True


def test_staged_uploads_overlap_and_commit_in_order(adapter: HuggingFaceAdapter, repo_id: str,
                                                    hub: HubSession) -> None:
    adapter.create_model(repo_id)
    payloads = [os.urandom(200_000) for _ in range(3)]
    staged: list = [None] * 3

    def stage(i: int) -> None:
        upload = ArtifactUpload.from_bytes("model.bin", payloads[i])
        staged[i] = adapter.stage_version(repo_id, VersionSpec(description=f"build {i}"), [upload])

    threads = [threading.Thread(target=stage, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The payloads are on the Hub before any version exists.
    log = hub.requests_logged()
    assert all(f"PUT /_lfs/upload/{hashlib.sha256(p).hexdigest()}" in log for p in payloads)
    assert adapter.get_model(repo_id).latest_version is None
    adapter.discard_staged(staged[1])
    done = [adapter.commit_version(staged[i]) for i in (0, 2)]
    assert [v.version for v in done] == ["1", "2"]
    assert [v.description for v in adapter.iter_versions(repo_id)] == ["build 0", "build 2"]
    assert adapter.read_artifact_bytes(repo_id, "2", "model.bin") == payloads[2]
