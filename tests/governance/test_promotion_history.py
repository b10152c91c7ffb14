"""Promote, roll back, and answer "which version held prod when, and who moved it" (MLflow #2169)."""

from __future__ import annotations

import time
from datetime import datetime

from tests.governance.conftest import Secured

BASE = "/v1/registries/local/models"


def _history(secured: Secured, model: str, **query: str) -> dict:  # type: ignore[type-arg]
    response = secured.call("viewer", "GET", "/v1/registries/local/history", params={"model": model, **query})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _promote(secured: Secured, who: str, model: str, **body: str) -> dict:  # type: ignore[type-arg]
    response = secured.call(who, "POST", f"{BASE}/{model}/promote", body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _rollback(secured: Secured, who: str, model: str, **body: str):  # type: ignore[no-untyped-def]
    return secured.call(who, "POST", f"{BASE}/{model}/rollback", body)


def _prod(secured: Secured, model: str) -> str | None:
    return secured.call("viewer", "GET", f"{BASE}/{model}").json()["aliases"].get("prod")  # type: ignore[no-any-return]


def test_promote_then_rollback_restores_the_previous_holder_and_history_says_who_held_prod_when(secured: Secured) -> None:
    model = secured.model(versions=2)
    first = _promote(secured, "approver", model, alias="prod", version="1")
    assert first["previous"] == [] and first["by"] == "approver-user"
    time.sleep(0.01)
    second = _promote(secured, "admin", model, alias="prod", version="2")
    assert second["previous"] == ["1"] and _prod(secured, model) == "2"
    between = datetime.fromisoformat(second["at"])
    time.sleep(0.01)

    back = _rollback(secured, "approver", model, alias="prod")
    assert back.status_code == 200, back.text
    assert back.json()["version"] == "1" and back.json()["previous"] == ["2"] and _prod(secured, model) == "1"

    story = _history(secured, model, alias="prod")
    assert [(t["version"], t["set_by"], t["set_action"], t["ended_by"]) for t in story["timeline"]] == [
        ("1", "approver-user", "promote", "admin-user"),
        ("2", "admin-user", "promote", "approver-user"),
        ("1", "approver-user", "rollback", None),
    ]
    assert story["timeline"][-1]["until"] is None
    assert _history(secured, model, alias="prod", at=between.isoformat())["held_at"] == ["2"]
    assert _history(secured, model, alias="prod", at=datetime.now().astimezone().isoformat())["held_at"] == ["1"]


def test_alias_and_stage_set_directly_land_in_history(secured: Secured) -> None:
    model = secured.model(versions=2)
    secured.call("editor", "PUT", f"{BASE}/{model}/aliases/candidate", {"version": "1"})
    secured.call("editor", "PUT", f"{BASE}/{model}/aliases/candidate", {"version": "2"})
    secured.call("approver", "PUT", f"{BASE}/{model}/versions/2/stage", {"stage": "PRODUCTION"})
    secured.call("editor", "DELETE", f"{BASE}/{model}/aliases/candidate")
    rows = [(e["kind"], e["name"], e["previous"], e["version"], e["actor"], e["action"])
            for e in _history(secured, model)["items"]]
    assert rows == [
        ("alias", "candidate", None, "1", "editor-user", "alias.set"),
        ("alias", "candidate", "1", "2", "editor-user", "alias.set"),
        ("stage", "PRODUCTION", "NONE", "2", "approver-user", "version.stage"),
        ("alias", "candidate", "2", None, "editor-user", "alias.delete"),
    ]
    # a direct PUT is undone like a promotion: the alias comes back to version 2
    assert _rollback(secured, "editor", model, alias="candidate").json()["version"] == "2"


def test_rollback_is_an_undo_stack_and_refuses_past_the_first_holder(secured: Secured) -> None:
    model = secured.model(versions=3)
    for version in ("1", "2", "3"):
        _promote(secured, "editor", model, alias="candidate", version=version)
    assert _rollback(secured, "editor", model, alias="candidate").json()["version"] == "2"
    assert _rollback(secured, "editor", model, alias="candidate").json()["version"] == "1"
    refused = _rollback(secured, "editor", model, alias="candidate")
    assert refused.status_code == 409 and refused.json()["error"]["details"]["field"] == "alias"


def test_rollback_refuses_when_the_alias_was_moved_outside_the_gateway(secured: Secured) -> None:
    model = secured.model(versions=3)
    _promote(secured, "editor", model, alias="candidate", version="1")
    _promote(secured, "editor", model, alias="candidate", version="2")
    secured.gateway.adapter("local").set_alias(model, "candidate", "3")  # someone used the MLflow UI
    refused = _rollback(secured, "editor", model, alias="candidate")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] | {"field": "alias"} == {"field": "alias", "current": "3", "expected": "2"}


def test_stage_promotion_archives_the_previous_holder_and_rollback_restores_it(secured: Secured) -> None:
    model = secured.model(versions=2)
    _promote(secured, "approver", model, stage="PRODUCTION", version="1")
    moved = _promote(secured, "approver", model, stage="PRODUCTION", version="2")
    assert moved["previous"] == ["1"]
    stages = {v["version"]: v["stage"] for v in secured.call("viewer", "GET", f"{BASE}/{model}/versions").json()["items"]}
    assert stages == {"1": "ARCHIVED", "2": "PRODUCTION"}

    back = _rollback(secured, "approver", model, stage="PRODUCTION")
    assert back.status_code == 200, back.text
    stages = {v["version"]: v["stage"] for v in secured.call("viewer", "GET", f"{BASE}/{model}/versions").json()["items"]}
    assert stages == {"1": "PRODUCTION", "2": "NONE"}
    tenures = [(t["version"], t["set_action"], t["until"] is None)
               for t in _history(secured, model, stage="PRODUCTION")["timeline"]]
    assert tenures == [("1", "promote", False), ("2", "promote", False), ("1", "rollback", True)]


def test_editor_cannot_roll_back_a_protected_alias(secured: Secured) -> None:
    model = secured.model(versions=2)
    _promote(secured, "approver", model, alias="prod", version="1")
    _promote(secured, "approver", model, alias="prod", version="2")
    assert _rollback(secured, "editor", model, alias="prod").status_code == 403
    assert _prod(secured, model) == "2"


def test_bad_requests_name_the_field(secured: Secured) -> None:
    model = secured.model()
    both = secured.call("admin", "POST", f"{BASE}/{model}/promote", {"alias": "x", "stage": "STAGING", "version": "1"})
    assert both.status_code == 400 and "exactly one of alias or stage" in both.json()["error"]["message"]
    missing = secured.call("admin", "POST", f"{BASE}/{model}/promote", {"alias": "candidate", "version": "42"})
    assert missing.status_code == 404
    unknown = secured.call("admin", "GET", "/v1/registries/nowhere/history")
    assert unknown.status_code == 404 and unknown.json()["error"]["details"]["field"] == "registry"
