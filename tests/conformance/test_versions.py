"""Versions: every common field survives a write and a read; order, paging, updates, deletes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.base import Capabilities, NotFound, RegistryAdapter, Unsupported
from gateway.pilot import fidelity_doc
from mapping.compare import diff_versions
from mapping.fidelity import VERSION_FIELDS, carried
from mapping.schema import ModelVersion, VersionPatch, VersionSpec
from tests.conformance.harness import Backend
from tests.conformance.specimens import CONFIG, WEIGHTS, full_spec, sha256, uploads


def _carried_fields(caps: Capabilities) -> list[str]:
    return [f for f in VERSION_FIELDS if carried(caps.fidelity, f) and not f.startswith("artifact.")]


def test_fidelity_map_covers_every_field(caps: Capabilities) -> None:
    missing = [f for f in VERSION_FIELDS if f not in caps.fidelity]
    assert not missing, f"the fidelity map must place every common field: {missing}"


def test_every_carried_field_round_trips(
    adapter: RegistryAdapter, model: str, caps: Capabilities, backend: Backend
) -> None:
    spec = full_spec()
    created = adapter.create_version(model, spec, uploads())
    fields = _carried_fields(caps)
    assert diff_versions(spec, created, fields) == []
    assert diff_versions(spec, adapter.get_version(model, created.version), fields) == []
    listed = [v for v in adapter.iter_versions(model) if v.version == created.version]
    assert len(listed) == 1 and diff_versions(spec, listed[0], fields) == []
    if caps.artifact_upload:
        files = adapter.list_artifacts(model, created.version)
        assert {f.path: f.sha256 for f in files if f.path in ("model.bin", "config/settings.json")} == {
            "model.bin": sha256(WEIGHTS), "config/settings.json": sha256(CONFIG)}
        fields += ["artifact.files", "artifact.sha256"]
    if os.environ.get("MRG_FIDELITY_OUT"):
        fidelity_doc.record(os.environ["MRG_FIDELITY_OUT"], backend.id, caps.kind.value,
                            {k: v.value for k, v in caps.fidelity.items()}, fields)


def test_published_fidelity_matrix_matches(caps: Capabilities, backend: Backend) -> None:
    """docs/fidelity.md is generated from this suite; it must say what the adapter declares."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"
    claimed = fidelity_doc.published(doc.read_text()).get(backend.id)
    assert claimed is not None, f"docs/fidelity.md has no column for {backend.id}: run `make fidelity`"
    assert claimed == {k: v.value for k, v in caps.fidelity.items()}, "docs/fidelity.md is stale: run `make fidelity`"


def test_versions_list_in_creation_order_past_ten(adapter: RegistryAdapter, model: str) -> None:
    created = [adapter.create_version(model, VersionSpec(description=f"build {i}")) for i in range(11)]
    listed = list(adapter.iter_versions(model))
    assert [v.version for v in listed] == [v.version for v in created]
    assert [v.description for v in listed] == [f"build {i}" for i in range(11)]
    assert [v.ordinal for v in listed] == sorted(v.ordinal for v in listed)
    assert adapter.get_model(model).latest_version == created[-1].version


def test_version_pages_do_not_repeat_or_drop(adapter: RegistryAdapter, model: str) -> None:
    created = [adapter.create_version(model, VersionSpec(description=str(i))).version for i in range(5)]
    seen: list[str] = []
    token = None
    while True:
        page = adapter.list_versions(model, page_size=2, page_token=token)
        assert len(page.items) <= 2
        seen += [v.version for v in page.items]
        token = page.next_token
        if not token:
            break
    assert seen == created


def test_missing_version_is_not_found(adapter: RegistryAdapter, model: str) -> None:
    adapter.create_version(model, VersionSpec())
    with pytest.raises(NotFound):
        adapter.get_version(model, "987654")


def test_version_of_missing_model_is_not_found(adapter: RegistryAdapter, backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        adapter.create_version(backend.model_name(), VersionSpec())


def test_patch_changes_only_what_it_names(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    v = adapter.create_version(model, full_spec())
    patched = adapter.update_version(
        model,
        v.version,
        VersionPatch(description="retrained", tags={"reviewed": "yes"}, remove_tags=["owner"],
                     metrics={"auc": 0.95}, model_card="# v2 card\n"),
    )
    again = adapter.get_version(model, v.version)
    for got in (patched, again):
        assert got.description == "retrained"
        if caps.per_version_tags or carried(caps.fidelity, "tags"):
            assert got.tags == {"team": "risk", "Team Name": "Fraud Detection/EU", "reviewed": "yes"}
        if carried(caps.fidelity, "metrics"):
            assert got.metrics == {"auc": 0.95, "f1": 0.77, "latency_ms": 12.5}
        if carried(caps.fidelity, "model_card"):
            assert got.model_card == "# v2 card\n"
        assert got.stage == v.stage and got.approval == v.approval
        assert got.lineage == v.lineage


def test_delete_version(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    if not caps.delete_version:
        pytest.skip("backend does not declare capability 'delete_version'")
    keep = adapter.create_version(model, VersionSpec(description="keep"))
    gone = adapter.create_version(model, VersionSpec(description="gone"))
    adapter.delete_version(model, gone.version)
    with pytest.raises(NotFound):
        adapter.get_version(model, gone.version)
    assert [v.version for v in adapter.iter_versions(model)] == [keep.version]


def test_requested_version_id(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    if caps.version_id_assignable:
        v = adapter.create_version(model, VersionSpec(version="7"))
        assert v.version == "7" and adapter.get_version(model, "7").version == "7"
    else:
        with pytest.raises(Unsupported):
            adapter.create_version(model, VersionSpec(version="7"))
        assert list(adapter.iter_versions(model)) == []


def test_version_uri(adapter: RegistryAdapter, model: str) -> None:
    v: ModelVersion = adapter.create_version(model, VersionSpec())
    assert v.uri == f"mrg://{adapter.name}/{model}/versions/{v.version}"
