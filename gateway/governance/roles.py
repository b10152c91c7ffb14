"""Roles scoped by registry and model globs: pure decisions, no I/O.

A principal holds grants: a role on the registries matching one glob and the models matching
another. A key or token's own role is a grant on ``*``/``*``; config grants add scoped ones.
Checks name the action, the registry and the model, so an editor of ``sm-dev/fraud-*`` can
write there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "write"}),
    "approver": frozenset({"read", "approve"}),
    "admin": frozenset({"read", "write", "approve", "admin"}),
}
# The permission that distinguishes each role: "required_role: approver" means "may approve".
ROLE_PERMISSION = {"viewer": "read", "editor": "write", "approver": "approve", "admin": "admin"}
EVERYWHERE = "*"


@dataclass(frozen=True)
class Grant:
    role: str
    registry: str = EVERYWHERE
    model: str = EVERYWHERE

    @property
    def is_global(self) -> bool:
        return self.registry == EVERYWHERE and self.model == EVERYWHERE

    def covers(self, action: str, registry: str | None, model: str | None) -> bool:
        """``None`` for registry or model asks "anywhere inside": any model of that registry."""
        if action not in ROLE_ACTIONS.get(self.role, frozenset()):
            return False
        if registry is not None and not fnmatchcase(registry, self.registry):
            return False
        return model is None or fnmatchcase(model, self.model)

    def describe(self) -> str:
        return self.role if self.is_global else f"{self.role} on {self.registry}/{self.model}"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``groups`` are the values of a token's roles claim."""

    name: str
    grants: tuple[Grant, ...] = ()
    groups: frozenset[str] = field(default_factory=frozenset)
    via: str = "key"  # key | stored-key | token | anonymous | cli

    @property
    def role(self) -> str | None:
        """The strongest global role, kept for callers that only know one role per principal."""
        for role in ("admin", "approver", "editor", "viewer"):
            if any(g.role == role and g.is_global for g in self.grants):
                return role
        return None

    def can(self, action: str, registry: str | None = None, model: str | None = None) -> bool:
        return any(g.covers(action, registry, model) for g in self.grants)

    def can_globally(self, action: str) -> bool:
        return any(g.is_global and action in ROLE_ACTIONS.get(g.role, frozenset()) for g in self.grants)

    def describe(self) -> str:
        return ", ".join(g.describe() for g in self.grants) or "no role"


@dataclass(frozen=True)
class ConfiguredGrant:
    """One ``auth.grants`` entry: a grant for a principal name, a ``group:<value>`` or ``*``."""

    who: str
    grant: Grant

    def applies_to(self, name: str, groups: Iterable[str]) -> bool:
        if self.who == EVERYWHERE:
            return True
        if self.who.startswith("group:"):
            return self.who[len("group:"):] in set(groups)
        return self.who == name


def grants_for(name: str, own: Iterable[Grant], groups: Iterable[str],
               configured: Iterable[ConfiguredGrant]) -> tuple[Grant, ...]:
    """A principal's own grants plus every configured grant naming it or one of its groups."""
    groups = list(groups)
    out = list(own)
    out += [c.grant for c in configured if c.applies_to(name, groups) and c.grant not in out]
    return tuple(out)


def is_protected(name: str, patterns: Iterable[str]) -> bool:
    """Protected aliases (globs) and stages: moving them needs the approve permission."""
    return any(fnmatchcase(name, p) or fnmatchcase(name.lower(), p.lower()) for p in patterns)
