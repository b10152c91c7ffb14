"""Pieces the artifact benchmarks share: generated payloads, memory readings, emulator settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 2**20


def generate(size: int, block: bytes | None = None) -> Iterator[bytes]:
    """``size`` incompressible bytes, 1 MiB at a time (never the whole payload in memory); each
    block starts with its index, so no two are equal. ``block``: the random 1 MiB to repeat."""
    block = block if block is not None else os.urandom(BLOCK)
    sent, index = 0, 0
    while sent < size:
        chunk = (index.to_bytes(8, "big") + block[8:])[: size - sent]
        sent += len(chunk)
        index += 1
        yield chunk


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak(pid: int | str = "self") -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def sagemaker_settings(info: dict[str, Any]) -> dict[str, Any]:
    """SageMaker adapter settings for the emulator ``info`` announces (its keys are not secrets)."""
    return {
        "endpoint_url": info["endpoint"], "s3_endpoint_url": info["s3_endpoint"], "region": info["region"],
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        "bucket": "mrg-bench", "create_bucket": True, "max_attempts": 1, "read_timeout": 300,
    }
