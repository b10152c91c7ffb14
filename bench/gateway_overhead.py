"""What the gateway adds to reading one version, against MlflowClient on the same server.

One ``mlflow server`` (gateway/sandbox/services.start_mlflow_server); the gateway runs as
``mrg serve`` (uvicorn with the NoDelay h11 protocol, shared/research/mlflow.md §1.3) in its
own process. p50 over keep-alive connections, all measured in the same run:

* direct, bare: ``MlflowClient.get_model_version`` (one HTTP call);
* direct, same answer: the calls the gateway's adapter makes to build a complete common-schema
  version — the version, the model (its aliases) and the run (metrics, params, datasets);
* through the gateway: ``GET /v1/registries/{r}/models/{m}/versions/{v}`` with httpx.

Goal: gateway <= 1.3x direct for the same answer. The bare ratio is printed too, so the cost
of the extra MLflow calls (adapter) and of the gateway hop (API) can be told apart.

    python bench/gateway_overhead.py [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

REPO = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, REPO)
from gateway.sandbox.services import free_port, start_mlflow_server, wait_http  # noqa: E402


def p50_ms(fn, n: int, warmup: int = 20) -> float:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

    with tempfile.TemporaryDirectory() as tmp, start_mlflow_server(Path(tmp) / "mlflow") as server:
        from mlflow import MlflowClient

        sys.path.insert(0, REPO)
        from adapters.mlflow import MlflowAdapter
        from mapping.schema import VersionSpec

        adapter = MlflowAdapter("bench", {"tracking_uri": server.url})
        adapter.create_model("bench-model")
        version = adapter.create_version("bench-model", VersionSpec(metrics={"auc": 0.9}, params={"depth": "6"}))
        adapter.set_alias("bench-model", "champion", version.version)
        adapter.close()

        client = MlflowClient(tracking_uri=server.url)

        def bare() -> None:
            client.get_model_version("bench-model", version.version)

        def same_answer() -> None:
            mv = client.get_model_version("bench-model", version.version)
            client.get_registered_model("bench-model")
            client.get_run(mv.run_id)

        port = free_port()
        config = Path(tmp) / "mrg.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": str(Path(tmp) / "gw"), "auth": {"anonymous_role": "viewer"},
            "registries": {"bench": {"kind": "mlflow", "tracking_uri": server.url}},
        }))
        log = open(Path(tmp) / "mrg.log", "wb")  # noqa: SIM115 - closed below
        gw = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "-c", str(config), "--port", str(port)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", gw, 60, Path(tmp) / "mrg.log")
            url = f"http://127.0.0.1:{port}/v1/registries/bench/models/bench-model/versions/{version.version}"
            with httpx.Client() as http:  # one keep-alive connection

                def through_gateway() -> None:
                    response = http.get(url)
                    assert response.status_code == 200, response.text

                # Interleave rounds so machine noise hits every variant alike.
                rounds = {"bare": [], "same": [], "gateway": []}  # type: ignore[var-annotated]
                per_round = max(20, args.requests // 5)
                for _ in range(5):
                    rounds["bare"].append(p50_ms(bare, per_round, warmup=5))
                    rounds["same"].append(p50_ms(same_answer, per_round, warmup=5))
                    rounds["gateway"].append(p50_ms(through_gateway, per_round, warmup=5))
        finally:
            gw.terminate()
            gw.wait(10)
            log.close()

    bare_ms, same_ms, gateway_ms = (statistics.median(rounds[k]) for k in ("bare", "same", "gateway"))
    print(f"get-version p50 over keep-alive connections, {5 * per_round} requests each (median of 5 interleaved rounds)")
    print(f"  MlflowClient.get_model_version (1 call):          {bare_ms:6.2f} ms")
    print(f"  MlflowClient, same answer as the gateway (3 calls): {same_ms:6.2f} ms")
    print(f"  gateway GET …/versions/{{v}} (uvicorn + NoDelay):   {gateway_ms:6.2f} ms")
    print(f"  gateway / same answer: {gateway_ms / same_ms:.2f}x (goal <= 1.3x)   "
          f"gateway / bare call: {gateway_ms / bare_ms:.2f}x   added per read: {gateway_ms - same_ms:+.2f} ms")


if __name__ == "__main__":
    main()
