"""How a backend joins the conformance suite: one ``Backend`` entry per variant.

Each module in ``tests/conformance/backends/`` exposes ``BACKENDS: list[Backend]``. ``start``
is a context manager that brings the backend up once per test session (an emulator
subprocess, a server, a temporary store) and yields a ready adapter; the suite does the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from adapters.base import RegistryAdapter


def default_model_name(prefix: str = "conf") -> str:
    """Lowercase letters, digits and hyphens, <= 40 chars: valid on every backend we know."""
    return f"mrg-{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Backend:
    id: str
    start: Callable[[Path], AbstractContextManager[RegistryAdapter]]
    # test function name -> reason: a known divergence; the test is expected to fail (strict),
    # so a fixed divergence shows up as XPASS and the ledger entry must be removed.
    ledger: dict[str, str] = field(default_factory=dict)
    model_name: Callable[[], str] = default_model_name
