"""Who is calling: OIDC tokens (JWKS or a static key), keys created through the gateway, env keys."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import text

from gateway.api import create_app
from gateway.config import GrantConfig, OidcConfig
from tests.governance.conftest import Secured, secured_config

ISSUER, AUDIENCE = "https://idp.example.test/", "mrg"


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNER, STRANGER = _rsa(), _rsa()


def token(key: rsa.RSAPrivateKey = SIGNER, kid: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice@example.test", "exp": now + 300, "iat": now,
              "roles": ["editor"]} | overrides
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="module")
def oidc_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("oidc")
    pem = root / "idp.pem"
    pem.write_bytes(SIGNER.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    config = secured_config(
        root, oidc=OidcConfig(issuer=ISSUER, audience=AUDIENCE, public_key_file=str(pem), roles_claim="roles"),
        grants=[GrantConfig(who="group:risk-team", role="approver", registry="local", model="fraud-*")])
    with TestClient(create_app(config)) as client:
        yield client


def test_a_valid_token_maps_subject_and_roles(oidc_client: TestClient) -> None:
    made = oidc_client.post("/v1/registries/local/models", json={"name": "fraud-oidc"}, headers=_bearer(token()))
    assert made.status_code == 201, made.text
    audit = oidc_client.get("/v1/audit", headers=_bearer(token(roles=["admin"]))).json()["items"]
    assert audit[-1]["actor"] == "alice@example.test"


@pytest.mark.parametrize(("claims", "why"), [
    ({"iss": "https://evil.example.test/"}, "wrong issuer"),
    ({"aud": "someone-else"}, "wrong audience"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"exp": None}, "missing the 'exp' claim"),
    ({"sub": None}, "'sub' claim is missing"),
])
def test_tokens_failing_a_check_are_refused_with_the_reason(oidc_client: TestClient, claims: dict, why: str) -> None:  # type: ignore[type-arg]
    bad = token(**claims)
    response = oidc_client.get("/v1/registries/local/models", headers=_bearer(bad))
    assert response.status_code == 403 and why in response.json()["error"]["message"]
    assert bad not in response.text


def test_a_token_signed_by_another_key_is_refused(oidc_client: TestClient) -> None:
    response = oidc_client.get("/v1/registries/local/models", headers=_bearer(token(STRANGER)))
    assert response.status_code == 403 and "bad signature" in response.json()["error"]["message"]


def test_an_unsigned_or_hmac_token_is_refused(oidc_client: TestClient) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 60, "roles": ["admin"]}
    for forged in (jwt.encode(claims, None, algorithm="none"), jwt.encode(claims, "x" * 32, algorithm="HS256")):
        assert oidc_client.get("/v1/audit", headers=_bearer(forged)).status_code == 403


def test_roles_claim_values_match_group_grants(oidc_client: TestClient) -> None:
    """A token with roles ["risk-team"] approves local/fraud-* through auth.grants, nothing else."""
    admin = _bearer(token(roles=["admin"]))
    for name in ("fraud-grp", "churn-grp"):
        oidc_client.post("/v1/registries/local/models", json={"name": name}, headers=admin)
        oidc_client.post(f"/v1/registries/local/models/{name}/versions", json={}, headers=admin)
    team = _bearer(token(sub="bob@example.test", roles=["risk-team"]))
    ok = oidc_client.put("/v1/registries/local/models/fraud-grp/versions/1/approval", json={"status": "APPROVED"},
                         headers=team)
    assert ok.status_code == 200 and ok.json()["approval"]["by"] == "bob@example.test"
    assert oidc_client.put("/v1/registries/local/models/churn-grp/versions/1/approval", json={"status": "APPROVED"},
                           headers=team).status_code == 403
    assert oidc_client.post("/v1/registries/local/models", json={"name": "fraud-x"}, headers=team).status_code == 403


class _Jwks(BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(SIGNER.public_key()))
    _Jwks.body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def test_jwks_keys_are_fetched_once_and_cached(tmp_path: Path, jwks_url: str) -> None:
    config = secured_config(tmp_path, oidc=OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url))
    with TestClient(create_app(config)) as client:
        before = _Jwks.hits
        for _ in range(3):
            assert client.get("/v1/registries", headers=_bearer(token(kid="k1")), params={"health": False}).status_code == 200
        assert _Jwks.hits - before == 1
        unknown = client.get("/v1/registries", headers=_bearer(token(STRANGER, kid="rotated-away")))
        assert unknown.status_code == 403 and "does not publish" in unknown.json()["error"]["message"]


def test_oidc_config_refuses_symmetric_algorithms_and_two_key_sources() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not allowed"):
        OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url="http://x", algorithms=["HS256"])
    with pytest.raises(ValidationError, match="exactly one"):
        OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url="http://x", public_key_env="PEM")


# -- keys created through the gateway -------------------------------------------------------------------
def test_a_created_key_works_is_shown_once_and_stored_only_hashed(secured: Secured) -> None:
    created = secured.call("admin", "POST", "/v1/keys", {"name": "ci-deployer", "role": "editor",
                                                         "registry": "local", "model": "fraud-*"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    clear = created.json()["key"]
    secured.credentials["ci-deployer"] = clear
    assert secured.call("ci-deployer", "POST", "/v1/registries/local/models", {"name": "fraud-ci"}).status_code == 201
    assert secured.call("ci-deployer", "POST", "/v1/registries/local/models", {"name": "churn-ci"}).status_code == 403

    listed = secured.call("admin", "GET", "/v1/keys").text
    assert clear not in listed and "sha256" not in listed
    with secured.gateway.store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM api_keys"))]
        audit = [tuple(r) for r in conn.execute(text("SELECT * FROM audit_events"))]
    assert not any(clear in str(row) for row in rows + audit)
    from gateway.api.auth import hash_key

    assert any(hash_key(clear) in row for row in rows)


def test_a_revoked_key_is_refused_and_a_tampered_one_never_works(secured: Secured) -> None:
    created = secured.call("admin", "POST", "/v1/keys", {"name": "temp", "role": "viewer"}).json()
    secured.credentials["temp"] = created["key"]
    assert secured.call("temp", "GET", "/v1/registries", params={"health": False}).status_code == 200
    secured.credentials["tampered"] = created["key"][:-4] + "AAAA"
    assert secured.call("tampered", "GET", "/v1/registries").status_code == 403
    assert secured.call("admin", "DELETE", f"/v1/keys/{created['id']}").json()["revoked_at"] is not None
    refused = secured.call("temp", "GET", "/v1/registries")
    assert refused.status_code == 403 and created["key"] not in refused.text
    assert created["id"] not in {k["id"] for k in secured.call("admin", "GET", "/v1/keys").json()["items"]}


def test_key_creation_names_the_bad_field(secured: Secured) -> None:
    response = secured.call("admin", "POST", "/v1/keys", {"name": "x", "role": "superuser"})
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "role"


def test_anonymous_role_when_configured(tmp_path: Path) -> None:
    with TestClient(create_app(secured_config(tmp_path, anonymous_role="viewer"))) as client:
        assert client.get("/v1/registries", params={"health": False}).status_code == 200
        assert client.post("/v1/registries/local/models", json={"name": "anon"}).status_code == 403


def test_an_unreachable_identity_provider_is_a_503_not_a_denial(tmp_path: Path) -> None:
    config = secured_config(tmp_path, oidc=OidcConfig(issuer=ISSUER, audience=AUDIENCE,
                                                      jwks_url="http://127.0.0.1:9/jwks.json"))
    with TestClient(create_app(config)) as client:
        response = client.get("/v1/registries", headers=_bearer(token(kid="k1")))
        assert response.status_code == 503 and response.json()["error"]["retryable"] is True
