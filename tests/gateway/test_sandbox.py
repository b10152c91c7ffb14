"""``mrg serve --sandbox``: every backend up on this machine, one catalog over them, the official
SDKs pointed at the emulators by ``sandbox.env`` alone, and everything stopped on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from gateway.sandbox.launch import EMULATOR_BACKENDS
from tests.gateway.serving import start_serve

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("sandbox")


def _alive(marker: str) -> list[str]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return [pid for pid in out.stdout.split() if pid != str(os.getpid())]


def test_sandbox_serves_every_backend_and_stops_cleanly(tmp_path: Path) -> None:
    sandbox_dir = tmp_path / "sbx"
    proc, base = start_serve("--sandbox", "--seed", "--sandbox-dir", str(sandbox_dir), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/healthz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the gateway did not answer /healthz"
            time.sleep(0.3)
        registries = httpx.get(f"{base}/v1/registries", timeout=60).json()["items"]
        expected = {"local", "mlflow"} | {b.registry for b in EMULATOR_BACKENDS}
        assert {r["name"] for r in registries} == expected
        assert all(r["health"]["ok"] for r in registries), registries

        # --seed: the same demo model in every registry, approved and aliased, found by one search.
        demo = httpx.get(f"{base}/v1/models", params={"q": "demo-fraud-scorer"}, timeout=60).json()
        assert {m["registry"] for m in demo["items"]} == expected
        assert all(m["aliases"].get("champion") for m in demo["items"]), demo["items"]

        # One catalog: a model created in every registry through the gateway is found by one search.
        hub_user = json.loads((sandbox_dir / "sandbox.json").read_text())["services"]["hfhub"]["user"]
        for registry in expected:
            name = f"{hub_user}/fraud-sbx" if registry == "hf" else "fraud-sbx"
            created = httpx.post(f"{base}/v1/registries/{registry}/models", json={"name": name}, timeout=60)
            assert created.status_code == 201, created.text
        found = httpx.get(f"{base}/v1/models", params={"q": "fraud-sbx"}, timeout=60).json()
        assert found["partial"] is False and {m["registry"] for m in found["items"]} == expected

        # The official SDK, configured by sandbox.env alone, sees what the gateway wrote.
        env = json.loads((sandbox_dir / "sandbox.json").read_text())["env"]
        assert env["HF_HUB_DISABLE_XET"] == "1" and env["MLFLOW_TRACKING_URI"].startswith("http://127.0.0.1:")
        sm = boto3.client("sagemaker", endpoint_url=env["AWS_ENDPOINT_URL_SAGEMAKER"], region_name=env["AWS_DEFAULT_REGION"],
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        groups = sm.list_model_package_groups(NameContains="fraud-sbx")["ModelPackageGroupSummaryList"]
        assert [g["ModelPackageGroupName"] for g in groups] == ["fraud-sbx"]
        assert "token" not in (sandbox_dir / "mrg.yaml").read_text().replace("token_env", "")

        # The CLI on the sandbox's mrg.yaml: with sandbox.env it works; without, one line names what is missing.
        plan = ["migrate", "plan", "--from", "local/demo-fraud-scorer", "--to", "sagemaker", "-c", str(sandbox_dir / "mrg.yaml")]
        bare = {k: v for k, v in os.environ.items() if k not in env}
        cli = [sys.executable, "-m", "gateway.cli", *plan]
        without = subprocess.run(cli, env={**bare, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
        assert without.returncode == 2, without.stderr
        assert without.stderr.strip().count("\n") == 0 and "AWS_ACCESS_KEY_ID is not set" in without.stderr
        with_env = subprocess.run(cli, env={**bare, **env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                                  timeout=120)
        assert with_env.returncode == 0, with_env.stderr
        assert "nothing written" in with_env.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    for _ in range(50):
        if not _alive(str(sandbox_dir)):
            break
        time.sleep(0.2)
    assert _alive(str(sandbox_dir)) == [], "sandbox processes outlived the gateway"
