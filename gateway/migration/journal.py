"""The migration journal: jobs and their per-version items, in the gateway's store.

Every state change is committed before the next step starts, so a process killed at any
point (kill -9 included) leaves a journal that ``resume`` continues from; the provenance
marker on each created version covers the window between creating it and journaling it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from gateway.store import Store
from gateway.store.models import MigrationItem, MigrationJob
from mapping.errors import NotFound

# Item states.
PENDING = "pending"
CREATED = "created"  # exists on the target (created now, or found by its provenance marker)
FAILED = "failed"
# Job states.
RUNNING = "running"
SUCCEEDED = "succeeded"
JOB_FAILED = "failed"
PLANNED = "planned"


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create_job(self, job_id: str, *, source: str, target: str, options: dict[str, Any], actor: str,
                   items: list[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        with self.store.session() as s:
            if s.get(MigrationJob, job_id) is not None:
                raise NotFound(f"job: {job_id!r} exists already; use `mrg migrate resume {job_id}`", field="job_id")
            s.add(MigrationJob(id=job_id, created_at=now, updated_at=now, source=source, target=target,
                               options=options, state=PLANNED, actor=actor))
            s.flush()
            for seq, item in enumerate(items):
                s.add(MigrationItem(job_id=job_id, seq=seq, state=PENDING, bytes_copied=0, attempts=0, **item))

    def job(self, job_id: str) -> MigrationJob:
        with self.store.session() as s:
            job = s.get(MigrationJob, job_id)
            if job is None:
                raise NotFound(f"job: no migration {job_id!r}", field="job_id")
            s.expunge(job)
            return job

    def items(self, job_id: str) -> list[MigrationItem]:
        with self.store.session() as s:
            rows = list(s.execute(select(MigrationItem).where(MigrationItem.job_id == job_id)
                                  .order_by(MigrationItem.seq)).scalars())
            for row in rows:
                s.expunge(row)
            return rows

    def set_job(self, job_id: str, **values: Any) -> None:
        with self.store.session() as s:
            s.execute(update(MigrationJob).where(MigrationJob.id == job_id)
                      .values(updated_at=datetime.now(UTC), **values))

    def set_item(self, job_id: str, seq: int, **values: Any) -> None:
        with self.store.session() as s:
            s.execute(update(MigrationItem).where(MigrationItem.job_id == job_id, MigrationItem.seq == seq)
                      .values(**values))

    def counts(self, job_id: str) -> dict[str, int]:
        with self.store.session() as s:
            rows = s.execute(select(MigrationItem.state, func.count()).where(MigrationItem.job_id == job_id)
                             .group_by(MigrationItem.state)).all()
            return {state: int(n) for state, n in rows}

    def bytes_copied(self, job_id: str) -> int:
        with self.store.session() as s:
            total = s.execute(select(func.coalesce(func.sum(MigrationItem.bytes_copied), 0))
                              .where(MigrationItem.job_id == job_id)).scalar()
            return int(total or 0)

    def jobs(self, limit: int = 50) -> list[MigrationJob]:
        with self.store.session() as s:
            rows = list(s.execute(select(MigrationJob).order_by(MigrationJob.created_at.desc()).limit(limit)).scalars())
            for row in rows:
                s.expunge(row)
            return rows
