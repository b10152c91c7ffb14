"""Azure ML through the project's emulator (ARM workspace + registry data plane) and Azurite,
in both MLClient forms: a workspace and a registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.azureml import AzureMLAdapter, AzureMLSettings
from emulators import launcher
from tests.conformance.harness import Backend


def emulator_settings(info: dict[str, Any], *, registry: bool = False) -> dict[str, Any]:
    """Adapter settings for a running emulator (its announcement line)."""
    return AzureMLSettings.from_emulator(info, registry=registry).model_dump(exclude_none=True)


@contextmanager
def _emulated(tmp: Path, adapter_name: str, registry: bool) -> Iterator[AzureMLAdapter]:
    with launcher.start("azureml", log_path=tmp / "azureml-emulator.log", timeout=120) as running:
        adapter = AzureMLAdapter(adapter_name, emulator_settings(running.info, registry=registry))
        yield adapter
        adapter.close()


@contextmanager
def workspace(tmp: Path) -> Iterator[AzureMLAdapter]:
    with _emulated(tmp, "azureml-workspace", registry=False) as adapter:
        yield adapter


@contextmanager
def registry(tmp: Path) -> Iterator[AzureMLAdapter]:
    with _emulated(tmp, "azureml-registry", registry=True) as adapter:
        yield adapter


BACKENDS = [
    Backend(id="azureml-emulator-workspace", start=workspace),
    Backend(id="azureml-emulator-registry", start=registry),
]
