"""Which version held which alias or stage when, and who moved it (MLflow #2169, #6180).

Every audited write is handed to ``HistoryRecorder.on_mutation``; the alias and stage moves are
read off its before/after snapshots (a pure diff, so any write path that snapshots a model or a
version lands here: ``PUT …/aliases``, ``PUT …/stage``, promote, rollback, version deletes) and
stored one row per move. The timeline of one alias or stage and the change a rollback should
undo are computed from those rows, without I/O.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from gateway.core import Mutation
from gateway.governance.tables import PointerChangeRow
from gateway.store import Store
from mapping.errors import Conflict
from mapping.schema import MrgUri

log = logging.getLogger("mrg.governance.history")
ALIAS, STAGE = "alias", "stage"
ROLLBACK = "rollback"


@dataclass(frozen=True)
class PointerChange:
    """``alias``: ``version`` now holds ``name`` (None: removed), ``previous`` held it.
    ``stage``: ``version`` moved from stage ``previous`` to stage ``name``."""

    model: str
    kind: str
    name: str
    version: str | None
    previous: str | None


# -- pure: what a write moved ----------------------------------------------------------------------
def changes_from(target: str | None, before: Any, after: Any) -> list[PointerChange]:
    """The alias and stage moves between two snapshots of a model, a version or a promotion."""
    model = _model_of(before) or _model_of(after) or _model_from_target(target)
    if model is None:
        return []
    b, a = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    changes: list[PointerChange] = []
    if _is_version(b) or _is_version(a):
        version = str((b or a)["version"])
        b_aliases = {x: version for x in b.get("aliases", [])}
        a_aliases = {x: version for x in a.get("aliases", [])}
        changes += _alias_diff(model, b_aliases, a_aliases, only_removals=not a)
        b_stage, a_stage = b.get("stage") or "NONE", a.get("stage") or "NONE"
        if b_stage != a_stage:
            changes.append(PointerChange(model, STAGE, a_stage, version, b_stage))
        return changes
    if isinstance(b.get("aliases"), dict) or isinstance(a.get("aliases"), dict):
        changes += _alias_diff(model, b.get("aliases") or {}, a.get("aliases") or {})
    if isinstance(b.get("stages"), dict) or isinstance(a.get("stages"), dict):
        b_stages, a_stages = b.get("stages") or {}, a.get("stages") or {}
        for version in sorted(set(b_stages) | set(a_stages), key=_ordinal_key):
            if b_stages.get(version) != a_stages.get(version) and version in a_stages:
                changes.append(PointerChange(model, STAGE, a_stages[version], version, b_stages.get(version) or "NONE"))
    return changes


def _alias_diff(model: str, before: dict[str, str], after: dict[str, str],
                only_removals: bool = False) -> list[PointerChange]:
    out = []
    for alias in sorted(set(before) | set(after)):
        if before.get(alias) != after.get(alias) and not (only_removals and alias in after):
            out.append(PointerChange(model, ALIAS, alias, after.get(alias), before.get(alias)))
    return out


def _is_version(snapshot: dict[str, Any]) -> bool:
    return "version" in snapshot and "ordinal" in snapshot


def _model_of(snapshot: Any) -> str | None:
    if not isinstance(snapshot, dict):
        return None
    if _is_version(snapshot):
        return snapshot.get("model")
    return snapshot.get("name") if "aliases" in snapshot and "name" in snapshot else snapshot.get("model")


def _model_from_target(target: str | None) -> str | None:
    if not target or not target.startswith("mrg://"):
        return None
    try:
        return MrgUri.parse(target.split("@", 1)[0]).model
    except ValueError:
        return None


def _ordinal_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (2**62, version)


# -- pure: timelines and rollbacks -----------------------------------------------------------------
class HistoryEntry(BaseModel):
    id: int
    change_id: str
    at: datetime
    registry: str
    model: str
    kind: str
    name: str
    version: str | None
    previous: str | None
    actor: str
    action: str
    request_id: str | None


class Tenure(BaseModel):
    """One version holding one alias or stage: from ``since`` until ``until`` (None: still)."""

    version: str
    since: datetime
    until: datetime | None
    set_by: str
    set_action: str
    ended_by: str | None = None
    ended_action: str | None = None

    def held_at(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


def timeline(entries: Sequence[HistoryEntry], kind: str, name: str) -> list[Tenure]:
    """Every tenure of ``name`` (alias or stage) in the order they began."""
    open_: dict[str, Tenure] = {}
    done: list[Tenure] = []

    def close(version: str, entry: HistoryEntry) -> None:
        tenure = open_.pop(version, None)
        if tenure is not None:
            done.append(tenure.model_copy(update={"until": entry.at, "ended_by": entry.actor,
                                                  "ended_action": entry.action}))

    for e in sorted(entries, key=lambda e: e.id):
        if e.kind != kind:
            continue
        if kind == ALIAS and e.name == name:
            for holder in list(open_):
                close(holder, e)
            if e.version is not None:
                open_[e.version] = Tenure(version=e.version, since=e.at, until=None, set_by=e.actor, set_action=e.action)
        elif kind == STAGE and e.version is not None:
            if e.previous == name and e.name != name:
                close(e.version, e)
            elif e.name == name and e.version not in open_:
                open_[e.version] = Tenure(version=e.version, since=e.at, until=None, set_by=e.actor, set_action=e.action)
    return sorted(done + list(open_.values()), key=lambda t: (t.since, t.version))


def change_to_undo(entries: Sequence[HistoryEntry], kind: str, name: str) -> list[HistoryEntry]:
    """The rows of the latest move of ``name`` not yet rolled back (an undo stack: rolling back
    twice undoes the last two moves, not the rollback itself)."""
    groups: dict[str, list[HistoryEntry]] = {}
    order: list[str] = []
    for e in sorted(entries, key=lambda e: e.id):
        touches = e.kind == kind and (e.name == name or (kind == STAGE and e.previous == name))
        if not touches:
            continue
        if e.change_id not in groups:
            groups[e.change_id] = []
            order.append(e.change_id)
        groups[e.change_id].append(e)
    skip = 0
    for change_id in reversed(order):
        rows = groups[change_id]
        if rows[0].action == ROLLBACK:
            skip += 1
        elif skip:
            skip -= 1
        else:
            return rows
    return []


def restore_plan(rows: Sequence[HistoryEntry], kind: str, name: str) -> dict[str, str | None]:
    """What undoing ``rows`` sets: alias -> {"expected": current holder, "restore": earlier holder};
    stage -> {version: stage to put it back in}. Refuses when no earlier holder was recorded."""
    if not rows:
        raise Conflict(f"{kind} {name!r}: no move made through the gateway is left to roll back",
                       details={"field": kind})
    if kind == ALIAS:
        row = rows[-1]
        if row.previous is None:
            raise Conflict(f"alias {name!r}: no earlier holder was recorded before version {row.version}",
                           details={"field": "alias"})
        return {"expected": row.version, "restore": row.previous}
    if not any(r.previous == name for r in rows):
        raise Conflict(f"stage {name}: no earlier holder was recorded before this move", details={"field": "stage"})
    return {r.version: r.previous for r in rows if r.version is not None and r.previous is not None}


# -- I/O ---------------------------------------------------------------------------------------------
class HistoryRecorder:
    def __init__(self, store: Store) -> None:
        self.store = store

    def on_mutation(self, change: Mutation) -> None:
        """A Gateway listener. The audit row is already committed; a failure here is logged (the
        audit log's snapshots still hold the move) rather than failing a write that happened."""
        try:
            self.record(change)
        except Exception:  # noqa: BLE001
            log.exception("history: could not record %s on %s", change.action, change.target)

    def record(self, change: Mutation) -> list[PointerChange]:
        moves = changes_from(change.target, change.before, change.after)
        if not moves:
            return []
        change_id, at = uuid.uuid4().hex, datetime.now(UTC)
        with self.store.session() as session:
            session.add_all(PointerChangeRow(
                change_id=change_id, at=at, registry_name=change.registry, model=m.model, kind=m.kind, name=m.name,
                version=m.version, previous=m.previous, actor=change.actor, action=change.action,
                request_id=change.request_id) for m in moves)
        return moves

    def entries(self, registry: str, model: str | None = None, *, after_id: int = 0,
                limit: int = 1000) -> list[HistoryEntry]:
        with self.store.session() as session:
            query = select(PointerChangeRow).where(PointerChangeRow.registry_name == registry,
                                                   PointerChangeRow.id > after_id)
            if model is not None:
                query = query.where(PointerChangeRow.model == model)
            rows = session.execute(query.order_by(PointerChangeRow.id).limit(limit)).scalars()
            return [_entry(r) for r in rows]


def _entry(row: PointerChangeRow) -> HistoryEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return HistoryEntry(id=row.id, change_id=row.change_id, at=at, registry=row.registry_name, model=row.model,
                        kind=row.kind, name=row.name, version=row.version, previous=row.previous, actor=row.actor,
                        action=row.action, request_id=row.request_id)
