"""Vertex AI through the project's emulator (Model Registry + ML Metadata over REST, GCS beside it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.vertex import VertexAdapter, VertexSettings
from emulators import launcher
from tests.conformance.harness import Backend


@contextmanager
def emulator(tmp: Path) -> Iterator[VertexAdapter]:
    with launcher.start("vertex", log_path=tmp / "vertex.log") as emu:
        settings = VertexSettings.from_emulator(emu.info, bucket="mrg-conformance")
        adapter = VertexAdapter("vertex-emulator", settings.model_dump())
        yield adapter
        adapter.close()


BACKENDS = [
    # No ledger entries: every test of the suite passes against the emulator.
    Backend(id="vertex-emulator", start=emulator, ledger={}),
]
