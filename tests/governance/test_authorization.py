"""Every route x every kind of principal: allowed or refused exactly as the policy says.

The routes come from the app's own OpenAPI document, so a route added anywhere in the gateway
without an entry in ``EXPECT`` fails ``test_every_route_has_an_expectation``. Principals cover
global roles (environment keys), keys scoped to ``local/fraud-*`` and to another registry
(stored keys), and no credentials at all. Models under test are ``fraud-*``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.api import create_app
from tests.governance.conftest import Secured, secured_config

PRINCIPALS = ("viewer", "editor", "approver", "admin", "fraud-editor", "other-admin", "anonymous")

EVERYONE = frozenset(PRINCIPALS)
READ_SOMEWHERE = EVERYONE - {"anonymous"}  # listings, filtered to what each caller may read
GLOBAL_READ = frozenset({"viewer", "editor", "approver", "admin"})
GLOBAL_ADMIN = frozenset({"admin"})
MODEL_READ = frozenset({"viewer", "editor", "approver", "admin", "fraud-editor"})
MODEL_WRITE = frozenset({"editor", "admin", "fraud-editor"})
MODEL_APPROVE = frozenset({"approver", "admin"})  # approvals, protected aliases and stages


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    fresh: bool = False  # a model of its own (the call may delete or lock what it touches)
    aliases: tuple[str, ...] = ("candidate",)  # what version 1 of a fresh model holds
    label: str = ""


V = "/v1/registries/{registry}/models/{model}/versions/{version}"
M = "/v1/registries/{registry}/models/{model}"
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["mrg.migration.finished"]}

EXPECT: dict[tuple[str, str], list[Case]] = {
    ("GET", "/healthz"): [Case(EVERYONE)],
    # catalog and lineage
    ("GET", "/v1/models"): [Case(READ_SOMEWHERE)],
    ("GET", "/v1/versions"): [Case(READ_SOMEWHERE)],
    ("GET", V + "/lineage"): [Case(MODEL_READ)],
    # registries, audit
    ("GET", "/v1/registries"): [Case(READ_SOMEWHERE)],
    ("GET", "/v1/registries/{registry}"): [Case(MODEL_READ)],
    ("GET", "/v1/audit"): [Case(GLOBAL_ADMIN)],
    # versions and artifacts
    ("GET", V + "/artifacts/{path}"): [Case(MODEL_READ)],
    ("GET", V + "/artifacts"): [Case(MODEL_READ)],
    ("PUT", V + "/approval"): [Case(MODEL_APPROVE, {"status": "APPROVED", "comment": "ok"})],
    ("PUT", V + "/stage"): [Case(MODEL_WRITE, {"stage": "STAGING"}, label="unprotected"),
                            Case(MODEL_APPROVE, {"stage": "PRODUCTION"}, fresh=True, label="protected")],
    ("GET", V): [Case(MODEL_READ)],
    ("PATCH", V): [Case(MODEL_WRITE, {"description": "x"})],
    ("DELETE", V): [Case(MODEL_WRITE, fresh=True, label="unprotected"),
                    Case(GLOBAL_ADMIN, fresh=True, aliases=("champion",), label="holding a protected alias")],
    ("GET", M + "/versions"): [Case(MODEL_READ)],
    ("POST", M + "/versions"): [Case(MODEL_WRITE, {})],
    # aliases
    ("PUT", M + "/aliases/{alias}"): [Case(MODEL_WRITE, {"version": "1"}, {"alias": "candidate"}, label="unprotected"),
                                      Case(MODEL_APPROVE, {"version": "1"}, {"alias": "prod"}, label="protected")],
    ("DELETE", M + "/aliases/{alias}"): [Case(MODEL_WRITE, params={"alias": "candidate"}, fresh=True,
                                              label="unprotected"),
                                         Case(MODEL_APPROVE, params={"alias": "champion"}, fresh=True,
                                              aliases=("champion",), label="protected")],
    # models
    ("GET", "/v1/registries/{registry}/models"): [Case(MODEL_READ)],
    ("POST", "/v1/registries/{registry}/models"): [Case(MODEL_WRITE, {"name": "fraud-new-{uid}"}, label="in scope"),
                                                   Case(GLOBAL_ADMIN | {"editor"}, {"name": "churn-new-{uid}"},
                                                        label="out of scope")],
    ("GET", M): [Case(MODEL_READ)],
    ("PATCH", M): [Case(MODEL_WRITE, {"description": "x"})],
    ("DELETE", M): [Case(MODEL_WRITE, fresh=True, label="unprotected"),
                    Case(GLOBAL_ADMIN, fresh=True, aliases=("champion",), label="holding a protected alias")],
    # migrations
    ("POST", "/v1/migrations"): [Case(GLOBAL_READ, {"source": "local/fraud-none-*", "target": "local"},
                                      query={"dry_run": "true"}, label="dry run"),
                                 Case(GLOBAL_ADMIN, {"source": "local/fraud-none-*", "target": "no-such-registry"},
                                      label="run")],
    ("GET", "/v1/migrations/{job_id}"): [Case(GLOBAL_READ)],
    ("POST", "/v1/migrations/{job_id}/verify"): [Case(GLOBAL_READ)],
    # webhooks
    ("GET", "/v1/webhooks/event-types"): [Case(GLOBAL_READ)],
    ("GET", "/v1/webhooks"): [Case(GLOBAL_ADMIN)],
    ("POST", "/v1/webhooks"): [Case(GLOBAL_ADMIN, HOOK)],
    ("GET", "/v1/webhooks/{webhook_id}"): [Case(GLOBAL_ADMIN)],
    ("DELETE", "/v1/webhooks/{webhook_id}"): [Case(GLOBAL_ADMIN)],
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): [Case(GLOBAL_ADMIN)],
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): [Case(GLOBAL_ADMIN)],
    ("POST", "/v1/webhooks/{webhook_id}/test"): [Case(GLOBAL_ADMIN)],
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): [Case(GLOBAL_ADMIN)],
    # pilots
    ("POST", "/v1/pilots"): [Case(GLOBAL_ADMIN, {"registries": ["no-such-registry"]})],
    ("GET", "/v1/pilots/{pilot_id}"): [Case(GLOBAL_READ)],
    ("GET", "/v1/pilots/{pilot_id}/report.html"): [Case(GLOBAL_READ)],
    # keys
    ("POST", "/v1/keys"): [Case(GLOBAL_ADMIN, {"name": "made-in-test", "role": "viewer"})],
    ("GET", "/v1/keys"): [Case(GLOBAL_ADMIN)],
    ("DELETE", "/v1/keys/{key_id}"): [Case(GLOBAL_ADMIN)],
    # approvals (requests are opened by editor2, so four-eyes never hides a role decision here)
    ("POST", V + "/approval-requests"): [Case(MODEL_WRITE, {"comment": "please"}, fresh=True)],
    ("GET", "/v1/approval-requests"): [Case(READ_SOMEWHERE)],
    ("GET", "/v1/approval-requests/{request_id}"): [Case(MODEL_READ, fresh=True)],
    ("POST", "/v1/approval-requests/{request_id}/approve"): [Case(MODEL_APPROVE, {"comment": "lgtm"}, fresh=True)],
    ("POST", "/v1/approval-requests/{request_id}/reject"): [Case(MODEL_APPROVE, {"comment": "no"}, fresh=True)],
    # promote, rollback, history
    ("POST", M + "/promote"): [
        Case(MODEL_WRITE, {"alias": "candidate", "version": "1"}, label="alias"),
        Case(MODEL_APPROVE, {"alias": "prod", "version": "1"}, label="protected alias"),
        Case(MODEL_WRITE, {"stage": "STAGING", "version": "1"}, label="stage"),
        Case(MODEL_APPROVE, {"stage": "PRODUCTION", "version": "1"}, fresh=True, label="protected stage"),
    ],
    ("POST", M + "/rollback"): [Case(MODEL_WRITE, {"alias": "candidate"}, label="alias"),
                                Case(MODEL_APPROVE, {"alias": "prod"}, label="protected alias")],
    ("GET", "/v1/registries/{registry}/history"): [Case(MODEL_READ, label="registry"),
                                                   Case(MODEL_READ, query={"model": "{model}"}, label="model")],
}


def _app_routes() -> set[tuple[str, str]]:
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        from pathlib import Path

        schema = create_app(secured_config(Path(root))).openapi()  # builds no adapter
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def test_every_route_has_an_expectation() -> None:
    routes = _app_routes()
    missing = sorted(routes - set(EXPECT))
    assert not missing, f"routes with no authorization expectation (add them to EXPECT): {missing}"
    stale = sorted(set(EXPECT) - routes)
    assert not stale, f"expectations for routes that no longer exist: {stale}"


CASES = [(method, path, i, case) for (method, path), cases in EXPECT.items() for i, case in enumerate(cases)]


@pytest.fixture(scope="module")
def shared_model(secured: Secured) -> str:
    name = secured.model(versions=2)
    secured.gateway.adapter("local").set_alias(name, "champion", "1")
    return name


@pytest.fixture(scope="module")
def shared_request(secured: Secured, shared_model: str) -> str:
    """A request that stays open: every call made with it is refused before it could decide it."""
    opened = secured.call("editor2", "POST", f"/v1/registries/local/models/{shared_model}/versions/2/approval-requests",
                          {"comment": "ready"})
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]  # type: ignore[no-any-return]


def _prepare(secured: Secured, path: str, case: Case, model: str, request_id: str,
             allowed: bool) -> tuple[str, Any, dict[str, str]]:
    if case.fresh and allowed:  # a refused call changes nothing, so it can aim at the shared model
        model = secured.model(versions=1)
        adapter = secured.gateway.adapter("local")
        for alias in case.aliases:
            adapter.set_alias(model, alias, "1")
    values = {"registry": "local", "model": model, "version": "1", "path": "model.pkl", "job_id": "nope",
              "webhook_id": "nope", "delivery_id": "nope", "key_id": "nope", "pilot_id": "nope",
              "alias": "candidate", "request_id": request_id} | case.params
    if "{request_id}" in path and case.fresh and allowed:
        opened = secured.call("editor2", "POST", f"/v1/registries/local/models/{model}/versions/1/approval-requests",
                              {"comment": "ready"})
        assert opened.status_code == 201, opened.text
        values["request_id"] = opened.json()["id"]
    url = path.format(**values)
    uid = uuid.uuid4().hex[:8]
    body = case.body
    if isinstance(body, dict):
        body = {k: v.format(uid=uid) if isinstance(v, str) else v for k, v in body.items()}
    query = {k: v.format(model=model) for k, v in case.query.items()}
    return url, body, query


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize(("method", "path", "index", "case"), CASES,
                         ids=[f"{m} {p} {c.label or i}" for m, p, i, c in CASES])
def test_route_authorization(secured: Secured, shared_model: str, shared_request: str, who: str, method: str,
                             path: str, index: int, case: Case) -> None:
    url, body, query = _prepare(secured, path, case, shared_model, shared_request, who in case.allowed)
    response = secured.call(who, method, url, body, params=query)
    if who in case.allowed:
        assert response.status_code != 403 and response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["kind"] == "permission_denied"


def test_listings_show_only_what_the_caller_may_read(secured: Secured) -> None:
    fraud, churn = secured.model("fraud"), secured.model("churn")
    names = {m["name"] for m in secured.call("fraud-editor", "GET", "/v1/registries/local/models").json()["items"]}
    assert fraud in names and churn not in names
    names = {m["name"] for m in secured.call("viewer", "GET", "/v1/registries/local/models").json()["items"]}
    assert {fraud, churn} <= names
    assert secured.call("other-admin", "GET", "/v1/registries").json()["items"] == []


def test_scoped_editor_cannot_touch_another_registry(secured: Secured) -> None:
    response = secured.call("fraud-editor", "POST", "/v1/registries/other-registry/models", {"name": "fraud-x"})
    assert response.status_code == 403
    assert "local" not in response.json()["error"]["message"] or "other-registry" in response.json()["error"]["message"]


def test_config_grant_adds_a_scoped_role(secured: Secured) -> None:
    """risk-lead's stored key says viewer; auth.grants makes it approver on local/fraud-* only."""
    fraud, churn = secured.model("fraud"), secured.model("churn")
    ok = secured.call("risk-lead", "PUT", f"/v1/registries/local/models/{fraud}/versions/1/approval",
                      {"status": "APPROVED"})
    assert ok.status_code == 200 and ok.json()["approval"]["by"] == "risk-lead"
    denied = secured.call("risk-lead", "PUT", f"/v1/registries/local/models/{churn}/versions/1/approval",
                          {"status": "APPROVED"})
    assert denied.status_code == 403
