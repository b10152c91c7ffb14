"""Start and stop the local services the sandbox and the tests run against.

Each service is a subprocess on a free loopback port, started with the settings measured to
matter (shared/research): MLflow with one worker and the job runner off (4 s instead of 15 s
to ready, 490 MB instead of 3 GB), so a laptop runs every backend at once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServiceStartError(RuntimeError):
    pass


class PortTaken(ServiceStartError):
    """The child exited before answering: most often another process took the port first."""


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path | None = None) -> None:
    """Wait for a 200 from OUR child: a port grabbed by another server must not pass for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise PortTaken(f"{url}: process exited with code {process.returncode}\n{tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                time.sleep(0.1)
                if process.poll() is None:  # still ours: a failed bind would have ended it
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ServiceStartError(f"{url} did not answer within {timeout:.0f}s")


def _with_free_port(start: Callable[[int], Service], port: int | None, host: str, attempts: int = 3) -> Service:
    """Free ports are only free until someone binds them: retry on a fresh one when we lose the race."""
    for attempt in range(attempts):
        try:
            return start(port or free_port(host))
        except PortTaken:
            if port is not None or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def start_mlflow_server(
    data_dir: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    backend_store_uri: str | None = None,
    timeout: float = 90.0,
    workers: int = 1,
) -> Service:
    """A real ``mlflow server`` with ``--serve-artifacts`` over a SQLite (or given) store.

    One worker process by default (the sandbox and tests keep memory low); MLflow's own default
    is four, which ``bench/`` uses to measure against a stock server."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return _with_free_port(lambda p: _start_mlflow(data_dir, p, host, backend_store_uri, timeout, workers), port, host)


def _start_mlflow(data_dir: Path, port: int, host: str, backend_store_uri: str | None, timeout: float,
                  workers: int) -> Service:
    store = backend_store_uri or f"sqlite:///{(data_dir / 'mlflow.db').resolve()}"
    log = data_dir / "mlflow-server.log"
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", store,
        "--artifacts-destination", str((data_dir / "artifacts").resolve()),
        "--serve-artifacts",
        "--host", host, "--port", str(port),
        "--workers", str(workers),
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    url = f"http://{host}:{port}"
    service = Service(name="mlflow", url=url, process=proc, info={"tracking_uri": url, "log": str(log)})
    try:
        wait_http(f"{url}/health", proc, timeout, log)
    except BaseException:
        service.stop()
        raise
    return service


def start_moto_s3(data_dir: Path, *, port: int | None = None, host: str = "127.0.0.1", timeout: float = 30.0) -> Service:
    """moto's standalone server: S3 for artifacts, the way s3fs tests against it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return _with_free_port(lambda p: _start_moto(data_dir, p, host, timeout), port, host)


def _start_moto(data_dir: Path, port: int, host: str, timeout: float) -> Service:
    log = data_dir / "moto.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    url = f"http://{host}:{port}"
    service = Service(name="s3", url=url, process=proc, info={"endpoint_url": url})
    try:
        wait_http(f"{url}/moto-api/", proc, timeout, log)
    except BaseException:
        service.stop()
        raise
    return service
