"""The pure rules behind governance: scoped grants, approval outcomes, history diffs and undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import ApprovalPolicyConfig
from gateway.governance.approvals import Decision, Vote, outcome, policy_for, summary
from gateway.governance.history import HistoryEntry, change_to_undo, changes_from, restore_plan, timeline
from gateway.governance.roles import ConfiguredGrant, Grant, Principal, grants_for, is_protected
from mapping.errors import Conflict
from mapping.schema import ApprovalStatus


def test_grants_are_scoped_by_registry_and_model_globs() -> None:
    who = Principal("ci", grants=(Grant("editor", "sm-*", "fraud-*"),))
    assert who.can("write", "sm-prod", "fraud-v2")
    assert not who.can("write", "mlflow", "fraud-v2")
    assert not who.can("write", "sm-prod", "churn")
    assert not who.can("approve", "sm-prod", "fraud-v2")
    assert who.can("read", "sm-prod")  # something inside sm-prod
    assert not who.can_globally("read") and who.role is None


def test_configured_grants_match_names_groups_and_everyone() -> None:
    configured = [ConfiguredGrant("alice", Grant("approver", "*", "fraud-*")),
                  ConfiguredGrant("group:ml-risk", Grant("editor", "sm-*")),
                  ConfiguredGrant("*", Grant("viewer"))]
    grants = grants_for("alice", [], ["ml-risk"], configured)
    assert [g.role for g in grants] == ["approver", "editor", "viewer"]
    assert grants_for("bob", [], [], configured) == (Grant("viewer"),)


def test_protected_names_are_globs_and_case_insensitive() -> None:
    assert is_protected("prod", ["prod*"]) and is_protected("prod-eu", ["prod*"]) and is_protected("PROD", ["prod"])
    assert not is_protected("candidate", ["prod*", "champion"])


def test_first_matching_policy_wins_and_default_is_one_approver_with_four_eyes() -> None:
    policies = [ApprovalPolicyConfig(registry="sm-*", model="fraud-*", approvers=3),
                ApprovalPolicyConfig(model="fraud-*", approvers=2, four_eyes=False)]
    assert policy_for(policies, "sm-prod", "fraud-a").approvers == 3
    assert (policy_for(policies, "mlflow", "fraud-a").approvers, policy_for(policies, "mlflow", "fraud-a").four_eyes) == (2, False)
    default = policy_for(policies, "mlflow", "churn")
    assert (default.approvers, default.four_eyes, default.required_role, default.configured) == (1, True, "approver", False)


def test_outcome_counts_distinct_approvers_and_one_rejection_decides() -> None:
    a, b = Vote("a", Decision.APPROVE), Vote("b", Decision.APPROVE)
    assert outcome([a], 2) == ApprovalStatus.PENDING
    assert outcome([a, a], 2) == ApprovalStatus.PENDING
    assert outcome([a, b], 2) == ApprovalStatus.APPROVED
    assert outcome([a, Vote("c", Decision.REJECT, "no")], 1) == ApprovalStatus.REJECTED
    assert summary([Vote("a", Decision.APPROVE, "x" * 2000)], ApprovalStatus.APPROVED)[1].endswith("…")  # type: ignore[union-attr]


def _model(aliases: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return {"registry": "r", "name": "m", "aliases": aliases, "tags": {}}


def _version(v: str, stage: str, aliases: list[str]) -> dict:  # type: ignore[type-arg]
    return {"registry": "r", "model": "m", "version": v, "ordinal": int(v), "stage": stage, "aliases": aliases}


def test_changes_are_read_off_model_version_and_promotion_snapshots() -> None:
    moved = changes_from("mrg://r/m@prod", _model({"prod": "1", "x": "3"}), _model({"prod": "2", "x": "3"}))
    assert [(c.kind, c.name, c.previous, c.version) for c in moved] == [("alias", "prod", "1", "2")]
    staged = changes_from("mrg://r/m/versions/2", _version("2", "STAGING", []), _version("2", "PRODUCTION", []))
    assert [(c.kind, c.name, c.previous, c.version) for c in staged] == [("stage", "PRODUCTION", "STAGING", "2")]
    deleted = changes_from("mrg://r/m/versions/2", _version("2", "PRODUCTION", ["prod"]), None)
    assert {(c.kind, c.name, c.version) for c in deleted} == {("alias", "prod", None), ("stage", "NONE", "2")}
    promo = changes_from("mrg://r/m@PRODUCTION", {"model": "m", "stages": {"1": "PRODUCTION", "2": "NONE"}},
                         {"model": "m", "stages": {"1": "ARCHIVED", "2": "PRODUCTION"}})
    assert [(c.name, c.previous, c.version) for c in promo] == [("ARCHIVED", "PRODUCTION", "1"), ("PRODUCTION", "NONE", "2")]
    assert changes_from("mrg://r/m/versions/1", None, _version("1", "NONE", [])) == []  # a plain new version
    assert changes_from("webhook:1", None, {"id": 1}) == []


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _entry(i: int, kind: str, name: str, version: str | None, previous: str | None, action: str = "promote",
           change: str | None = None) -> HistoryEntry:
    return HistoryEntry(id=i, change_id=change or f"c{i}", at=T0 + timedelta(days=i), registry="r", model="m", kind=kind,
                        name=name, version=version, previous=previous, actor=f"user{i}", action=action, request_id=None)


def test_timeline_answers_who_held_an_alias_when() -> None:
    entries = [_entry(1, "alias", "prod", "1", None), _entry(2, "alias", "prod", "2", "1"),
               _entry(3, "alias", "other", "9", None), _entry(4, "alias", "prod", None, "2", "alias.delete")]
    tenures = timeline(entries, "alias", "prod")
    assert [(t.version, t.set_by, t.ended_by) for t in tenures] == [("1", "user1", "user2"), ("2", "user2", "user4")]
    assert [t.version for t in tenures if t.held_at(T0 + timedelta(days=2, hours=1))] == ["2"]
    assert [t.version for t in tenures if t.held_at(T0 + timedelta(days=5))] == []


def test_undo_stack_skips_moves_already_rolled_back() -> None:
    entries = [_entry(1, "alias", "prod", "1", None), _entry(2, "alias", "prod", "2", "1"),
               _entry(3, "alias", "prod", "3", "2"), _entry(4, "alias", "prod", "2", "3", "rollback")]
    assert restore_plan(change_to_undo(entries, "alias", "prod"), "alias", "prod") == {"expected": "2", "restore": "1"}
    entries.append(_entry(5, "alias", "prod", "1", "2", "rollback"))
    with pytest.raises(Conflict, match="no earlier holder"):
        restore_plan(change_to_undo(entries, "alias", "prod"), "alias", "prod")


def test_stage_undo_restores_every_version_the_move_touched() -> None:
    entries = [_entry(1, "stage", "PRODUCTION", "1", "STAGING"),
               _entry(2, "stage", "PRODUCTION", "2", "STAGING", change="c2"),
               _entry(3, "stage", "ARCHIVED", "1", "PRODUCTION", change="c2")]
    rows = change_to_undo(entries, "stage", "PRODUCTION")
    assert restore_plan(rows, "stage", "PRODUCTION") == {"2": "STAGING", "1": "PRODUCTION"}
    with pytest.raises(Conflict):
        restore_plan(change_to_undo(entries[:1], "stage", "PRODUCTION"), "stage", "PRODUCTION")


def test_the_auth_section_of_mrg_yaml_parses_and_keeps_secrets_out() -> None:
    from gateway.config import ConfigError, parse_config

    config = parse_config({"auth": {
        "grants": [{"who": "group:ml-risk", "role": "approver", "registry": "sm-*", "model": "fraud-*"}],
        "oidc": {"issuer": "https://idp/", "audience": "mrg", "jwks_url": "https://idp/jwks", "roles_claim": "groups"},
        "protected_aliases": ["prod*"], "protected_stages": ["PRODUCTION", "STAGING"],
        "approval_policies": [{"model": "fraud-*", "approvers": 2}],
    }})
    assert config.auth.grants[0].who == "group:ml-risk" and config.auth.oidc is not None
    with pytest.raises(ConfigError, match="auth.grants.0.role"):
        parse_config({"auth": {"grants": [{"who": "x", "role": "root"}]}})
    with pytest.raises(ConfigError, match="secrets may not be written"):
        parse_config({"auth": {"oidc": {"issuer": "i", "audience": "a", "client_secret": "s3cr3t"}}})
