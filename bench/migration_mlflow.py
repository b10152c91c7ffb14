"""MLflow -> MLflow migration: the gateway's migrator against a naive sequential copy.

The goal (DESIGN.md, "Migration jobs"): copying a registry is at least 3x faster than what a
team writes by hand with plain ``MlflowClient`` -- download each version's artifact to a temp
directory, create a run on the target, upload, register, one version after another (which is
also what mlflow-export-import does per model). Both copies run in the same process, against
the same two real ``mlflow server --serve-artifacts`` subprocesses, in the same run, so the
ratio holds on a noisy shared machine even when the absolute seconds do not.

The source is seeded the way MLflow users fill a registry (a run per version with metrics,
params and ``model/model.bin``, registered from ``runs:/<id>/model``, an alias on the last
version); both copies carry the same things: run metrics and params, the artifact bytes,
version description and tags, and the alias.

Where the registries are decides what limits a copy, so the comparison runs in four regimes
(``--regimes``, default all):

- ``loopback``: one-worker servers on this machine. Both servers and the copier share the cores:
  CPU-bound. The naive copy keeps about one core busy, so a parallel copy gains at most
  cores x (naive CPU / its own CPU); on 2 cores this is the hardest case.
- ``lan`` / ``wan``: the same servers behind a delay proxy adding 2 / 20 ms per round trip
  (N/2 ms each time a connection's traffic changes direction), the latency-bound case of
  registries reached over a network.
- ``stock``: ``mlflow server`` as shipped (4 workers) on this machine. Its uvicorn leaves
  TCP_NODELAY off in multi-worker mode (Kludex/uvicorn#3149), so every keep-alive request
  waits about 40 ms for a delayed ACK -- for both copies; the report says so.

    .venv/bin/python bench/migration_mlflow.py [--versions 100] [--size 1MiB] [--workers 4] [--runs 1]
                                               [--regimes loopback,lan,wan,stock] [--one-server]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
from sizes import parse_size  # noqa: E402

from gateway.sandbox.services import Service, start_mlflow_server  # noqa: E402

MODEL = "bench-model"
GOAL = 3.0
def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class DelayProxy:
    """A loopback TCP proxy that adds ``rtt/2`` each time a connection's traffic changes direction.

    An HTTP exchange on a kept-alive connection is one request then one response, so each costs
    one round trip, however many segments a body takes: a network's latency, not its bandwidth."""

    def __init__(self, target_port: int, rtt: float) -> None:
        self.target_port, self.delay = target_port, rtt / 2
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.server.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target_port))
            for sock in (down, up):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = {"last": ""}
            threading.Thread(target=self._pump, args=(down, up, "up", state), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, "down", state), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str, state: dict[str, str]) -> None:
        try:
            while data := src.recv(1 << 16):
                if state["last"] != direction:
                    state["last"] = direction
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):  # either side closing ends the exchange both ways
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self.server.close()


def client(url: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url)


def seed(url: str, versions: int, size: int, scratch: Path) -> None:
    """Fill the source like an MLflow user would: one run per version, registered in order.

    Runs and uploads go in parallel (seeding is not what is measured); registration is
    sequential so version numbers follow creation order."""
    from mlflow.entities import Metric, Param

    src = client(url)
    experiment = src.create_experiment("bench-training")
    src.create_registered_model(MODEL, tags={"team": "risk"}, description="fraud scorer")

    def make_run(i: int) -> str:
        run = src.create_run(experiment, tags={"mlflow.runName": f"train-{i}"})
        now = int(time.time() * 1000)
        src.log_batch(run.info.run_id, metrics=[Metric("auc", 0.8 + i / 10_000, now, 0), Metric("loss", 1 / (i + 1), now, 0)],
                      params=[Param("lr", str(0.001 * (i + 1))), Param("epochs", "10")])
        folder = scratch / f"seed-{i}" / "model"
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(os.urandom(size))
        src.log_artifacts(run.info.run_id, str(folder), "model")
        shutil.rmtree(folder.parent)
        src.set_terminated(run.info.run_id)
        return str(run.info.run_id)

    with ThreadPoolExecutor(4) as pool:
        run_ids = list(pool.map(make_run, range(versions)))
    for i, run_id in enumerate(run_ids):
        src.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id, tags={"build": str(i)},
                                 description=f"version built by run {i}")
    src.set_registered_model_alias(MODEL, "champion", str(versions))


def naive_copy(src_url: str, dst_url: str, target: str, scratch: Path) -> int:
    """The hand-written copy: per version, in order, download to a temp dir, create a run,
    upload, register. Returns the number of versions created."""
    from mlflow.entities import Metric, Param

    src, dst = client(src_url), client(dst_url)
    experiment = dst.get_experiment_by_name("naive-copy")
    experiment_id = experiment.experiment_id if experiment else dst.create_experiment("naive-copy")
    model = src.get_registered_model(MODEL)
    dst.create_registered_model(target, tags=model.tags, description=model.description)
    versions = sorted(src.search_model_versions(f"name = '{MODEL}'", max_results=10_000), key=lambda v: int(v.version))
    mapping: dict[str, str] = {}
    for mv in versions:
        run = src.get_run(mv.run_id)
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            local = src.download_artifacts(mv.run_id, "model", tmp)
            new = dst.create_run(experiment_id, tags={"mlflow.runName": f"copy-of-{mv.run_id}"})
            now = int(time.time() * 1000)
            # Latest values only, as the migrator carries them (full history would slow the baseline).
            dst.log_batch(new.info.run_id, metrics=[Metric(k, v, now, 0) for k, v in run.data.metrics.items()],
                          params=[Param(k, v) for k, v in run.data.params.items()])
            dst.log_artifacts(new.info.run_id, local, "model")
            dst.set_terminated(new.info.run_id)
        created = dst.create_model_version(target, f"runs:/{new.info.run_id}/model", run_id=new.info.run_id,
                                           tags=mv.tags, description=mv.description)
        mapping[mv.version] = created.version
    for alias, version in model.aliases.items():
        dst.set_registered_model_alias(target, alias, mapping[str(version)])
    return len(mapping)


def gateway(src_url: str, dst_url: str, store_dir: Path) -> Any:
    """A Gateway holding both registries, its store created (``mrg`` keeps one between jobs)."""
    from adapters.mlflow import MlflowAdapter
    from gateway.config import GatewayConfig
    from gateway.core import Gateway

    adapters = {"src": MlflowAdapter("src", {"tracking_uri": src_url}),
                "dst": MlflowAdapter("dst", {"tracking_uri": dst_url})}
    gw = Gateway(GatewayConfig(data_dir=str(store_dir)), adapters=adapters)
    _ = gw.store
    return gw


def migrator_copy(gw: Any, target: str, workers: int) -> dict[str, Any]:
    """Plan, journal and run one job with the gateway's migrator; returns its report."""
    from gateway.migration.runner import Migrator

    migrator = Migrator(gw, workers=workers)
    plan = migrator.plan(f"src/{MODEL}", "dst", rename=target)
    return migrator.run(migrator.create_job(plan, actor="bench"))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def cpu_seconds(services: list[Service]) -> list[float] | None:
    """CPU seconds so far of each server (with its worker processes) and of this process.

    Shows where a copy's time goes when the machine, not the network, is the limit. Needs
    psutil (installed with the test extras); without it the breakdown is skipped."""
    try:
        import psutil
    except ImportError:
        return None
    out = []
    for service in services:
        root = psutil.Process(service.process.pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        out.append(total)
    own = psutil.Process().cpu_times()
    return [*out, own.user + own.system]


def check_copy(dst_url: str, target: str, versions: int) -> None:
    """Both copies must be complete: every version and the alias (bytes are checked by the migrator)."""
    dst = client(dst_url)
    copies = dst.search_model_versions(f"name = '{target}'", max_results=10_000)
    if len(copies) != versions:
        raise SystemExit(f"{target}: {len(copies)} versions on the target, {versions} expected")
    alias = dst.get_registered_model(target).aliases.get("champion")
    if alias is None:
        raise SystemExit(f"{target}: alias 'champion' was not copied")


@dataclass(frozen=True)
class Regime:
    """Where the two registries are, as seen from the copier."""

    name: str
    server_workers: int
    rtt_ms: float
    about: str


REGIMES = {
    "loopback": Regime("loopback", 1, 0.0, "one-worker servers on this machine: CPU-bound, 3 processes on the cores"),
    "lan": Regime("lan", 1, 2.0, "one-worker servers 2 ms away (same region)"),
    "wan": Regime("wan", 1, 20.0, "one-worker servers 20 ms away (across regions)"),
    "stock": Regime("stock", 4, 0.0, "`mlflow server` as shipped (4 workers) on this machine"),
}


def run_regime(regime: Regime, urls: tuple[str, str], services: list[Service], args: argparse.Namespace,
               root: Path) -> dict[str, Any]:
    """Both copies, ``args.runs`` times each (alternating which goes first); medians and CPU split."""
    proxies = [DelayProxy(int(url.rsplit(":", 1)[1]), regime.rtt_ms / 1000) for url in urls] if regime.rtt_ms else []
    src_url, dst_url = (proxies[0].url, proxies[1].url) if proxies else urls
    cpu: dict[str, list[list[float]]] = {"naive": [], "mrg": []}
    times: dict[str, list[float]] = {"naive": [], "mrg": []}
    try:
        for run in range(args.runs):
            for which in (("naive", "mrg") if run % 2 == 0 else ("mrg", "naive")):
                target = f"{regime.name}-{which}-copy-{run}"
                before = cpu_seconds(services)
                if which == "naive":
                    seconds, _ = timed(lambda t=target: naive_copy(src_url, dst_url, t, root))
                else:
                    gw = gateway(src_url, dst_url, root / f"gw-{regime.name}-{run}")
                    try:
                        before = cpu_seconds(services)
                        seconds, report = timed(lambda g=gw, t=target: migrator_copy(g, t, args.workers))
                    finally:
                        gw.close()
                    if report["state"] != "succeeded":
                        raise SystemExit(f"migration failed: {report['failures'][:3]}")
                after = cpu_seconds(services)
                if before is not None and after is not None:
                    cpu[which].append([b - a for a, b in zip(before, after, strict=True)])
                times[which].append(seconds)
                check_copy(urls[1], target, args.versions)
                print(f"  {regime.name} run {run + 1}: {which:5s} {seconds:6.2f} s")
    finally:
        for proxy in proxies:
            proxy.close()
    return {"naive": statistics.median(times["naive"]), "mrg": statistics.median(times["mrg"]), "cpu": cpu}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100, help="versions in the source model (default 100)")
    parser.add_argument("--size", type=parse_size, default=parse_size("1MiB"), help="artifact size per version (1MiB)")
    parser.add_argument("--workers", type=int, default=4, help="migrator staging workers (default 4)")
    parser.add_argument("--runs", type=int, default=1, help="repeat both copies per regime, report medians (default 1)")
    parser.add_argument("--regimes", default=",".join(REGIMES),
                        help=f"comma-separated, from {', '.join(REGIMES)} (default: all)")
    parser.add_argument("--one-server", action="store_true",
                        help="source and target models on one server (smoke tests: half the start-up)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.regimes.split(",") if n.strip()]
    unknown = [n for n in names if n not in REGIMES]
    if unknown or not names:
        parser.error(f"--regimes: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(REGIMES)}")
    # Keep the output to the measurement: no run URLs, progress bars or per-version INFO lines.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # noqa: F401 - configures its loggers on import; quieten them after that

    logging.getLogger("mlflow").setLevel(logging.WARNING)

    root = Path(tempfile.mkdtemp(prefix="mrg-bench-mlflow-"))
    results: dict[str, dict[str, Any]] = {}
    labels = ["server"] if args.one_server else ["source server", "target server"]
    labels.append("copier process")
    try:
        for workers in sorted({REGIMES[n].server_workers for n in names}):
            services: list[Service] = []
            try:
                started = time.perf_counter()
                dirs = [root / f"w{workers}-src"] if args.one_server else [root / f"w{workers}-src", root / f"w{workers}-dst"]
                with ThreadPoolExecutor(2) as pool:  # each takes seconds to import mlflow and migrate its DB
                    services += pool.map(lambda d, w=workers: start_mlflow_server(d, workers=w), dirs)
                urls = (services[0].url, services[-1].url)
                print(f"{len(services)} mlflow server(s) with {workers} worker(s) up in "
                      f"{time.perf_counter() - started:.1f} s")
                started = time.perf_counter()
                seed(urls[0], args.versions, args.size, root)
                print(f"seeded {args.versions} versions x {human(args.size)} in {time.perf_counter() - started:.1f} s")
                for name in (n for n in names if REGIMES[n].server_workers == workers):
                    print(f"{name}: {REGIMES[name].about}")
                    results[name] = run_regime(REGIMES[name], urls, services, args, root)
            finally:
                for service in services:
                    service.stop()
        report(results, labels, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(results: dict[str, dict[str, Any]], labels: list[str], args: argparse.Namespace) -> None:
    total = args.versions * args.size
    print(f"\n{args.versions} versions x {human(args.size)}, migrator with {args.workers} workers, "
          f"median of {args.runs} run(s) per regime")
    for name, r in results.items():
        regime = REGIMES[name]
        ratio = r["naive"] / r["mrg"]
        print(f"[{name}] naive sequential MlflowClient copy (baseline): {r['naive']:.2f} s "
              f"({total / r['naive'] / 2**20:.1f} MiB/s); mrg migrator: {r['mrg']:.2f} s "
              f"({total / r['mrg'] / 2**20:.1f} MiB/s)")
        for which, label in (("naive", "naive"), ("mrg", "migrator")):
            if r["cpu"][which]:
                parts = [statistics.median(sample[i] for sample in r["cpu"][which]) for i in range(len(labels))]
                named = [*labels[:-1], labels[-1] + (" (incl. delay proxies)" if regime.rtt_ms else "")]
                print(f"[{name}] CPU seconds, {label}: " + ", ".join(
                    f"{lab} {v:.1f}" for lab, v in zip(named, parts, strict=True))
                    + f" (total {sum(parts):.1f} on {os.cpu_count()} cores)")
        if regime.server_workers > 1:
            print(f"[{name}] note: uvicorn's multi-worker mode leaves TCP_NODELAY off on Linux (Kludex/uvicorn#3149), "
                  "so each keep-alive request waits ~40 ms for a delayed ACK, for both copies")
        print(f"[{name}] ratio baseline/migrator: {ratio:.2f}x; goal: >= {GOAL:.0f}x faster -> "
              f"{'met' if ratio >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
