"""A JSON-lines record of every request the emulator served: the SDK's wire calls, auditable.

Tests read it to prove what an SDK actually sent (e.g. that ``jobName`` reached the wire), which is
the only way to tell "the client dropped it" from "the server ignored it".
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record(path: Path | None, entry: dict[str, Any]) -> None:
    if path is None:
        return
    entry = {"t": round(time.time(), 6), **entry}
    line = json.dumps(entry, separators=(",", ":"), default=str)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
