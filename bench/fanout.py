"""Federated search over 5 registries, each with 100 ms of injected latency.

Five real MLflow adapters reach one ``mlflow server`` through five fault-injecting proxies
(tests/catalog/faultproxy.py) that hold every request for ``--latency`` seconds. The proxies
replay the server's first answer to each search, so every registry costs its injected latency
and is independent of the others, like five registries in five clouds; without replay the
five would queue behind one shared server process (~20 ms of its CPU per search on 2 cores),
which measures that server, not the gateway. Measured in
the same run: each registry searched alone (the slowest is the baseline), the five searched
one after another (what a sequential gateway would cost), and the five through the catalog's
concurrent fan-out, and the same search answered by the catalog cache. Goal: fan-out <= 1.3x the slowest single registry (sequential is ~5x).

    python bench/fanout.py [--registries 5] [--latency 0.1] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, REPO)
from adapters.mlflow import MlflowAdapter  # noqa: E402
from gateway.catalog import CacheConfig, CatalogConfig, CatalogQuery, catalog_for  # noqa: E402
from gateway.config import GatewayConfig  # noqa: E402
from gateway.core import Gateway  # noqa: E402
from gateway.sandbox.services import Service, free_port, start_mlflow_server, wait_http  # noqa: E402
from tests.catalog.faultproxy import Fault, FaultProxy  # noqa: E402


def start_mlflow(data_dir: Path, workers: int) -> Service:
    """A real ``mlflow server`` with one worker per registry, so the registries do not queue
    behind each other in one shared backend process (independent registries, as in real life),
    and the NoDelay h11 protocol (multi-worker uvicorn otherwise adds ~40 ms per keep-alive
    request, shared/research/mlflow.md §1.3)."""
    if workers <= 1:
        return start_mlflow_server(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{data_dir / 'mlflow.db'}",
           "--artifacts-destination", str(data_dir / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers),
           "--uvicorn-opts", "--http gateway.api.nodelay:NoDelayH11Protocol"]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
           "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = data_dir / "mlflow-server.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    service = Service(name="mlflow", url=f"http://127.0.0.1:{port}", process=proc)
    try:
        wait_http(f"{service.url}/health", proc, 120, log)
    except BaseException:
        service.stop()
        raise
    return service


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_seconds(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(timed(fn) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registries", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds injected per request")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=20, help="models per registry (one page)")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="mlflow server workers (1: the registries share one server process; on 2 cores more workers only add CPU contention)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        server = stack.enter_context(start_mlflow(Path(tmp) / "mlflow", args.server_workers))
        seed = MlflowAdapter("seed", {"tracking_uri": server.url})
        for i in range(args.models):
            seed.create_model(f"model-{i:03d}", tags={"team": "risk"})
        names = [f"r{i}" for i in range(args.registries)]
        adapters = {
            name: MlflowAdapter(name, {"tracking_uri": stack.enter_context(
                FaultProxy(server.url, Fault("delay", delay=args.latency, replay=True))).url})
            for name in names
        }
        gateway = Gateway(GatewayConfig(data_dir=str(Path(tmp) / "gw")), adapters=adapters)  # type: ignore[arg-type]
        catalog = catalog_for(gateway, CatalogConfig(deadline_seconds=30))

        def search(registries: tuple[str, ...]) -> None:
            page = catalog.search_models(CatalogQuery(registries=registries), limit=1000)
            assert not page.failures and len(page.items) == args.models * len(registries), page.failures

        for name in names:  # warm-up: adapters built, connections open
            search((name,))
        # Interleaved rounds, so noise from other work on the machine hits every variant alike.
        samples: dict[str, list[float]] = {"fanout": [], "sequential": [], **{n: [] for n in names}}
        for _ in range(args.runs):
            for name in names:
                samples[name].append(timed(lambda n=name: search((n,))))
            samples["fanout"].append(timed(lambda: search(tuple(names))))
            samples["sequential"].append(timed(lambda: [search((n,)) for n in names]))
        slowest = max(statistics.median(samples[n]) for n in names)
        sequential = statistics.median(samples["sequential"])
        fanout = statistics.median(samples["fanout"])
        gateway.close()

        # The same search answered by the catalog cache (a second gateway, same registries).
        cached_gateway = Gateway(GatewayConfig(data_dir=str(Path(tmp) / "gw-cached")),
                                 adapters=adapters)  # type: ignore[arg-type]
        cached = catalog_for(cached_gateway, CatalogConfig(cache=CacheConfig(enabled=True, refresh_seconds=3600)))
        assert cached.refresh() == []

        def cached_search() -> None:
            page = cached.search_models(CatalogQuery(registries=tuple(names)), limit=1000)
            assert page.cached_at is not None and len(page.items) == args.models * len(names)

        from_cache = median_seconds(cached_search, args.runs)
        cached_gateway.close()

    print(f"fan-out over {args.registries} registries, {args.latency * 1000:.0f} ms injected latency each, "
          f"{args.models} models per registry, median of {args.runs} runs, "
          f"mlflow server workers: {args.server_workers}")
    print(f"  slowest single registry (baseline): {slowest * 1000:7.1f} ms")
    print(f"  sequential, one after another:      {sequential * 1000:7.1f} ms  ({sequential / slowest:.2f}x baseline)")
    print(f"  concurrent fan-out (the catalog):   {fanout * 1000:7.1f} ms  ({fanout / slowest:.2f}x baseline, goal <= 1.3x)")
    print(f"  catalog cache (SQLite store):       {from_cache * 1000:7.1f} ms  ({from_cache / slowest:.2f}x baseline)")


if __name__ == "__main__":
    main()
