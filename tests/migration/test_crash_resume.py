"""kill -9 a migration at random points, resume it, and compare with a clean run:
equal content, nothing duplicated, nothing lost."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.base import ArtifactUpload
from mapping.schema import VersionSpec
from tests.migration.helpers import mlflow_adapter

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = 16


def _config(tmp: Path, target: str) -> Path:
    path = tmp / f"{target}.yaml"
    path.write_text(
        f"data_dir: {tmp / ('state-' + target)}\n"
        "registries:\n"
        f"  src: {{kind: mlflow, tracking_uri: 'sqlite:///{tmp / 'src' / 'mlflow.db'}', artifact_location: '{tmp / 'src' / 'artifacts'}'}}\n"
        f"  dst: {{kind: mlflow, tracking_uri: 'sqlite:///{tmp / target / 'mlflow.db'}', artifact_location: '{tmp / target / 'artifacts'}'}}\n"
    )
    (tmp / target).mkdir(exist_ok=True)
    return path


def _mrg(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _created(state_db: Path, job: str) -> int:
    if not state_db.exists():
        return 0
    try:
        with sqlite3.connect(state_db, timeout=1) as conn:
            row = conn.execute("SELECT count(*) FROM migration_items WHERE job_id = ? AND state = 'created'",
                               (job,)).fetchone()
            return int(row[0])
    except sqlite3.OperationalError:
        return 0  # schema not created yet


def _target_versions(tmp: Path, target: str) -> list[tuple[str, str | None, list[tuple[str, str | None]]]]:
    adapter = mlflow_adapter("dst", tmp / target)
    out = []
    for v in adapter.iter_versions("crash"):
        files = [(f.path, f.sha256) for f in adapter.list_artifacts("crash", v.version)]
        out.append((v.version, v.description, files))
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("crash")
    src = mlflow_adapter("src", tmp / "src")
    src.create_model("crash")
    for i in range(VERSIONS):
        src.create_version("crash", VersionSpec(description=f"build {i}", metrics={"i": float(i)}),
                           [ArtifactUpload.from_bytes("weights.bin", os.urandom(256 * 1024))])
    return tmp


def test_kill_nine_then_resume_equals_a_clean_run(source: Path) -> None:
    tmp = source
    clean_cfg = _config(tmp, "clean")
    assert _mrg("migrate", "run", "--from", "src", "--to", "dst", "--job-id", "clean", "-c", str(clean_cfg)).wait(120) == 0
    clean = _target_versions(tmp, "clean")
    assert len(clean) == VERSIONS

    rng = random.Random(int(os.environ.get("MRG_CRASH_SEED", "7")))
    for attempt in range(3):
        target = f"crashed{attempt}"
        cfg = _config(tmp, target)
        kill_after = rng.randint(1, VERSIONS - 2)
        proc = _mrg("migrate", "run", "--from", "src", "--to", "dst", "--job-id", "j", "--workers", "3", "-c", str(cfg))
        deadline = time.monotonic() + 120
        while _created(tmp / f"state-{target}" / "mrg.db", "j") < kill_after and proc.poll() is None:
            assert time.monotonic() < deadline, "the migration made no progress"
            time.sleep(0.01)
        time.sleep(rng.random() * 0.05)  # land anywhere: mid-upload, between create and journal, ...
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert _created(tmp / f"state-{target}" / "mrg.db", "j") < VERSIONS or proc.returncode == 0

        assert _mrg("migrate", "resume", "j", "-c", str(cfg)).wait(120) == 0
        assert _mrg("migrate", "verify", "j", "-c", str(cfg)).wait(120) == 0
        assert _target_versions(tmp, target) == clean, f"attempt {attempt} (killed after {kill_after}) differs"
