"""Start ``mrg serve`` as a user would and learn its address from its own announcement."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ANNOUNCE = re.compile(r"serving .* on (http://\S+)")


def start_serve(*args: str, cwd: Path, timeout: float = 180) -> tuple[subprocess.Popen[str], str]:
    """Run ``mrg serve --port 0 ARGS`` and return the process and its base URL once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--port", "0", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            match = _ANNOUNCE.search(line)
            if match:
                return proc, match.group(1)
        elif proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"mrg serve did not start: {''.join(seen)[-3000:]}")
