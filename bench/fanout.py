"""Federated search over 5 registries, each with 100 ms of injected latency.

Five real MLflow adapters reach one ``mlflow server`` through five fault-injecting proxies
(tests/catalog/faultproxy.py) that hold every request for ``--latency`` seconds. Measured in
the same run: each registry searched alone (the slowest is the baseline), the five searched
one after another (what a sequential gateway would cost), and the five through the catalog's
concurrent fan-out. Goal: fan-out <= 1.3x the slowest single registry (sequential is ~5x).

    python bench/fanout.py [--registries 5] [--latency 0.1] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
from adapters.mlflow import MlflowAdapter  # noqa: E402
from gateway.catalog import CatalogConfig, CatalogQuery, catalog_for  # noqa: E402
from gateway.config import GatewayConfig  # noqa: E402
from gateway.core import Gateway  # noqa: E402
from gateway.sandbox.services import start_mlflow_server  # noqa: E402
from tests.catalog.faultproxy import Fault, FaultProxy  # noqa: E402


def median_seconds(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registries", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds injected per request")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=20, help="models per registry (one page)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        server = stack.enter_context(start_mlflow_server(Path(tmp) / "mlflow"))
        seed = MlflowAdapter("seed", {"tracking_uri": server.url})
        for i in range(args.models):
            seed.create_model(f"model-{i:03d}", tags={"team": "risk"})
        names = [f"r{i}" for i in range(args.registries)]
        adapters = {
            name: MlflowAdapter(name, {"tracking_uri": stack.enter_context(
                FaultProxy(server.url, Fault("delay", delay=args.latency))).url})
            for name in names
        }
        gateway = Gateway(GatewayConfig(data_dir=str(Path(tmp) / "gw")), adapters=adapters)  # type: ignore[arg-type]
        catalog = catalog_for(gateway, CatalogConfig(deadline_seconds=30))

        def search(registries: tuple[str, ...]) -> None:
            page = catalog.search_models(CatalogQuery(registries=registries), limit=1000)
            assert not page.failures and len(page.items) == args.models * len(registries), page.failures

        for name in names:  # warm-up: adapters built, connections open
            search((name,))
        singles = {name: median_seconds(lambda n=name: search((n,)), args.runs) for name in names}
        slowest = max(singles.values())
        sequential = median_seconds(lambda: [search((n,)) for n in names], max(3, args.runs // 3))
        fanout = median_seconds(lambda: search(tuple(names)), args.runs)
        gateway.close()

    print(f"fan-out over {args.registries} registries, {args.latency * 1000:.0f} ms injected latency each, "
          f"{args.models} models per registry, median of {args.runs} runs")
    print(f"  slowest single registry (baseline): {slowest * 1000:7.1f} ms")
    print(f"  sequential, one after another:      {sequential * 1000:7.1f} ms  ({sequential / slowest:.2f}x baseline)")
    print(f"  concurrent fan-out (the catalog):   {fanout * 1000:7.1f} ms  ({fanout / slowest:.2f}x baseline, goal <= 1.3x)")


if __name__ == "__main__":
    main()
