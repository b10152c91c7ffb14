"""The emulator as a process: announcement, persistence under --data-dir, clean SIGTERM."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from azure.ai.ml.entities import Model

from emulators import launcher
from emulators.azureml.client import workspace_client

REQUIRED_KEYS = {
    "emulator", "endpoint", "cloud", "cloud_metadata", "subscription_id", "resource_group", "workspace_name",
    "registry_name", "ca_bundle", "blob_endpoint",
}


@pytest.fixture(autouse=True)
def _keep_process_settings():
    """These tests build MLClients for other emulators; MLClient and trust() write process-wide
    settings (AZUREML_CURRENT_CLOUD, REQUESTS_CA_BUNDLE) that the session's clients rely on."""
    saved = {k: os.environ.get(k) for k in ("AZUREML_CURRENT_CLOUD", "REQUESTS_CA_BUNDLE")}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_data_dir_survives_restart_and_sigterm_stops_azurite(tmp_path, artifact):
    data = tmp_path / "data"
    first = launcher.start("azureml", data_dir=data, timeout=120)
    try:
        info = first.info
        assert info.keys() >= REQUIRED_KEYS
        assert info["endpoint"].startswith("https://127.0.0.1:")
        assert set(info["cloud_metadata"]) == {
            "azure_portal", "resource_manager", "active_directory", "aml_resource_id", "storage_endpoint",
            "registry_discovery_endpoint",
        }
        ml = workspace_client(info)
        ml.models.create_or_update(Model(name="persisted", version="1", path=str(artifact), tags={"k": "v"}))
        ca_before = Path(info["ca_cert"]).read_bytes()
    finally:
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=30) == 0
    assert not _alive(info["azurite_pid"]), "Azurite must stop with the emulator"

    second = launcher.start("azureml", data_dir=data, timeout=120)
    try:
        assert Path(second.info["ca_cert"]).read_bytes() == ca_before  # users' trust keeps working
        ml = workspace_client(second.info)
        got = ml.models.get("persisted", version="1")
        assert got.tags == {"k": "v"}
        out = tmp_path / "out"
        ml.models.download("persisted", version="1", download_path=str(out))
        downloaded = next(p for p in out.rglob("*") if p.is_file())
        assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == hashlib.sha256(artifact.read_bytes()).hexdigest()
    finally:
        second.stop()


def test_announcement_is_the_only_stdout_line(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators.azureml", "--port", "0"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).resolve().parents[3],
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith('{"emulator": "azureml"')
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert rest == ""
    assert proc.returncode == 0
