"""Engine, sessions and schema upgrades for the store.

The schema is created and upgraded by Alembic at open time, so a gateway replica pointed at a
fresh PostgreSQL or an old SQLite file always runs on the current schema.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.models import AuditEvent

MIGRATIONS = Path(__file__).parent / "migrations"
GENESIS = "0" * 64


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (the driver we install)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")  # feature branches of the schema may each add a head


def head_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(cfg).get_heads())


class Store:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        if self.url.startswith("sqlite:///"):
            Path(self.url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # Take SQLite's write lock when a transaction begins, not at its first write, so a
            # read-then-append (the audit chain) cannot interleave with another writer.
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Called inside the audit transaction: rows written here commit with the event or not at all
        # (the webhook outbox uses this so no event is recorded without its deliveries).
        self.on_record: list[Callable[[Session, AuditEvent], None]] = []

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # -- audit ------------------------------------------------------------------------------
    def record(
        self,
        *,
        actor: str,
        action: str,
        registry: str | None = None,
        target: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> AuditEvent:
        """Append one audit event, chained to the last one."""
        with self.session() as session:
            if self.engine.dialect.name == "postgresql":
                # Serialise appenders so two replicas never chain onto the same predecessor.
                session.execute(_pg_lock())
            last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
            at = datetime.now(UTC)
            row = AuditEvent(
                at=at, actor=actor, action=action, registry_name=registry, target=target,
                before=before, after=after, request_id=request_id, prev_hash=last or GENESIS, hash="",
            )
            row.hash = event_hash(row)
            session.add(row)
            session.flush()
            for hook in self.on_record:
                hook(session, row)
        return row

    def audit_events(self, limit: int = 100, after_id: int = 0) -> list[AuditEvent]:
        with self.session() as session:
            rows = session.execute(
                select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id).limit(limit)
            ).scalars()
            return list(rows)

    def verify_audit(self) -> list[str]:
        """Problems found in the chain (edited, deleted or reordered rows); empty when intact."""
        problems: list[str] = []
        prev = GENESIS
        with self.session() as session:
            for row in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
                if row.prev_hash != prev:
                    problems.append(f"event {row.id}: does not follow the previous event (a row was deleted or reordered)")
                if event_hash(row) != row.hash:
                    problems.append(f"event {row.id}: content does not match its hash (the row was edited)")
                prev = row.hash
        return problems


def event_hash(row: AuditEvent) -> str:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    body = json.dumps(
        {
            "prev": row.prev_hash, "at": at.isoformat(), "actor": row.actor, "action": row.action,
            "registry": row.registry_name, "target": row.target, "before": row.before, "after": row.after,
            "request_id": row.request_id,
        },
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _pg_lock() -> Any:
    from sqlalchemy import text

    return text("SELECT pg_advisory_xact_lock(727001)")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
