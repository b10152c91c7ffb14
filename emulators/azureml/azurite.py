"""Find, install and run Azurite (Microsoft's storage emulator, from npm) for artifact bytes.

Blob storage is the one part of Azure this project does not re-implement: Azurite is Microsoft's
own emulator, so the azure-storage-blob traffic azure-ai-ml sends meets Microsoft's behaviour.
``python -m emulators.azureml.azurite --install`` installs it into the project-local cache
(``.cache/azurite``) for README/CI use; :func:`find_or_install` does the same on demand.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

AZURITE_PACKAGE = "azurite@3.35.0"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The well-known development account every Azurite accepts; real workspaces get their own
# account, the emulator names this one in its datastore.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (https?)://([^:\s]+):(\d+)")


class AzuriteError(RuntimeError):
    """Azurite could not be found, installed or started."""


def cache_dir() -> Path:
    """Where the project keeps its own Azurite; ``MRG_AZURITE_DIR`` overrides it."""
    return Path(os.environ.get("MRG_AZURITE_DIR") or PROJECT_ROOT / ".cache" / "azurite")


def find() -> Path | None:
    """The ``azurite-blob`` executable: ``MRG_AZURITE_BIN``, the project cache, then ``PATH``."""
    explicit = os.environ.get("MRG_AZURITE_BIN")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    local = cache_dir() / "node_modules" / ".bin" / "azurite-blob"
    if local.is_file():
        return local
    found = shutil.which("azurite-blob")
    return Path(found) if found else None


def _prepare_cache() -> Path:
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    # The cache is generated content: keep it out of git without touching the project's .gitignore.
    (target / ".gitignore").write_text("*\n", encoding="utf-8")
    return target


def install(quiet: bool = False) -> Path:
    """``npm install`` Azurite into :func:`cache_dir` and return its ``azurite-blob``."""
    npm = shutil.which("npm")
    if npm is None:
        raise AzuriteError("npm is not on PATH: install Node.js 18+ (with npm) to get Azurite")
    target = _prepare_cache()
    cmd = [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error", AZURITE_PACKAGE]
    result = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip()[-2000:] if quiet else ""
        raise AzuriteError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}. {detail}")
    binary = target / "node_modules" / ".bin" / "azurite-blob"
    if not binary.is_file():
        raise AzuriteError(f"npm finished but {binary} does not exist")
    return binary


def find_or_install() -> Path:
    """Prefer an existing Azurite; install into the project cache only when there is none.

    Emulators started in parallel (pytest-xdist, the sandbox) must not run two ``npm install``
    into one prefix at once, so the check-and-install runs under an exclusive file lock.
    """
    found = find()
    if found:
        return found
    _prepare_cache()
    with (cache_dir() / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return find() or install(quiet=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM Azurite if the emulator dies without cleaning up (e.g. SIGKILL)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class AzuriteProcess:
    """A running ``azurite-blob``; :meth:`stop` ends it."""

    process: subprocess.Popen[str]
    scheme: str
    host: str
    port: int

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def _pump(stream: IO[str], sink: IO[str]) -> None:
    for line in stream:
        sink.write(f"[azurite] {line}")
        sink.flush()


def start(
    *,
    location: Path,
    in_memory: bool,
    cert: Path,
    key: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    binary: Path | None = None,
    timeout: float = 60.0,
    debug_log: Path | None = None,
) -> AzuriteProcess:
    """Start the blob service over HTTPS and wait until it listens; its output goes to stderr."""
    binary = binary or find_or_install()
    location.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(binary), "--blobHost", host, "--blobPort", str(port),
        "--cert", str(cert), "--key", str(key), "--disableTelemetry",
        # azure-storage-blob may speak a newer x-ms-version than this Azurite release knows.
        "--skipApiVersionCheck", "--loose", "--silent",
    ]
    # Azurite refuses --location together with --inMemoryPersistence; ``location`` is then only its cwd.
    cmd += ["--inMemoryPersistence", "--extentMemoryLimit", "512"] if in_memory else ["--location", str(location)]
    if debug_log is not None:
        cmd += ["--debug", str(debug_log)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, cwd=location,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=5)
            raise AzuriteError(f"Azurite exited with code {proc.returncode}: {''.join(seen)[-2000:]}")
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            threading.Thread(target=_pump, args=(proc.stdout, sys.stderr), daemon=True).start()
            return AzuriteProcess(proc, match.group(1), match.group(2), int(match.group(3)))
    proc.kill()
    raise AzuriteError(f"Azurite did not start listening within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators.azureml.azurite", description=__doc__)
    parser.add_argument("--install", action="store_true", help="install Azurite into the project cache if missing")
    parser.add_argument("--force", action="store_true", help="with --install: reinstall even if one is found")
    args = parser.parse_args(argv)
    binary: Path | None
    if args.install:
        binary = install() if args.force else (find() or install())
    else:
        binary = find()
        if binary is None:
            print("Azurite not found; run: python -m emulators.azureml.azurite --install", file=sys.stderr)
            return 1
    print(binary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
