"""One emulator per test session; tests isolate themselves with unique repo names.

The emulator runs with a page size of 3 so every listing exercises ``Link`` pagination, and a
low multipart threshold so a 12 MiB upload takes the multipart LFS transfer while smaller
LFS files take the basic one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulators import launcher

from .hubenv import use_endpoint


@dataclass
class HubSession:
    endpoint: str
    token: str
    user: str
    other_token: str
    org: str
    log_path: Path

    def requests_logged(self) -> str:
        """The emulator's request log: which wire path the client really took."""
        return self.log_path.read_text()


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSession]:
    data_dir = tmp_path_factory.mktemp("hfhub-data")
    args = ["--page-size", "3", "--extra-user", "bob", "--org", "acme-labs",
            "--multipart-threshold", "8MiB", "--multipart-chunk-size", "5MiB", "--log-level", "info"]
    log_path = data_dir / "emulator.log"
    emulator = launcher.start("hfhub", data_dir=data_dir, extra_args=args, log_path=log_path)
    info = emulator.info
    restore = use_endpoint(info["endpoint"], str(tmp_path_factory.mktemp("hf-cache")))
    try:
        yield HubSession(info["endpoint"], info["token"], info["user"], info["users"]["bob"], "acme-labs",
                         log_path)
    finally:
        restore()
        emulator.stop()


@pytest.fixture
def api(hub: HubSession):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=hub.token)


@pytest.fixture
def repo_id(hub: HubSession) -> str:
    return f"{hub.user}/t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cache_dir(tmp_path: Path) -> str:
    return str(tmp_path / "cache")
