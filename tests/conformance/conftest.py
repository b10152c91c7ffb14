"""Fixtures of the conformance suite: every test runs once per registered backend variant."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Iterator

import pytest

from adapters.base import Capabilities, RegistryAdapter
from tests.conformance import backends as backends_pkg
from tests.conformance.harness import Backend


def _discover() -> list[Backend]:
    found: list[Backend] = []
    for info in sorted(pkgutil.iter_modules(backends_pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{backends_pkg.__name__}.{info.name}")
        found.extend(getattr(module, "BACKENDS", []))
    return found


BACKENDS = _discover()
BY_ID = {b.id: b for b in BACKENDS}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", [b.id for b in BACKENDS], indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend_id = callspec.params.get("backend") if callspec else None
        if backend_id not in BY_ID:
            continue
        # One worker per backend: each server/emulator starts once per run, not once per worker.
        item.add_marker(pytest.mark.xdist_group(f"conformance-{backend_id}"))
        reason = BY_ID[backend_id].ledger.get(getattr(item, "originalname", item.name))
        if reason:
            item.add_marker(pytest.mark.xfail(reason=f"ledgered divergence: {reason}", strict=True))


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    return BY_ID[request.param]


@pytest.fixture(scope="session")
def _running(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryAdapter]:
    with backend.start(tmp_path_factory.mktemp(backend.id)) as adapter:
        yield adapter


@pytest.fixture
def adapter(_running: RegistryAdapter) -> RegistryAdapter:
    return _running


@pytest.fixture
def caps(adapter: RegistryAdapter) -> Capabilities:
    return adapter.capabilities()


@pytest.fixture
def model_name(backend: Backend) -> str:
    return backend.model_name()


@pytest.fixture
def model(adapter: RegistryAdapter, model_name: str) -> Iterator[str]:
    """A fresh model, deleted after the test (tests never share state)."""
    adapter.create_model(model_name, description="conformance model", tags={"suite": "conformance"})
    yield model_name
    with contextlib.suppress(Exception):  # the test may have deleted it already
        adapter.delete_model(model_name)


def require(flag: bool, what: str) -> None:
    if not flag:
        pytest.skip(f"backend does not declare capability {what!r}")
