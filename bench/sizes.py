"""Sizes on the command line of the benchmarks: ``2GiB``, ``256MiB``, ``1000``."""

from __future__ import annotations

import argparse
import re

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_size(text: str) -> int:
    """``1GiB``, ``256MiB``, ``1.5GiB``, ``1000`` -> bytes (binary and decimal units)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1MiB, 512KiB, 2GiB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"
