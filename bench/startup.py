"""How long until ``mrg serve`` answers /healthz, with every backend extra installed.

Start-up must stay lazy: the cloud SDKs take seconds to import and are loaded on first use.
Prints the time to /healthz for the embedded default against the baseline of a bare
``python -c 'import fastapi, uvicorn'`` measured in the same run (machines here are noisy).

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
from gateway.sandbox.services import free_port  # noqa: E402


def time_serve() -> float:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)], cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    time.sleep(0.02)
                if time.perf_counter() - started > 60:
                    raise RuntimeError("no /healthz within 60 s")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def time_import(modules: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {modules}"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    baseline = [time_import("fastapi, uvicorn") for _ in range(args.runs)]
    sdks = [time_import("mlflow, boto3, google.cloud.aiplatform, azure.ai.ml, huggingface_hub") for _ in range(2)]
    serve = [time_serve() for _ in range(args.runs)]
    b, s, k = statistics.median(baseline), statistics.median(serve), statistics.median(sdks)
    print(f"import fastapi+uvicorn (baseline): {b:.2f} s")
    print(f"import every cloud SDK (what lazy start-up avoids): {k:.2f} s")
    print(f"mrg serve -> /healthz: median {s:.2f} s over {args.runs} runs (max {max(serve):.2f} s)")
    print(f"ratio serve/baseline: {s / b:.2f}x; goal: under 2 s -> {'met' if s < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
