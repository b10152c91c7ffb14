"""API keys created through the gateway: made, listed and revoked by an admin.

A key is ``mrg_<id>_<secret>`` with 256 random bits of secret. Only sha256 of the whole key is
stored: the secret is random, so a fast hash is enough (no dictionary to attack), and the clear
key is returned once, to the admin who created it, and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from gateway.config import ROLES
from gateway.governance.roles import Grant
from gateway.governance.tables import ApiKeyRow
from gateway.store import Store
from mapping.errors import InvalidInput, NotFound

PREFIX = "mrg_"
_SHAPE = re.compile(r"^mrg_(?P<id>[0-9a-f]{12})_[A-Za-z0-9_-]{20,}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(key id, clear key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(presented: str) -> str | None:
    """The id part of a stored-key-shaped string, or None for anything else (e.g. env keys)."""
    match = _SHAPE.match(presented)
    return match.group("id") if match else None


@dataclass(frozen=True)
class StoredKey:
    id: str
    name: str
    role: str
    registry: str
    model: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def grant(self) -> Grant:
        return Grant(role=self.role, registry=self.registry, model=self.model)

    def public(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role, "registry": self.registry, "model": self.model,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def _stored(row: ApiKeyRow) -> StoredKey:
    return StoredKey(id=row.id, name=row.name, role=row.role, registry=row.registry_glob, model=row.model_glob,
                     created_at=_utc(row.created_at), created_by=row.created_by,
                     revoked_at=_utc(row.revoked_at) if row.revoked_at else None)


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the gateway shows is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class KeyStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, *, name: str, role: str, created_by: str, registry: str = "*",
               model: str = "*") -> tuple[StoredKey, str]:
        """The new key's record and its clear text (the only time it exists outside the caller)."""
        if not name.strip() or len(name) > 255:
            raise InvalidInput("name: give the key a name of 1-255 characters", field="name")
        if role not in ROLES:
            raise InvalidInput(f"role: must be one of {', '.join(ROLES)}", field="role")
        key_id, clear = new_key()
        row = ApiKeyRow(id=key_id, name=name, role=role, registry_glob=registry or "*", model_glob=model or "*",
                        sha256=hash_key(clear), created_at=datetime.now(UTC), created_by=created_by)
        with self.store.session() as session:
            session.add(row)
        return _stored(row), clear

    def list(self, include_revoked: bool = False) -> list[StoredKey]:
        with self.store.session() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
            if not include_revoked:
                query = query.where(ApiKeyRow.revoked_at.is_(None))
            return [_stored(r) for r in session.execute(query).scalars()]

    def revoke(self, key_id: str, *, revoked_by: str) -> StoredKey:
        with self.store.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"key: no key with id {key_id!r}", field="key_id")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
                row.revoked_by = revoked_by
            return _stored(row)

    def verify(self, presented: str) -> StoredKey | None:
        """The live key matching ``presented``, compared in constant time; None if none does."""
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        with self.store.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                hmac.compare_digest(hash_key(presented), "0" * 64)  # same work whether or not the id exists
                return None
            if not hmac.compare_digest(hash_key(presented), row.sha256):
                return None
            return _stored(row)
