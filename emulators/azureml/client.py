"""What a user's own process needs to drive the emulator with the official azure-ai-ml SDK.

Three things stand between ``MLClient`` and a local endpoint: a credential that works offline,
trust in the generated CA, and name resolution for the production-style blob host
``{account}.blob.core.localhost`` that azure-ai-ml builds from the cloud's storage endpoint.
Everything here is in-process: no ``/etc/hosts`` edits, no system CA store changes.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from typing import Any

_resolver_lock = threading.Lock()


class OfflineCredential:
    """A ``TokenCredential`` that mints an unsigned JWT locally; the emulator accepts any bearer.

    ``DefaultAzureCredential`` fails at once offline, and azure-identity has no static-token
    credential. The token's ``name`` claim becomes ``systemData.createdBy`` in the emulator.
    """

    def __init__(self, user: str = "Emulator User") -> None:
        self.user = user

    def _token(self) -> tuple[str, int]:
        expires = int(time.time()) + 3600
        def part(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'name': self.user, 'exp': expires})}.x"
        return token, expires

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(*self._token())

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token, expires = self._token()
        return AccessTokenInfo(token, expires)

    def close(self) -> None:
        """Nothing to release; present because ``TokenCredential`` users may call it."""


def enable_localhost_resolution() -> None:
    """Resolve every ``*.localhost`` name to 127.0.0.1 in this process (RFC 6761, section 6.3).

    glibc here does not, so ``devstoreaccount1.blob.core.localhost`` would fail to resolve; curl,
    browsers and systemd-resolved already behave this way. Other names are untouched; idempotent.
    """
    with _resolver_lock:
        current = socket.getaddrinfo
        if getattr(current, "_mrg_localhost", False):
            return

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if isinstance(name, str) and name.lower().rstrip(".").endswith(".localhost"):
                host = "127.0.0.1"
            return current(host, *args, **kwargs)

        getaddrinfo._mrg_localhost = True  # type: ignore[attr-defined]
        socket.getaddrinfo = getaddrinfo


def trust(info: dict[str, Any]) -> None:
    """Point ``requests`` (ARM and blob traffic alike) at the system CAs plus the emulator's CA.

    It must override, not default: many machines preset ``REQUESTS_CA_BUNDLE``. The internal blob
    client azure-ai-ml builds takes no ``connection_verify``, so the environment is the only way in.
    """
    os.environ["REQUESTS_CA_BUNDLE"] = str(info["ca_bundle"])
    enable_localhost_resolution()


def workspace_client(info: dict[str, Any], credential: Any = None, *, workspace: str | None = None, **kwargs: Any):
    """``MLClient`` for a workspace of the emulator described by ``info`` (its announcement)."""
    from azure.ai.ml import MLClient

    trust(info)
    return MLClient(
        credential or OfflineCredential(), info["subscription_id"], info["resource_group"],
        workspace or info["workspace_name"], cloud=info["cloud"], cloud_metadata=info["cloud_metadata"],
        show_progress=False, **kwargs,
    )


def registry_client(info: dict[str, Any], credential: Any = None, *, registry: str | None = None, **kwargs: Any):
    """``MLClient`` for a registry; its constructor already calls the emulator (discovery)."""
    from azure.ai.ml import MLClient

    trust(info)
    return MLClient(
        credential or OfflineCredential(), registry_name=registry or info["registry_name"], cloud=info["cloud"],
        cloud_metadata=info["cloud_metadata"], show_progress=False, **kwargs,
    )
