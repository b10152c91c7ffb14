"""Aliases, approvals and stages: the pointers and states a release process moves."""

from __future__ import annotations

import pytest

from adapters.base import Capabilities, NotFound, RegistryAdapter
from mapping.schema import Approval, ApprovalStatus, Stage, VersionSpec
from tests.conformance.conftest import require


def test_alias_points_and_moves_uniquely(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.aliases, "aliases")
    v1 = adapter.create_version(model, VersionSpec(description="one"))
    v2 = adapter.create_version(model, VersionSpec(description="two"))
    adapter.set_alias(model, "champion", v1.version)
    assert adapter.get_model(model).aliases["champion"] == v1.version
    assert "champion" in adapter.get_version(model, v1.version).aliases

    adapter.set_alias(model, "champion", v2.version)
    assert adapter.get_model(model).aliases["champion"] == v2.version
    assert "champion" not in adapter.get_version(model, v1.version).aliases
    assert adapter.get_version_by_alias(model, "champion").version == v2.version
    holders = [v.version for v in adapter.iter_versions(model) if "champion" in v.aliases]
    assert holders == [v2.version]


def test_alias_delete(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.aliases, "aliases")
    v1 = adapter.create_version(model, VersionSpec())
    adapter.set_alias(model, "challenger", v1.version)
    adapter.delete_alias(model, "challenger")
    assert "challenger" not in adapter.get_model(model).aliases
    assert adapter.get_version(model, v1.version).aliases == []
    with pytest.raises(NotFound):
        adapter.get_version_by_alias(model, "challenger")


def test_alias_to_missing_version_is_not_found(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.aliases, "aliases")
    adapter.create_version(model, VersionSpec())
    with pytest.raises(NotFound):
        adapter.set_alias(model, "champion", "987654")
    assert "champion" not in adapter.get_model(model).aliases


@pytest.mark.parametrize("status", [ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.PENDING])
def test_approval_with_comment_round_trips(adapter: RegistryAdapter, model: str, status: ApprovalStatus) -> None:
    v = adapter.create_version(model, VersionSpec())
    approval = Approval(status=status, by="bob", comment=f"{status.value.lower()}: checked drift and bias report")
    updated = adapter.set_approval(model, v.version, approval)
    for got in (updated, adapter.get_version(model, v.version)):
        assert got.approval.status == status
        assert got.approval.by == "bob"
        assert got.approval.comment == approval.comment


@pytest.mark.parametrize("stage", [Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED, Stage.NONE])
def test_stage_round_trips(adapter: RegistryAdapter, model: str, stage: Stage) -> None:
    v = adapter.create_version(model, VersionSpec(stage=Stage.STAGING))
    updated = adapter.set_stage(model, v.version, stage)
    assert updated.stage == stage
    assert adapter.get_version(model, v.version).stage == stage


def test_stage_and_approval_are_per_version(adapter: RegistryAdapter, model: str) -> None:
    v1 = adapter.create_version(model, VersionSpec())
    v2 = adapter.create_version(model, VersionSpec())
    adapter.set_stage(model, v2.version, Stage.PRODUCTION)
    adapter.set_approval(model, v2.version, Approval(status=ApprovalStatus.APPROVED, by="carol"))
    first = adapter.get_version(model, v1.version)
    assert first.stage == Stage.NONE and first.approval.status == ApprovalStatus.NONE
