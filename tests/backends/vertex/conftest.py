"""Fixtures: one emulator process per session (started exactly as users start it), reached
through the official google-cloud-aiplatform clients over REST."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulators import launcher

_counter = itertools.count()


@pytest.fixture(scope="session")
def vertex_emulator() -> Iterator[launcher.RunningEmulator]:
    emu = launcher.start("vertex", timeout=60)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def parent(vertex_emulator: launcher.RunningEmulator) -> str:
    info = vertex_emulator.info
    return f"projects/{info['project']}/locations/{info['location']}"


def _client_kwargs(endpoint: str) -> dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials

    return {
        "transport": "rest",
        "client_options": {"api_endpoint": endpoint},
        "credentials": AnonymousCredentials(),
    }


@pytest.fixture(scope="session")
def model_client(vertex_emulator: launcher.RunningEmulator) -> Any:
    from google.cloud import aiplatform_v1

    return aiplatform_v1.ModelServiceClient(**_client_kwargs(vertex_emulator.endpoint))


@pytest.fixture(scope="session")
def metadata_client(vertex_emulator: launcher.RunningEmulator) -> Any:
    from google.cloud import aiplatform_v1

    return aiplatform_v1.MetadataServiceClient(**_client_kwargs(vertex_emulator.endpoint))


@pytest.fixture
def uid() -> str:
    """A model/resource ID no other test uses (tests share one server)."""
    return f"m{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def upload(model_client: Any, parent: str) -> Any:
    """Upload through the low-level client and wait for the LRO, as a user would."""
    from google.cloud import aiplatform_v1

    def _upload(model_id: str | None = None, parent_model: str | None = None, **fields: Any) -> Any:
        fields.setdefault("display_name", model_id or "model")
        fields.setdefault("artifact_uri", "gs://bucket/model/")
        fields.setdefault(
            "container_spec",
            {"image_uri": "us-docker.pkg.dev/vertex-ai/prediction/sklearn:latest"},
        )
        req = aiplatform_v1.UploadModelRequest(
            parent=parent,
            model=aiplatform_v1.Model(**fields),
            model_id=model_id or "",
            parent_model=parent_model or "",
        )
        return model_client.upload_model(request=req).result(timeout=30)

    return _upload


@pytest.fixture(scope="session")
def highlevel(vertex_emulator: launcher.RunningEmulator) -> Any:
    """The high-level SDK pointed at the emulator (it needs api_transport="rest")."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    info = vertex_emulator.info
    aiplatform.init(
        project=info["project"],
        location=info["location"],
        api_endpoint=vertex_emulator.endpoint,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    return aiplatform
