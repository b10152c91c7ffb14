"""Every ordered pair of backends: one hop keeps every field both ends hold; a round trip
A -> B -> A reproduces every common field A and B both carry. New backends join automatically:
the pairs come from the conformance suite's backend list (first variant of each kind).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.base import RegistryAdapter
from gateway.config import GatewayConfig
from gateway.core import Gateway
from gateway.migration.plan import carried_version_fields
from gateway.migration.runner import Migrator
from gateway.migration.verify import verify_job
from mapping.compare import diff_versions
from mapping.schema import VersionSpec
from tests.conformance.conftest import BACKENDS
from tests.conformance.harness import Backend
from tests.conformance.specimens import full_spec, sha256, uploads


def _primary_variants() -> list[Backend]:
    seen: dict[str, Backend] = {}
    for backend in BACKENDS:
        seen.setdefault(backend.id.split("-")[0], backend)
    return list(seen.values())


PRIMARY = _primary_variants()
PAIRS = [(a.id, b.id) for a, b in itertools.permutations(PRIMARY, 2)]
pytestmark = pytest.mark.xdist_group("migration-matrix")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Backend, RegistryAdapter]]]:
    with contextlib.ExitStack() as stack:
        out = {}
        for backend in PRIMARY:
            adapter = stack.enter_context(backend.start(tmp_path_factory.mktemp(f"matrix-{backend.id}")))
            out[backend.id] = (backend, adapter)
        yield out


@pytest.fixture(scope="module")
def gateway(running: dict[str, tuple[Backend, RegistryAdapter]], tmp_path_factory: pytest.TempPathFactory) -> Gateway:
    root: Path = tmp_path_factory.mktemp("matrix-store")
    adapters = {adapter.name: adapter for _, adapter in running.values()}
    return Gateway(GatewayConfig(data_dir=str(root)), adapters=adapters)


def _seed(backend: Backend, adapter: RegistryAdapter) -> tuple[str, list[str]]:
    name = backend.model_name()
    adapter.create_model(name, description="fraud scorer", tags={"team": "risk"})
    v1 = adapter.create_version(name, full_spec(description="first"), uploads())
    v2 = adapter.create_version(name, full_spec(description="second", metrics={"auc": 0.95}), uploads())
    # As plain SDK users register: no creator given (MLflow then has none; others record the caller).
    v3 = adapter.create_version(name, VersionSpec(description="third", tags={"build": "3"}), uploads())
    if adapter.capabilities().aliases:
        adapter.set_alias(name, "champion", v2.version)
    return name, [v1.version, v2.version, v3.version]


def _target_name(backend: Backend) -> str:
    return backend.model_name()


@pytest.mark.parametrize(("source_id", "target_id"), PAIRS)
def test_one_hop_and_round_trip(gateway: Gateway, running: dict[str, tuple[Backend, RegistryAdapter]],
                                source_id: str, target_id: str) -> None:
    src_backend, src = running[source_id]
    dst_backend, dst = running[target_id]
    name, versions = _seed(src_backend, src)
    migrator = Migrator(gateway, workers=2)

    # One hop: every item created, verify compares every field both ends hold plus every file.
    hop_name = _target_name(dst_backend)
    plan = migrator.plan(f"{src.name}/{name}", dst.name, rename=hop_name)
    assert [v.source_version for v in plan.models[0].versions] == versions
    job = migrator.create_job(plan, actor="matrix")
    report = migrator.run(job)
    assert report["state"] == "succeeded", report["failures"]
    verified = verify_job(gateway, job)
    assert verified["ok"], [line["problems"] for line in verified["lines"] if line["problems"]]
    copies = list(dst.iter_versions(hop_name))
    assert [c.description for c in copies] == ["first", "second", "third"]
    if dst.capabilities().version_id_assignable:
        assert [c.version for c in copies] == versions
    for copy in copies:
        files = {f.path: f.sha256 for f in dst.list_artifacts(hop_name, copy.version)}
        assert files["model.bin"] == sha256(b"".join(full_read(dst, hop_name, copy.version, "model.bin")))

    # Round trip: back into the source under a new name; compare with the originals.
    back_name = _target_name(src_backend)
    back = migrator.create_job(migrator.plan(f"{dst.name}/{hop_name}", src.name, rename=back_name), actor="matrix")
    assert migrator.run(back)["state"] == "succeeded"
    fields = [f for f in carried_version_fields(src.capabilities(), dst.capabilities())
              if f not in ("lineage.migrated_from", "aliases", "artifact.files", "artifact.sha256")]
    originals = list(src.iter_versions(name))
    returned = list(src.iter_versions(back_name))
    assert len(returned) == len(originals)
    for original, again in zip(originals, returned, strict=True):
        assert diff_versions(original, again, fields) == []
        assert {f.path: f.sha256 for f in src.list_artifacts(back_name, again.version)} == \
            {f.path: f.sha256 for f in src.list_artifacts(name, original.version)}


def full_read(adapter: RegistryAdapter, model: str, version: str, path: str) -> list[bytes]:
    return list(adapter.read_artifact(model, version, path))
