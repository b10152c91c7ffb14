"""Roles on every mutating route; keys hashed; anonymous access only when configured.

The full matrix (every route x every role x scopes) is in tests/governance/test_authorization.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api import create_app
from gateway.api.auth import hash_key
from tests.gateway.conftest import mlflow_config

KEYS = {"viewer": "k-view-123", "editor": "k-edit-456", "approver": "k-appr-789", "admin": "k-admin-000"}
BASE = "/v1/registries/local"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("secured")
    env = ",".join(f"{role}-user:{role}:{hash_key(key)}" for role, key in KEYS.items())
    mp = pytest.MonkeyPatch()
    mp.setenv("MRG_API_KEYS", env)
    try:
        with TestClient(create_app(mlflow_config(root, anonymous_role=None))) as c:
            c.post(f"{BASE}/models", json={"name": "secured"}, headers=_auth("admin"))
            c.post(f"{BASE}/models/secured/versions", json={}, headers=_auth("admin"))
            yield c
    finally:
        mp.undo()


def _auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


ROUTES = [
    ("get", f"{BASE}/models", None, "read"),
    ("post", f"{BASE}/models", {"name": "made-by-{role}"}, "write"),
    ("patch", f"{BASE}/models/secured", {"description": "x"}, "write"),
    ("post", f"{BASE}/models/secured/versions", {}, "write"),
    ("put", f"{BASE}/models/secured/aliases/candidate", {"version": "1"}, "write"),
    ("put", f"{BASE}/models/secured/aliases/prod", {"version": "1"}, "approve"),  # protected alias
    ("put", f"{BASE}/models/secured/versions/1/stage", {"stage": "STAGING"}, "write"),
    ("put", f"{BASE}/models/secured/versions/1/approval", {"status": "APPROVED"}, "approve"),
    ("get", "/v1/audit", None, "admin"),
]
ALLOWED = {"viewer": {"read"}, "editor": {"read", "write"}, "approver": {"read", "approve"},
           "admin": {"read", "write", "approve", "admin"}}


@pytest.mark.parametrize("role", list(KEYS))
@pytest.mark.parametrize(("method", "path", "body", "action"), ROUTES)
def test_role_matrix(secured: TestClient, role: str, method: str, path: str, body: dict | None, action: str) -> None:  # type: ignore[type-arg]
    if body and "name" in body:
        body = {"name": body["name"].format(role=role)}
    response = secured.request(method, path, json=body, headers=_auth(role))
    if action in ALLOWED[role]:
        assert response.status_code < 400, response.text
    else:
        assert response.status_code == 403
        assert response.json()["error"]["kind"] == "permission_denied"


def test_anonymous_is_refused_when_not_configured(secured: TestClient) -> None:
    response = secured.get(f"{BASE}/models")
    assert response.status_code == 403
    assert "authentication required" in response.json()["error"]["message"]


def test_wrong_key_is_refused_without_echoing_it(secured: TestClient) -> None:
    response = secured.get(f"{BASE}/models", headers={"Authorization": "Bearer not-a-key-abc"})
    assert response.status_code == 403 and "not-a-key-abc" not in response.text


def test_healthz_needs_no_credentials(secured: TestClient) -> None:
    assert secured.get("/healthz").status_code == 200


def test_approval_records_the_authenticated_approver(secured: TestClient) -> None:
    response = secured.put(f"{BASE}/models/secured/versions/1/approval",
                           json={"status": "REJECTED", "comment": "bias"}, headers=_auth("approver"))
    assert response.json()["approval"]["by"] == "approver-user"
    assert response.json()["approval"]["comment"] == "bias"
