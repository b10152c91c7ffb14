"""A secured gateway over a real in-process MLflow registry, with principals of every kind.

Global roles come from ``MRG_API_KEYS`` (the environment keys), scoped ones from keys stored
through the gateway and from ``auth.grants``, so the tests cover every source of a grant.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api import create_app
from gateway.api.auth import hash_key
from gateway.config import ApprovalPolicyConfig, AuthConfig, GatewayConfig, GrantConfig, RegistryConfig
from gateway.governance.keys import KeyStore

GLOBAL_KEYS = {"viewer": "k-view-123", "editor": "k-edit-456", "approver": "k-appr-789", "admin": "k-admin-000",
               "approver2": "k-appr-222", "editor2": "k-edit-222"}
ROLE_OF = {"viewer": "viewer", "editor": "editor", "approver": "approver", "admin": "admin", "approver2": "approver",
           "editor2": "editor"}
BASE = "/v1/registries/local"


@functools.cache
def _mlflow_template() -> Path:
    """An initialised, empty MLflow database: copying it saves MLflow's seconds-long schema set-up."""
    from adapters.registry import create_adapter

    root = Path(tempfile.mkdtemp(prefix="mrg-mlflow-template-"))
    atexit.register(shutil.rmtree, root, True)
    adapter = create_adapter("template", "mlflow", {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"})
    adapter.list_models()
    adapter.close()
    return root / "mlflow.db"


def secured_config(root: Path, *, database_url: str | None = None, **auth: Any) -> GatewayConfig:
    if not (root / "mlflow.db").exists():
        shutil.copy(_mlflow_template(), root / "mlflow.db")
    defaults: dict[str, Any] = {
        "anonymous_role": None,
        "grants": [GrantConfig(who="risk-lead", role="approver", registry="local", model="fraud-*")],
        "approval_policies": [ApprovalPolicyConfig(model="gated-*", approvers=2, gate_protected=True)],
    }
    return GatewayConfig(
        data_dir=str(root), database_url=database_url,
        auth=AuthConfig(**(defaults | auth)),
        registries={"local": RegistryConfig(kind="mlflow", tracking_uri=f"sqlite:///{root / 'mlflow.db'}",  # type: ignore[arg-type]
                                            artifact_location=str(root / "artifacts"))},
    )


@dataclass
class Secured:
    """The running app plus a bearer credential per principal name."""

    client: TestClient
    credentials: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials[who]}"} if who != "anonymous" else {}

    def call(self, who: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.request(method, path, json=body, headers=self.headers(who), **kw)

    @property
    def gateway(self) -> Any:
        return self.client.app.state.gateway  # type: ignore[attr-defined]

    def model(self, prefix: str = "fraud", versions: int = 1) -> str:
        """A fresh model with ``versions`` versions, made directly on the registry (fast, unaudited)."""
        from mapping.schema import VersionSpec

        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        adapter = self.gateway.adapter("local")
        adapter.create_model(name)
        for _ in range(versions):
            adapter.create_version(name, VersionSpec())
        return name


def start_secured(root: Path, database_url: str | None = None, **auth: Any) -> Iterator[Secured]:
    env = ",".join(f"{who}-user:{ROLE_OF[who]}:{hash_key(key)}" for who, key in GLOBAL_KEYS.items())
    mp = pytest.MonkeyPatch()
    mp.setenv("MRG_API_KEYS", env)
    try:
        with TestClient(create_app(secured_config(root, database_url=database_url, **auth))) as client:
            secured = Secured(client=client, credentials=dict(GLOBAL_KEYS))
            keys = KeyStore(client.app.state.gateway.store)  # type: ignore[attr-defined]
            for who, role, registry, model in (("fraud-editor", "editor", "local", "fraud-*"),
                                               ("other-admin", "admin", "other-*", "*"),
                                               ("risk-lead", "viewer", "*", "*")):
                secured.credentials[who] = keys.create(name=who, role=role, registry=registry, model=model,
                                                       created_by="test")[1]
            yield secured
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """One app per worker (MLflow's first start costs seconds); each test makes its own models."""
    yield from start_secured(tmp_path_factory.mktemp("governance"))
