"""One Azure ML emulator (plus its Azurite) per test session; tests use unique model names."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators import launcher


class Emulator:
    """The running emulator's announcement plus REST and wire-log helpers for assertions."""

    def __init__(self, running: launcher.RunningEmulator, wire_log: Path) -> None:
        self.running = running
        self.info: dict[str, Any] = running.info
        self.wire_log = wire_log
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer test-token"

    @property
    def workspace_prefix(self) -> str:
        i = self.info
        return (
            f"{i['endpoint']}/subscriptions/{i['subscription_id']}/resourceGroups/{i['resource_group']}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{i['workspace_name']}"
        )

    @property
    def registry_prefix(self) -> str:
        i = self.info
        return (
            f"{i['endpoint']}/mferp/managementfrontend/subscriptions/{i['subscription_id']}/resourceGroups/"
            f"{i['resource_group']}/providers/Microsoft.MachineLearningServices/registries/{i['registry_name']}"
        )

    def rest(self, method: str, url: str, body: Any = None, api_version: str | None = "2023-08-01-preview",
             **kwargs: Any) -> requests.Response:
        params = dict(kwargs.pop("params", {}) or {})
        if api_version:
            params["api-version"] = api_version
        # verify per request: requests lets a preset REQUESTS_CA_BUNDLE override Session.verify.
        return self.session.request(
            method, url, json=body, params=params, timeout=30, verify=self.info["ca_bundle"], **kwargs
        )

    def wire(self) -> list[dict[str, Any]]:
        lines = self.wire_log.read_text(encoding="utf-8").splitlines() if self.wire_log.exists() else []
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    base = tmp_path_factory.mktemp("azureml-emulator")
    wire_log = base / "wire.jsonl"
    saved = os.environ.get("REQUESTS_CA_BUNDLE")
    running = launcher.start(
        "azureml", extra_args=["--wire-log", str(wire_log)], log_path=base / "emulator.log", timeout=120
    )
    try:
        yield Emulator(running, wire_log)
    finally:
        running.stop()
        if saved is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = saved


@pytest.fixture(scope="session")
def ml_client(emulator: Emulator) -> Any:
    from emulators.azureml.client import workspace_client

    return workspace_client(emulator.info)


@pytest.fixture(scope="session")
def registry_client(emulator: Emulator) -> Any:
    from emulators.azureml.client import registry_client as make

    return make(emulator.info)


@pytest.fixture
def name() -> str:
    """A model name no other test uses, so one emulator serves the whole session."""
    return f"m-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    """A single-file model with unique bytes (azure-ai-ml dedups uploads by content hash)."""
    path = tmp_path / "model.bin"
    path.write_bytes(os.urandom(4096) + uuid.uuid4().bytes)
    return path
