"""mapping.vertex: the label envelope is lossless and always within Vertex's label rules."""

from __future__ import annotations

import pytest

from emulators.vertex.errors import ApiError
from emulators.vertex.validation import validate_labels
from mapping import envelope
from mapping import vertex as mv
from mapping.errors import InvalidInput
from mapping.schema import Approval, ApprovalStatus, Stage


def _round_trip(tags: dict[str, str], fields: dict[str, object], budget: int) -> tuple[dict, dict, dict[str, str]]:
    labels, overflow = mv.encode_labels(
        tags, mv.version_entries({"tags": tags, **fields}), scope="version", budget=budget
    )
    entries, written, has_sidecar = mv.decode_labels(labels, scope="version")
    assert written and has_sidecar == bool(overflow)
    entries.update(overflow)
    return envelope.decode_fields(entries), labels, overflow


def test_fields_round_trip_through_valid_labels() -> None:
    tags = {"Team": "Fraud Detection/EU", "team": "risk", "ключ": "значение"}
    fields = {
        "stage": Stage.PRODUCTION,
        "approval": Approval(status=ApprovalStatus.APPROVED, by="bob", comment="ok"),
        "metrics": {"auc": 0.93},
        "params": {"depth": "6"},
        "created_by": "alice@example.com",
    }
    decoded, labels, overflow = _round_trip(tags, fields, mv.VERSION_LABEL_BUDGET)
    assert not overflow
    assert decoded["tags"] == tags
    assert decoded["stage"] == Stage.PRODUCTION and decoded["approval"] == fields["approval"]
    assert decoded["metrics"] == {"auc": 0.93} and decoded["created_by"] == "alice@example.com"
    validate_labels(labels)  # raises ApiError if Vertex would refuse them
    assert labels["team"] == "risk"  # label-safe tags are mirrored natively


def test_what_does_not_fit_the_budget_overflows_and_labels_stay_valid() -> None:
    card = "x" * 5000
    decoded, labels, overflow = _round_trip({}, {"model_card": card, "stage": Stage.STAGING}, budget=10)
    assert list(overflow) == ["mrg.card"]
    assert len(labels) <= 10
    assert decoded["model_card"] == card and decoded["stage"] == Stage.STAGING
    validate_labels(labels)


def test_model_and_version_scopes_do_not_read_each_other() -> None:
    model_labels, _ = mv.encode_labels({"a": "1"}, mv.model_entries({"a": "1"}), scope="model", budget=16)
    version_labels, _ = mv.encode_labels(
        {"b": "2"}, mv.version_entries({"tags": {"b": "2"}}), scope="version", budget=48
    )
    merged = {**model_labels, **version_labels}  # what Vertex returns for a version
    model_env, _, _ = mv.decode_labels(merged, scope="model")
    version_env, _, _ = mv.decode_labels(merged, scope="version")
    assert envelope.decode_fields(model_env)["tags"] == {"a": "1"}
    assert envelope.decode_fields(version_env)["tags"] == {"b": "2"}


def test_label_validation_rejects_what_vertex_rejects() -> None:
    with pytest.raises(ApiError):
        validate_labels({"Team": "x"})
    for name in ("Bad", "9lives", "-x", "x" * 64, ""):
        with pytest.raises(InvalidInput):
            mv.check_model_name(name)
    for alias in ("default1", "prod", "a1"):
        mv.check_alias(alias)
    for alias in ("1", "x", "Prod", "prod-"):
        with pytest.raises(InvalidInput):
            mv.check_alias(alias)
