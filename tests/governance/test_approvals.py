"""Approval requests with comments, policies per model glob, four-eyes, and the registry write."""

from __future__ import annotations

from tests.governance.conftest import Secured

BASE = "/v1/registries/local/models"


def _request(secured: Secured, who: str, model: str, version: str = "1", comment: str = "ready for prod") -> dict:  # type: ignore[type-arg]
    response = secured.call(who, "POST", f"{BASE}/{model}/versions/{version}/approval-requests", {"comment": comment})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _vote(secured: Secured, who: str, request_id: str, decision: str, comment: str | None = None):  # type: ignore[no-untyped-def]
    return secured.call(who, "POST", f"/v1/approval-requests/{request_id}/{decision}", {"comment": comment})


def _approval(secured: Secured, model: str, version: str = "1") -> dict:  # type: ignore[type-arg]
    return secured.call("viewer", "GET", f"{BASE}/{model}/versions/{version}").json()["approval"]  # type: ignore[no-any-return]


def test_request_marks_the_version_pending_with_the_requesters_comment(secured: Secured) -> None:
    model = secured.model()
    opened = _request(secured, "editor", model, comment="drift checked")
    assert opened["status"] == "PENDING" and opened["requested_by"] == "editor-user"
    assert (opened["required_approvals"], opened["required_role"], opened["four_eyes"]) == (1, "approver", True)
    assert _approval(secured, model) | {"at": None} == {"status": "PENDING", "by": "editor-user", "at": None,
                                                          "comment": "drift checked"}


def test_four_eyes_the_requester_cannot_approve_even_as_admin(secured: Secured) -> None:
    model = secured.model()
    opened = _request(secured, "admin", model)
    own = _vote(secured, "admin", opened["id"], "approve", "mine")
    assert own.status_code == 403 and own.json()["error"]["details"]["rule"] == "four_eyes"
    assert _approval(secured, model)["status"] == "PENDING"

    approved = _vote(secured, "approver", opened["id"], "approve", "bias report reviewed")
    assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
    written = _approval(secured, model)
    assert (written["status"], written["by"], written["comment"]) == ("APPROVED", "approver-user", "bias report reviewed")


def test_policy_needs_two_distinct_approvers(secured: Secured) -> None:
    model = secured.model("gated")  # auth.approval_policies: gated-* needs 2 approvers
    opened = _request(secured, "editor", model)
    assert opened["required_approvals"] == 2
    first = _vote(secured, "approver", opened["id"], "approve", "metrics ok").json()
    assert first["status"] == "PENDING" and _approval(secured, model)["status"] == "PENDING"
    again = _vote(secured, "approver", opened["id"], "approve")
    assert again.status_code == 409
    second = _vote(secured, "approver2", opened["id"], "approve", "card ok").json()
    assert second["status"] == "APPROVED" and [v["voter"] for v in second["votes"]] == ["approver-user", "approver2-user"]
    written = _approval(secured, model)
    assert written["by"] == "approver-user, approver2-user"
    assert written["comment"] == "approver-user: metrics ok; approver2-user: card ok"


def test_one_rejection_decides_and_the_request_is_closed(secured: Secured) -> None:
    model = secured.model("gated")
    opened = _request(secured, "editor", model)
    rejected = _vote(secured, "approver", opened["id"], "reject", "fails fairness threshold").json()
    assert rejected["status"] == "REJECTED"
    assert _approval(secured, model)["comment"] == "fails fairness threshold"
    late = _vote(secured, "approver2", opened["id"], "approve")
    assert late.status_code == 409 and "REJECTED" in late.json()["error"]["message"]
    assert _request(secured, "editor", model)["status"] == "PENDING"  # a decided request frees the version


def test_roles_without_the_policy_role_cannot_vote(secured: Secured) -> None:
    model = secured.model()
    opened = _request(secured, "editor", model)
    for who in ("viewer", "editor2", "fraud-editor"):
        assert _vote(secured, who, opened["id"], "approve").status_code == 403
    assert _vote(secured, "risk-lead", opened["id"], "approve").json()["status"] == "APPROVED"  # scoped approver


def test_one_open_request_per_version(secured: Secured) -> None:
    model = secured.model()
    _request(secured, "editor", model)
    second = secured.call("editor2", "POST", f"{BASE}/{model}/versions/1/approval-requests", {})
    assert second.status_code == 409


def test_request_for_a_missing_version_is_404_and_leaves_nothing(secured: Secured) -> None:
    model = secured.model()
    missing = secured.call("editor", "POST", f"{BASE}/{model}/versions/99/approval-requests", {})
    assert missing.status_code == 404
    assert secured.call("admin", "GET", "/v1/approval-requests", params={"model": model}).json()["items"] == []


def test_direct_approval_cannot_bypass_a_policy(secured: Secured) -> None:
    model = secured.model("gated")
    response = secured.call("admin", "PUT", f"{BASE}/{model}/versions/1/approval", {"status": "APPROVED"})
    assert response.status_code == 403 and response.json()["error"]["details"]["rule"] == "approval_policy"


def test_queue_lists_pending_requests_the_caller_may_read(secured: Secured) -> None:
    fraud, churn = secured.model("fraud"), secured.model("churn")
    _request(secured, "editor", fraud), _request(secured, "editor", churn)
    seen = {i["model"] for i in secured.call("fraud-editor", "GET", "/v1/approval-requests",
                                             params={"status": "PENDING"}).json()["items"]}
    assert fraud in seen and churn not in seen
    seen = {i["model"] for i in secured.call("approver", "GET", "/v1/approval-requests",
                                             params={"status": "PENDING"}).json()["items"]}
    assert {fraud, churn} <= seen


def test_protected_alias_takes_only_approved_versions_under_a_gating_policy(secured: Secured) -> None:
    model = secured.model("gated")
    early = secured.call("admin", "POST", f"{BASE}/{model}/promote", {"alias": "prod", "version": "1"})
    assert early.status_code == 409 and early.json()["error"]["details"]["approval"] == "NONE"
    opened = _request(secured, "editor", model)
    _vote(secured, "approver", opened["id"], "approve")
    _vote(secured, "approver2", opened["id"], "approve")
    assert secured.call("admin", "POST", f"{BASE}/{model}/promote", {"alias": "prod", "version": "1"}).status_code == 200


def test_every_step_is_in_the_audit_log(secured: Secured) -> None:
    model = secured.model()
    opened = _request(secured, "editor", model)
    _vote(secured, "approver", opened["id"], "approve", "ok")
    events = secured.call("admin", "GET", "/v1/audit", params={"limit": 1000}).json()["items"]
    mine = [(e["action"], e["actor"]) for e in events if e["target"] and model in e["target"]]
    assert mine == [("approval.request", "editor-user"), ("approval.approve", "approver-user")]


def test_a_decision_the_registry_refuses_is_withdrawn_so_the_vote_can_be_cast_again(secured: Secured) -> None:
    model = secured.model(versions=2)
    opened = _request(secured, "editor", model, version="2")
    secured.gateway.adapter("local").delete_version(model, "2")  # gone behind the gateway's back
    failed = _vote(secured, "approver", opened["id"], "approve", "ok")
    assert failed.status_code == 404
    after = secured.call("viewer", "GET", f"/v1/approval-requests/{opened['id']}").json()
    assert (after["status"], after["votes"], after["applied"]) == ("PENDING", [], False)
