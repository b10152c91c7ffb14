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

With both servers on this machine the copy is CPU-bound (three busy processes on two cores),
which is not where registries live. ``--rtt-ms N`` puts a delay proxy in front of each server
(N/2 ms each way, once per request and once per response, as a network round trip would), so
the same comparison runs in the latency-bound regime of registries reached over a network.

    .venv/bin/python bench/migration_mlflow.py [--versions 100] [--size 1MiB] [--workers 4] [--runs 1] [--rtt-ms 0]
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100, help="versions in the source model (default 100)")
    parser.add_argument("--size", type=parse_size, default=parse_size("1MiB"), help="artifact size per version (1MiB)")
    parser.add_argument("--workers", type=int, default=4, help="migrator staging workers (default 4)")
    parser.add_argument("--server-workers", type=int, default=4,
                        help="worker processes of each mlflow server (default 4, MLflow's own default)")
    parser.add_argument("--runs", type=int, default=1, help="repeat both copies, report medians (default 1)")
    parser.add_argument("--one-server", action="store_true",
                        help="source and target models on one server (smoke tests: half the start-up)")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="simulated network round trip to each server, in ms (default 0: plain loopback)")
    args = parser.parse_args(argv)
    # Keep the output to the measurement: no run URLs, progress bars or per-version INFO lines.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # noqa: F401 - configures its loggers on import; quieten them after that

    logging.getLogger("mlflow").setLevel(logging.WARNING)

    root = Path(tempfile.mkdtemp(prefix="mrg-bench-mlflow-"))
    services: list[Service] = []
    proxies: list[DelayProxy] = []
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:  # each takes seconds to import mlflow and migrate its DB
            services += pool.map(lambda d: start_mlflow_server(d, workers=args.server_workers),
                                 [root / "src"] if args.one_server else [root / "src", root / "dst"])
        src_url, dst_url = services[0].url, services[-1].url
        print(f"{len(services)} mlflow server(s) up in {time.perf_counter() - started:.1f} s ({src_url}, {dst_url})")
        started = time.perf_counter()
        seed(src_url, args.versions, args.size, root)
        print(f"seeded {args.versions} versions x {human(args.size)} in {time.perf_counter() - started:.1f} s")
        if args.rtt_ms > 0:
            proxies = [DelayProxy(int(url.rsplit(":", 1)[1]), args.rtt_ms / 1000) for url in (src_url, dst_url)]
            src_url, dst_url = proxies[0].url, proxies[1].url
            print(f"copies go through delay proxies: {args.rtt_ms:g} ms round trip to each server")
        labels = ["server"] if args.one_server else ["source server", "target server"]
        labels.append("copier process" + (" (incl. delay proxies)" if proxies else ""))
        cpu: dict[str, list[list[float]]] = {"naive": [], "mrg": []}

        naive: list[float] = []
        ours: list[float] = []
        for run in range(args.runs):
            # Alternate the order so neither copy always meets the warmer (or fuller) target.
            order = ("naive", "mrg") if run % 2 == 0 else ("mrg", "naive")
            for which in order:
                target = f"{which}-copy-{run}"
                if which == "naive":
                    before = cpu_seconds(services)
                    seconds, _ = timed(lambda t=target: naive_copy(src_url, dst_url, t, root))
                    naive.append(seconds)
                else:
                    gw = gateway(src_url, dst_url, root / f"gw-{run}")
                    try:
                        before = cpu_seconds(services)
                        seconds, report = timed(lambda g=gw, t=target: migrator_copy(g, t, args.workers))
                    finally:
                        gw.close()
                    if report["state"] != "succeeded":
                        raise SystemExit(f"migration failed: {report['failures'][:3]}")
                    ours.append(seconds)
                after = cpu_seconds(services)
                if before is not None and after is not None:
                    cpu[which].append([b - a for a, b in zip(before, after, strict=True)])
                check_copy(dst_url, target, args.versions)
                print(f"run {run + 1}: {which:5s} {seconds:6.2f} s")

        b, m = statistics.median(naive), statistics.median(ours)
        total = args.versions * args.size
        ratio = b / m
        where = f", {args.rtt_ms:g} ms RTT" if args.rtt_ms > 0 else ", loopback"
        print(f"naive sequential MlflowClient copy (baseline): {b:.2f} s for {args.versions} versions x "
              f"{human(args.size)}{where} ({total / b / 2**20:.1f} MiB/s, median of {args.runs})")
        print(f"mrg migrator ({args.workers} workers): {m:.2f} s ({total / m / 2**20:.1f} MiB/s, median of {args.runs})")
        for which, name in (("naive", "naive"), ("mrg", "migrator")):
            if cpu[which]:
                parts = [statistics.median(sample[i] for sample in cpu[which]) for i in range(len(labels))]
                print(f"CPU seconds, {name}: " + ", ".join(f"{label} {v:.1f}" for label, v in zip(labels, parts, strict=True))
                      + f" (total {sum(parts):.1f} on {os.cpu_count()} cores)")
        print(f"ratio baseline/migrator: {ratio:.2f}x; goal: >= {GOAL:.0f}x faster -> {'met' if ratio >= GOAL else 'NOT met'}")
    finally:
        for proxy in proxies:
            proxy.close()
        for service in services:
            service.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
