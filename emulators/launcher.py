"""Start an emulator as a subprocess and learn where it listens.

Subprocesses rather than threads: each emulator is what a user runs, so tests and the sandbox
exercise exactly that, and a crash or a blocking call in one never stalls the caller.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EmulatorStartError(RuntimeError):
    """The emulator exited or stayed silent before announcing its endpoint."""


@dataclass
class RunningEmulator:
    name: str
    process: subprocess.Popen[str]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return str(self.info["endpoint"])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    name: str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    data_dir: str | Path | None = None,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    log_path: str | Path | None = None,
) -> RunningEmulator:
    """Run ``python -m emulators.<name>`` and wait for its one-line JSON announcement."""
    cmd = [sys.executable, "-m", f"emulators.{name}", "--port", str(port), "--host", host]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    cmd += extra_args or []
    stderr: Any = subprocess.DEVNULL
    if log_path is not None:
        stderr = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - owned by the child
    child_env = {**os.environ, **(env or {})}
    root = str(Path(__file__).resolve().parent.parent)
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True, env=child_env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            raise EmulatorStartError(f"emulator {name!r} did not announce its endpoint within {timeout:.0f}s")
        ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 0.5))
        if not ready:
            if proc.poll() is not None:
                raise EmulatorStartError(f"emulator {name!r} exited with code {proc.returncode} before starting")
            continue
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=5)
            raise EmulatorStartError(f"emulator {name!r} exited with code {proc.returncode} before starting")
        line = line.strip()
        if line.startswith("{"):
            try:
                info = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "endpoint" in info:
                # Keep draining stdout so a chatty child never blocks on a full pipe.
                threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
                return RunningEmulator(name=name, process=proc, info=info)


def _drain(stream: Any) -> None:
    for _ in stream:
        pass
