"""Hugging Face Hub through ``emulators/hfhub`` (the official client cannot tell it from the Hub).

No ``HF_ENDPOINT``/``HF_HUB_DISABLE_XET`` is set: the adapter must reach the emulator through its
own ``endpoint`` setting and avoid Xet for its own uploads, as it would in a user's process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.hf import HuggingFaceAdapter
from emulators import launcher
from tests.conformance.harness import Backend, default_model_name

USER = "mrg-conf"


@contextmanager
def emulator(tmp: Path) -> Iterator[HuggingFaceAdapter]:
    with launcher.start("hfhub", data_dir=tmp / "hub", extra_args=["--user", USER],
                        log_path=tmp / "hfhub.log") as hub:
        adapter = HuggingFaceAdapter("hf-emulator", {"endpoint": hub.endpoint, "token": hub.info["token"]})
        yield adapter
        adapter.close()


BACKENDS = [
    Backend(
        id="hf-emulator",
        start=emulator,
        model_name=lambda: f"{USER}/{default_model_name()}",
        ledger={},
    ),
]
