"""Who is calling, and may they do this here?

Three kinds of credentials, all sent as ``Authorization: Bearer <credential>`` (or
``X-API-Key``):

* keys created through the gateway (``mrg keys create``, ``POST /v1/keys``): ``mrg_<id>_<secret>``,
  stored only as sha256, each with a role scoped by registry and model globs;
* keys from the environment (``MRG_API_KEYS``: ``name:role:sha256hex`` entries), global roles;
* OIDC JWTs (``auth.oidc``): signature, issuer, audience and expiry checked; the subject names
  the caller, role names in the roles claim grant those roles everywhere, and every value of
  the claim can match ``group:<value>`` grants in ``auth.grants``.

Hashes are compared in constant time. Requests without credentials get ``auth.anonymous_role``
or are refused. Roles are checked for the registry and model a request touches (``require``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from gateway.config import ROLES, AuthConfig
from gateway.governance.keys import KeyStore, hash_key
from gateway.governance.oidc import looks_like_jwt
from gateway.governance.roles import ROLE_ACTIONS, ConfiguredGrant, Grant, Principal, grants_for, is_protected
from mapping.errors import InvalidInput, PermissionDenied

# What each role may do. Approvers approve but do not edit; editors edit but do not approve.
GRANTS = ROLE_ACTIONS

__all__ = ["GRANTS", "ApiKey", "Authenticator", "Principal", "hash_key", "parse_api_keys", "pointer_action",
           "require", "require_somewhere"]


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


class Authenticator:
    def __init__(self, config: AuthConfig) -> None:
        import os

        self.config = config
        raw = os.environ.get(config.api_keys_env, "") if config.api_keys_env else ""
        self.keys = parse_api_keys(raw)
        self.configured = [ConfiguredGrant(who=g.who, grant=Grant(role=g.role, registry=g.registry, model=g.model))
                           for g in config.grants]
        self.tokens = None
        if config.oidc is not None:
            from gateway.governance.oidc import TokenVerifier

            self.tokens = TokenVerifier(config.oidc)

    def identify(self, request: Request) -> Principal:
        presented = _presented_credential(request)
        if presented is None:
            if self.config.anonymous_role is None:
                raise PermissionDenied("authentication required: send 'Authorization: Bearer <api key or token>'")
            return Principal(name="anonymous", grants=(Grant(role=self.config.anonymous_role),), via="anonymous")
        store = request.app.state.gateway.store
        return self.authenticate(presented, store)

    def authenticate(self, presented: str, store: Any) -> Principal:
        """The principal behind a key or token; PermissionDenied (never echoing it) otherwise."""
        if self.tokens is not None and looks_like_jwt(presented):
            identity = self.tokens.verify(presented)
            own = [Grant(role=r) for r in identity.roles if r in ROLES]
            return self._principal(identity.subject, own, identity.roles, via="token")
        stored = KeyStore(store).verify(presented)
        if stored is not None:
            return self._principal(stored.name, [stored.grant], (), via="stored-key")
        digest = hash_key(presented)
        match = None
        for key in self.keys:  # compare against every key: timing says nothing about which matched
            if hmac.compare_digest(digest, key.sha256):
                match = key
        if match is None:
            raise PermissionDenied("invalid API key or token")
        return self._principal(match.name, [Grant(role=match.role)], (), via="key")

    def _principal(self, name: str, own: list[Grant], groups: tuple[str, ...], via: str) -> Principal:
        grants = grants_for(name, own, groups, self.configured)
        return Principal(name=name, grants=grants, groups=frozenset(groups), via=via)


def _presented_credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def require(principal: Principal, action: str, registry: str | None = None, model: str | None = None) -> None:
    """Refuse unless ``principal`` may ``action`` there.

    No registry: the action must be granted everywhere (audit, keys, migrations). A registry
    without a model: anywhere inside that registry (its listings, filtered per model). Both:
    exactly that model.
    """
    allowed = principal.can(action, registry, model) if registry is not None else principal.can_globally(action)
    if not allowed:
        where = "everywhere" if registry is None else (f"{registry}/{model}" if model is not None else registry)
        raise PermissionDenied(f"{principal.name!r} ({principal.describe()}) may not {action} on {where}",
                               registry=registry, details={"action": action, "model": model})


def require_somewhere(principal: Principal, action: str) -> None:
    """For listings across registries: some grant must allow ``action``; callers filter the rest."""
    if not any(action in ROLE_ACTIONS.get(g.role, frozenset()) for g in principal.grants):
        raise PermissionDenied(f"{principal.name!r} ({principal.describe()}) may not {action} anywhere",
                               details={"action": action})


def pointer_action(config: AuthConfig, *, alias: str | None = None, stages: Iterable[str] = (),
                   aliases: Iterable[str] = ()) -> str:
    """The permission needed to move (or delete the holder of) aliases and stages: protected
    ones need ``approve``, everything else ``write``."""
    if any(is_protected(a, config.protected_aliases) for a in [*aliases, *([alias] if alias else [])]):
        return "approve"
    if any(is_protected(s, [p.value for p in config.protected_stages]) for s in stages):
        return "approve"
    return "write"
