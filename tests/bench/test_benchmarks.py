"""Every benchmark in bench/ still runs: each script at a tiny size, checked for its ratio line.

These are smoke tests, not timed tests: they never assert a wall-clock figure or a goal being
met (the machine is shared and noisy), only that the script starts what it needs, completes,
cleans up and prints its measurement against its baseline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout: float = 180) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f"{script} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


@pytest.mark.xdist_group("bench-mlflow")
def test_migration_mlflow_runs() -> None:
    out = run_bench("migration_mlflow.py", "--versions", "4", "--size", "64KiB", "--workers", "2",
                    "--one-server", "--regimes", "loopback,lan")
    assert len(lines_with(out, "naive sequential MlflowClient copy (baseline)")) == 2
    assert lines_with(out, "[loopback] ratio baseline/migrator:")
    assert lines_with(out, "[lan] ratio baseline/migrator:")


def test_stream_rss_runs() -> None:
    out = run_bench("stream_rss.py", "--size", "2MiB")
    assert len(lines_with(out, "idle RSS (baseline)")) == 2  # the adapter read and the REST route
    assert len(lines_with(out, "ratio growth/artifact:")) == 2


def test_object_store_copy_runs() -> None:
    out = run_bench("object_store_copy.py", "--size", "2MiB")
    assert lines_with(out, "raw SDK copy")
    assert lines_with(out, "ratio migrator/raw throughput:")
    assert lines_with(out, "sha256 verified")


def test_hf_large_file_runs() -> None:
    out = run_bench("hf_large_file.py", "--size", "2MiB")
    assert lines_with(out, "ratio adapter/plain upload throughput:")
    assert lines_with(out, "byte-identical through hf_hub_download at the version's tag -> met")
