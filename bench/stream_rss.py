"""A large artifact streams S3 -> gateway -> reader without ever being held in memory.

A SageMaker version (the project's emulator, with moto's S3 beside it) gets one artifact of
``--size`` bytes (1 GiB by default), generated on the fly while it uploads. It is then read
twice, each time by a process that did nothing else, and that process's peak RSS is compared
with its own idle RSS measured just before the read (the baseline, same process, same run):

1. the adapter: ``SageMakerAdapter.read_artifact`` in a fresh child process;
2. the REST route: ``GET /v1/registries/sm/models/<m>/versions/1/artifacts/model.bin`` on a
   real ``mrg serve`` subprocess, read by httpx streaming; the *server's* RSS is measured.

Peak RSS is Linux's ``VmHWM``, reset with ``/proc/<pid>/clear_refs`` (``5``) once the process
is warm, so the peak covers exactly the read. Both reads check the sha256 of what arrived.
Goal: RSS growth during the read stays under 64 MiB, whatever the artifact size (a buffered
read would grow by at least the artifact size).

    .venv/bin/python bench/stream_rss.py [--size 1GiB]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, ROOT)
from harness import BLOCK, generate, proc_status, reset_peak, sagemaker_settings  # noqa: E402
from sizes import mib, parse_size  # noqa: E402

MODEL = "stream-bench"
PATH = "model.bin"
GOAL_GROWTH = 64 * 2**20
SECRET_ENV = "MRG_BENCH_AWS_SECRET"


# -- the measured processes -------------------------------------------------------------------
def child_read(settings: dict[str, Any], version: str) -> None:
    """Run in a fresh process: warm up, note idle RSS, stream the artifact, report the peak."""
    from adapters.sagemaker import SageMakerAdapter

    adapter = SageMakerAdapter("sm", settings)
    adapter.list_artifacts(MODEL, version)  # imports boto3, builds both clients, reads the manifest
    idle = proc_status()["VmRSS"]
    exact = reset_peak()
    digest, n = hashlib.sha256(), 0
    started = time.perf_counter()
    for block in adapter.read_artifact(MODEL, version, PATH):
        digest.update(block)
        n += len(block)
    seconds = time.perf_counter() - started
    status = proc_status()
    print(json.dumps({"idle": idle, "peak": status["VmHWM"], "bytes": n, "seconds": seconds,
                      "sha256": digest.hexdigest(), "exact_peak": exact}))


def measure_adapter(settings: dict[str, Any], version: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-read", json.dumps({"settings": settings, "version": version})],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure_gateway(settings: dict[str, Any], version: str, work: Path) -> dict[str, Any]:
    """Serve the registry with ``mrg serve`` and stream the artifact through the REST route."""
    import httpx
    import yaml

    from gateway.sandbox.services import free_port

    registry = {"kind": "sagemaker", **{k: v for k, v in settings.items() if k != "aws_secret_access_key"},
                "aws_secret_access_key_env": SECRET_ENV}
    config = {"data_dir": str(work / "gw"), "auth": {"anonymous_role": "viewer", "api_keys_env": None},
              "registries": {"sm": registry}}
    (work / "mrg.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    env = {**os.environ, SECRET_ENV: settings["aws_secret_access_key"], "PYTHONPATH": ROOT}
    log = open(work / "serve.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "-c", str(work / "mrg.yaml"),
                             "--port", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1/registries/sm/models/{MODEL}/versions/{version}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mrg serve did not start: {(work / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.1)
        with httpx.Client(timeout=300) as client:
            client.get(f"{base}/artifacts").raise_for_status()  # warm: boto3 imported, clients built
            idle = proc_status(proc.pid)["VmRSS"]
            exact = reset_peak(proc.pid)
            digest, n = hashlib.sha256(), 0
            started = time.perf_counter()
            with client.stream("GET", f"{base}/artifacts/{PATH}") as resp:
                resp.raise_for_status()
                for block in resp.iter_bytes(BLOCK):
                    digest.update(block)
                    n += len(block)
            seconds = time.perf_counter() - started
        peak = proc_status(proc.pid)["VmHWM"]
        return {"idle": idle, "peak": peak, "bytes": n, "seconds": seconds, "sha256": digest.hexdigest(),
                "exact_peak": exact}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def report(name: str, result: dict[str, Any], size: int, sha256: str) -> bool:
    growth = result["peak"] - result["idle"]
    if result["bytes"] != size or result["sha256"] != sha256:
        raise SystemExit(f"{name}: read {result['bytes']} bytes with sha256 {result['sha256']}, "
                         f"expected {size} bytes with {sha256}")
    met = growth <= GOAL_GROWTH
    note = "" if result["exact_peak"] else " (clear_refs refused: peak includes warm-up)"
    print(f"{name}: idle RSS (baseline) {mib(result['idle'])}, peak during read {mib(result['peak'])}, "
          f"growth {mib(growth)}{note}; {mib(size / result['seconds'])}/s, sha256 ok")
    print(f"{name}: ratio growth/artifact: {growth / size:.4f}x ({mib(growth)} for {mib(size)}); "
          f"goal: growth <= {mib(GOAL_GROWTH)} -> {'met' if met else 'NOT met'}")
    return met


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="artifact size (default 1GiB)")
    parser.add_argument("--skip-gateway", action="store_true", help="measure the adapter read only")
    parser.add_argument("--child-read", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_read:
        spec = json.loads(args.child_read)
        child_read(spec["settings"], spec["version"])
        return

    from adapters.base import ArtifactUpload
    from adapters.sagemaker import SageMakerAdapter
    from emulators import launcher
    from mapping.schema import VersionSpec

    work = Path(tempfile.mkdtemp(prefix="mrg-bench-stream-"))
    try:
        with launcher.start("sagemaker", log_path=work / "sagemaker.log") as emulator:
            settings = sagemaker_settings(emulator.info)
            adapter = SageMakerAdapter("sm", settings)
            adapter.create_model(MODEL, description="stream benchmark")
            started = time.perf_counter()
            upload = ArtifactUpload(path=PATH, chunks=generate(args.size), size=args.size)
            version = adapter.create_version(MODEL, VersionSpec(description="large"), [upload]).version
            files = {f.path: f for f in adapter.list_artifacts(MODEL, version)}
            sha256 = files[PATH].sha256 or ""
            seconds = time.perf_counter() - started
            print(f"uploaded {mib(args.size)} to the SageMaker emulator's S3 in {seconds:.1f} s "
                  f"({mib(args.size / seconds)}/s), sha256 {sha256[:16]}...")
            adapter.close()
            met = report("adapter read_artifact", measure_adapter(settings, version), args.size, sha256)
            if not args.skip_gateway:
                met &= report("gateway GET .../artifacts/{path}", measure_gateway(settings, version, work),
                              args.size, sha256)
        print(f"overall: {'met' if met else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
