"""The emulator as a process: the announcement line, GCS beside it, persistence, LRO polling."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path
from typing import Any

import pytest

from emulators import launcher


def test_announcement_names_everything_an_sdk_needs(
    vertex_emulator: launcher.RunningEmulator,
) -> None:
    info = vertex_emulator.info
    assert info["emulator"] == "vertex"
    assert info["endpoint"].startswith("http://127.0.0.1:")
    assert info["gcs_endpoint"].startswith("http://127.0.0.1:")
    assert info["location"] == "us-central1" and info["project"]
    assert info["env"] == {"STORAGE_EMULATOR_HOST": info["gcs_endpoint"]}


def test_google_cloud_storage_round_trip(vertex_emulator: launcher.RunningEmulator, monkeypatch: Any, uid: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", vertex_emulator.info["gcs_endpoint"])
    client = storage.Client(project=vertex_emulator.info["project"], credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"bkt-{uid}")
    payload = b"model-bytes" * 1000
    blob = bucket.blob("models/churn/model.pkl")
    blob.upload_from_string(payload)
    back = bucket.get_blob("models/churn/model.pkl")
    assert back is not None and back.download_as_bytes() == payload
    assert back.md5_hash  # GCS reports base64 MD5 and CRC32C for checksummed copies
    assert back.crc32c
    import base64

    assert base64.b64decode(back.md5_hash) == hashlib.md5(payload).digest()


def test_sdk_stages_local_artifacts_into_gcs(
    highlevel: Any,
    vertex_emulator: launcher.RunningEmulator,
    monkeypatch: Any,
    tmp_path: Path,
    uid: str,
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", vertex_emulator.info["gcs_endpoint"])
    client = storage.Client(project=vertex_emulator.info["project"], credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"stage-{uid}")
    (tmp_path / "model.joblib").write_bytes(b"weights")
    model = highlevel.Model.upload(
        display_name=uid,
        model_id=uid,
        artifact_uri=str(tmp_path),
        serving_container_image_uri="us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest",
        staging_bucket=f"gs://{bucket.name}",
        sync=True,
    )
    assert model.uri.startswith(f"gs://{bucket.name}/")
    staged = [b.name for b in client.list_blobs(bucket.name)]
    assert any(name.endswith("model.joblib") for name in staged)


def _gapic(endpoint: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1

    return aiplatform_v1.ModelServiceClient(
        transport="rest",
        client_options={"api_endpoint": endpoint},
        credentials=AnonymousCredentials(),
    )


def _metadata(endpoint: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1

    return aiplatform_v1.MetadataServiceClient(
        transport="rest", client_options={"api_endpoint": endpoint}, credentials=AnonymousCredentials()
    )


def test_state_persists_across_restart_with_data_dir(tmp_path: Path) -> None:
    from google.cloud import aiplatform_v1

    with launcher.start("vertex", data_dir=tmp_path, extra_args=["--lro-polls", "2"]) as emu:
        parent = f"projects/{emu.info['project']}/locations/{emu.info['location']}"
        client = _gapic(emu.endpoint)
        op = client.upload_model(
            request=aiplatform_v1.UploadModelRequest(
                parent=parent,
                model_id="persisted",
                model=aiplatform_v1.Model(display_name="p", labels={"a": "b"}),
            )
        )
        assert not op.done()  # --lro-polls 2: the client has to poll /ui/{operation}
        assert op.result(timeout=30).model_version_id == "1"
        client.merge_version_aliases(name=f"{parent}/models/persisted@1", version_aliases=["prod"])
        artifact = _metadata(emu.endpoint).get_artifact(
            name=client.get_model(name=f"{parent}/models/persisted").metadata_artifact
        )
        emu.process.send_signal(signal.SIGTERM)
        assert emu.process.wait(timeout=15) == 0  # clean stop on SIGTERM
    with launcher.start("vertex", data_dir=tmp_path) as emu:
        got = _gapic(emu.endpoint).get_model(name=f"{parent}/models/persisted@prod")
        assert got.version_id == "1" and got.labels == {"a": "b"}
        assert _metadata(emu.endpoint).get_artifact(name=artifact.name).uri == artifact.uri
        upload = _gapic(emu.endpoint).upload_model(
            request=aiplatform_v1.UploadModelRequest(
                parent=parent, parent_model=got.name.split("@")[0], model=aiplatform_v1.Model(display_name="p")
            )
        )
        assert upload.result(timeout=30).model_version_id == "2"  # version numbering continues


@pytest.mark.parametrize("flag", ["--port"])
def test_cli_requires_port(flag: str) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "emulators.vertex"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=str(Path(__file__).resolve().parents[3]),
    )
    assert proc.returncode != 0 and flag in proc.stderr and proc.stdout == ""
