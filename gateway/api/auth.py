"""Who is calling, and may they do this?

API keys are never stored in clear: ``MRG_API_KEYS`` (or the variable the config names) holds
``name:role:sha256hex`` entries, and a presented key is hashed and compared in constant time.
Requests without credentials get the configured anonymous role, or are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from fastapi import Request

from gateway.config import ROLES, AuthConfig
from mapping.errors import InvalidInput, PermissionDenied

# What each role may do. Approvers approve but do not edit; editors edit but do not approve.
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "write"}),
    "approver": frozenset({"read", "approve"}),
    "admin": frozenset({"read", "write", "approve", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def can(self, action: str) -> bool:
        return action in GRANTS.get(self.role, frozenset())


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: str
    sha256: str


def parse_api_keys(raw: str) -> list[ApiKey]:
    keys = []
    for i, entry in enumerate(filter(None, (e.strip() for e in raw.split(",")))):
        parts = entry.split(":")
        if len(parts) != 3 or parts[1] not in ROLES or len(parts[2]) != 64:
            raise InvalidInput(f"api keys: entry {i + 1} must be name:role:sha256hex with role in {', '.join(ROLES)}")
        keys.append(ApiKey(name=parts[0], role=parts[1], sha256=parts[2].lower()))
    return keys


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Authenticator:
    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        raw = os.environ.get(config.api_keys_env, "") if config.api_keys_env else ""
        self.keys = parse_api_keys(raw)

    def identify(self, request: Request) -> Principal:
        presented = _presented_key(request)
        if presented is None:
            if self.config.anonymous_role is None:
                raise PermissionDenied("authentication required: send 'Authorization: Bearer <api key>'")
            return Principal(name="anonymous", role=self.config.anonymous_role)
        digest = hash_key(presented)
        match = None
        for key in self.keys:  # compare against every key: timing says nothing about which matched
            if hmac.compare_digest(digest, key.sha256):
                match = key
        if match is None:
            raise PermissionDenied("invalid API key")
        return Principal(name=match.name, role=match.role)


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def require(principal: Principal, action: str) -> None:
    if not principal.can(action):
        raise PermissionDenied(f"role {principal.role!r} of {principal.name!r} may not {action}")
