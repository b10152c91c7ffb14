"""``/v1/migrations``: plan (dry run), start, follow and verify migrations over HTTP.

A started job runs in a background thread of this process and is journaled in the store, so
its progress is readable from any replica and ``mrg migrate resume`` continues it anywhere.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.auth import require
from gateway.api.routes import Caller, GatewayDep
from gateway.migration.journal import Journal
from gateway.migration.plan import MigrationPlan
from gateway.migration.runner import Migrator
from gateway.migration.verify import verify_job

router = APIRouter(prefix="/v1/migrations", tags=["migrations"])


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=500, description="<registry>[/<model glob>]")
    target: str = Field(min_length=1, max_length=64)
    versions: str = Field(default="all", max_length=200)
    rename: str | None = Field(default=None, max_length=500)
    preserve_numbers: bool = False
    workers: int = Field(default=4, ge=1, le=64)
    job_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class MigrationStatus(BaseModel):
    job_id: str
    state: str
    source: str
    target: str
    items: dict[str, int]
    bytes: int
    report: dict[str, Any] | None = None


@router.post("", response_model=MigrationStatus | MigrationPlan, status_code=202)
def start_migration(body: MigrationRequest, gw: GatewayDep, who: Caller,
                    dry_run: Annotated[bool, Query(description="plan only; nothing is written")] = False) -> Any:
    require(who, "read" if dry_run else "admin")
    migrator = Migrator(gw, workers=body.workers)
    plan = migrator.plan(body.source, body.target, versions=body.versions, rename=body.rename)
    if dry_run:
        return JSONResponse(plan.model_dump(mode="json"), status_code=200)
    job_id = migrator.create_job(plan, actor=who.name, job_id=body.job_id, preserve_numbers=body.preserve_numbers)
    threading.Thread(target=migrator.run, args=(job_id,), name=f"mrg-migration-{job_id}", daemon=True).start()
    return _status(gw, job_id)


@router.get("/{job_id}", response_model=MigrationStatus)
def migration_status(job_id: str, gw: GatewayDep, who: Caller) -> MigrationStatus:
    require(who, "read")
    return _status(gw, job_id)


@router.post("/{job_id}/verify")
def verify_migration(job_id: str, gw: GatewayDep, who: Caller) -> dict[str, Any]:
    require(who, "read")
    return verify_job(gw, job_id)


def _status(gw: Any, job_id: str) -> MigrationStatus:
    journal = Journal(gw.store)
    job = journal.job(job_id)
    return MigrationStatus(job_id=job.id, state=job.state, source=job.source, target=job.target,
                           items=journal.counts(job_id), bytes=journal.bytes_copied(job_id), report=job.report)



