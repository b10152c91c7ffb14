"""The common schema's URI form and the envelope's lossless, limit-aware encoding."""

from __future__ import annotations

import json

import pytest

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.schema import Approval, ApprovalStatus, Lineage, MrgUri, ParentRef, Stage
from tests.conformance.specimens import full_spec


@pytest.mark.parametrize(
    ("registry", "model", "version"),
    [("local", "fraud", "3"), ("hub", "acme/bert-base", "v12"), ("sm", "a b%c", None)],
)
def test_uri_round_trips_including_slashes(registry: str, model: str, version: str | None) -> None:
    uri = MrgUri(registry=registry, model=model, version=version)
    assert MrgUri.parse(uri.render()) == uri


def test_uri_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="not an mrg URI"):
        MrgUri.parse("s3://bucket/key")


def test_every_field_survives_encode_decode() -> None:
    spec = full_spec()
    values = {
        "approval": spec.approval, "stage": spec.stage, "aliases": ["prod", "champion"], "metrics": spec.metrics,
        "params": spec.params, "lineage": spec.lineage, "model_card": spec.model_card, "created_by": "alice",
        "description": "d", "tags": spec.tags,
    }
    decoded = envelope.decode_fields(envelope.encode_fields(values))
    assert decoded == {**values, "aliases": ["champion", "prod"]}


def test_defaults_are_not_written() -> None:
    assert envelope.encode_fields({"approval": Approval(), "stage": Stage.NONE, "lineage": Lineage(),
                                   "metrics": {}, "model_card": None}) == {}


def test_encoding_is_deterministic() -> None:
    a = envelope.encode_fields({"metrics": {"b": 1.0, "a": 2.0}})
    b = envelope.encode_fields({"metrics": {"a": 2.0, "b": 1.0}})
    assert a == b == {"mrg.metrics": '{"a":2.0,"b":1.0}'}


def test_reserved_prefix_refused_in_user_tags() -> None:
    with pytest.raises(InvalidInput) as info:
        envelope.check_user_tags({"ok": "1", "mrg.stage": "PRODUCTION"})
    assert info.value.field == "tags.mrg.stage"


def test_fit_moves_what_does_not_fit_to_the_sidecar() -> None:
    entries = {"mrg.stage": "STAGING", "mrg.card": "x" * 500, "mrg.approval": json.dumps({"status": "APPROVED"})}
    fitted, overflow = envelope.fit(entries, envelope.EnvelopeLimits(max_entries=50, value_max=256))
    assert overflow == {"mrg.card": "x" * 500}
    assert fitted["mrg.sidecar"] == envelope.SIDECAR_FILENAME
    assert fitted["mrg.stage"] == "STAGING"
    assert {**fitted, **overflow}.keys() - {"mrg.sidecar"} == entries.keys()


def test_fit_respects_entry_budget_with_room_for_the_marker() -> None:
    entries = {f"mrg.k{i}": "v" for i in range(10)}
    fitted, overflow = envelope.fit(entries, envelope.EnvelopeLimits(max_entries=5), used=1)
    assert len(fitted) <= 4
    assert "mrg.sidecar" in fitted
    assert set(fitted) - {"mrg.sidecar"} | set(overflow) == set(entries)


def test_fit_moves_nothing_when_the_store_is_exactly_full() -> None:
    entries = {f"mrg.k{i}": "v" for i in range(4)}
    assert envelope.fit(entries, envelope.EnvelopeLimits(max_entries=5), used=1) == (entries, {})


def test_fit_counts_entries_that_take_several_slots() -> None:
    entries = {"mrg.small": "s", "mrg.big": "b" * 30}
    slots = lambda key, value: max(1, -(-len(value) // 10))  # noqa: E731 - chunks of 10 characters
    kept, overflow = envelope.fit(entries, envelope.EnvelopeLimits(max_entries=3), cost=slots, marker="s3://b/mrg.json")
    assert overflow == {"mrg.big": "b" * 30}
    assert kept == {"mrg.small": "s", "mrg.sidecar": "s3://b/mrg.json"}


def test_sidecar_manifest_round_trips_and_checks_schema() -> None:
    manifest = envelope.SidecarManifest(model="m", version="2", entries={"mrg.card": "# hi"})
    assert envelope.SidecarManifest.loads(manifest.dumps()) == manifest
    with pytest.raises(InvalidInput):
        envelope.SidecarManifest.loads(b'{"schema": "other/v9", "model": "m"}')


@pytest.mark.parametrize("text", ["Team=Fraud Detection/EU", "émoji ✓", "", "UPPER_lower-123"])
def test_label_encoding_is_charset_safe_and_reversible(text: str) -> None:
    encoded = envelope.label_encode(text)
    assert envelope.label_safe(encoded, max_len=10_000)
    assert envelope.label_decode(encoded) == text


def test_chunks_reassemble() -> None:
    entries = envelope.chunked("mrg.card", "abcdefghij", 3)
    assert entries == {"mrg.card": "abc", "mrg.card.1": "def", "mrg.card.2": "ghi", "mrg.card.3": "j"}
    assert envelope.join_chunks(entries, "mrg.card") == "abcdefghij"


def test_lineage_parents_keep_relation() -> None:
    lineage = Lineage(parents=[ParentRef(uri="hf://x", relation="quantize")])
    decoded = envelope.decode_fields(envelope.encode_fields({"lineage": lineage}))
    assert decoded["lineage"].parents[0].relation == "quantize"
    assert decoded["lineage"] == lineage


def test_approval_status_values_are_canonical() -> None:
    assert {s.value for s in ApprovalStatus} == {"NONE", "PENDING", "APPROVED", "REJECTED"}
