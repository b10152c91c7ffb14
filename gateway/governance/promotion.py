"""Promote a version to an alias or stage, and roll back to the holder before (MLflow #6180).

Both go through the same path as any write (audited, handed to the history listener), so a
rollback is itself history: rolling back twice undoes the last two moves. A rollback refuses,
rather than guesses, when the pointer was moved outside the gateway since the move it undoes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from adapters.base import RegistryAdapter
from gateway.config import AuthConfig
from gateway.core import Gateway, Mutation
from gateway.governance.approvals import policy_for
from gateway.governance.history import ALIAS, ROLLBACK, STAGE, HistoryRecorder, change_to_undo, restore_plan
from gateway.governance.roles import is_protected
from mapping.errors import Conflict, RegistryError
from mapping.schema import ApprovalStatus, MrgUri, Stage

PROMOTE = "promote"


class PointerMove(BaseModel):
    """The outcome of a promote or rollback: who holds ``name`` now and whom that displaced."""

    registry: str
    model: str
    kind: Literal["alias", "stage"]
    name: str
    version: str | None
    previous: list[str]
    action: str
    by: str
    at: datetime


class Promotions:
    def __init__(self, gateway: Gateway, config: AuthConfig, history: HistoryRecorder) -> None:
        self.gw = gateway
        self.config = config
        self.history = history

    # -- promote ---------------------------------------------------------------------------------
    def promote_alias(self, actor: str, registry: str, model: str, alias: str, version: str,
                      request_id: str | None = None) -> PointerMove:
        self._gate(registry, model, version, protected=is_protected(alias, self.config.protected_aliases),
                   pointer=f"alias {alias!r}")
        before, _ = self._apply(actor, registry, model, PROMOTE, alias, request_id, self._aliases(model),
                                lambda a: a.set_alias(model, alias, version))
        previous = before["aliases"].get(alias)
        return self._move(registry, model, ALIAS, alias, version, [previous] if previous and previous != version else [],
                          PROMOTE, actor)

    def promote_stage(self, actor: str, registry: str, model: str, stage: Stage, version: str,
                      archive_previous: bool = True, request_id: str | None = None) -> PointerMove:
        """Put ``version`` in ``stage``; the versions holding it before move to ARCHIVED (unless told not to)."""
        protected = stage.value in {s.value for s in self.config.protected_stages}
        self._gate(registry, model, version, protected=protected, pointer=f"stage {stage.value}")
        current = self.gw.call(registry, self._stages(model))
        if version not in current["stages"]:
            self.gw.call(registry, lambda a: a.get_version(model, version))  # the adapter's own 404
        holders = [v for v, s in current["stages"].items() if s == stage.value and v != version]

        def steps(a: RegistryAdapter) -> None:  # idempotent, so a retried call repeats it safely
            a.set_stage(model, version, stage)
            if archive_previous and stage not in (Stage.NONE, Stage.ARCHIVED):
                for holder in holders:
                    a.set_stage(model, holder, Stage.ARCHIVED)

        self._apply(actor, registry, model, PROMOTE, stage.value, request_id, self._stages(model), steps, before=current)
        return self._move(registry, model, STAGE, stage.value, version, holders, PROMOTE, actor)

    # -- rollback --------------------------------------------------------------------------------
    def rollback_alias(self, actor: str, registry: str, model: str, alias: str,
                       request_id: str | None = None) -> PointerMove:
        plan = restore_plan(change_to_undo(self.history.entries(registry, model), ALIAS, alias), ALIAS, alias)
        current = self.gw.call(registry, lambda a: a.get_model(model)).aliases.get(alias)
        if current != plan["expected"]:
            raise Conflict(
                f"alias {alias!r} of {registry}/{model} is held by {current or 'no version'} but the gateway last "
                f"moved it to {plan['expected'] or 'no version'}: it was moved outside the gateway; promote explicitly",
                registry=registry, details={"field": "alias", "current": current, "expected": plan["expected"]})
        restore = plan["restore"]
        assert restore is not None
        self._apply(actor, registry, model, ROLLBACK, alias, request_id, self._aliases(model),
                    lambda a: a.set_alias(model, alias, restore))
        return self._move(registry, model, ALIAS, alias, restore, [current] if current else [], ROLLBACK, actor)

    def rollback_stage(self, actor: str, registry: str, model: str, stage: Stage,
                       request_id: str | None = None) -> PointerMove:
        rows = change_to_undo(self.history.entries(registry, model), STAGE, stage.value)
        plan = restore_plan(rows, STAGE, stage.value)
        live = self.gw.call(registry, self._stages(model))["stages"]
        for row in rows:
            if row.version is not None and live.get(row.version) != row.name:
                raise Conflict(
                    f"version {row.version} of {registry}/{model} is in {live.get(row.version, 'no stage')} but the "
                    f"gateway last moved it to {row.name}: it was changed outside the gateway; promote explicitly",
                    registry=registry, details={"field": "stage", "version": row.version})

        def steps(a: RegistryAdapter) -> None:
            for version, previous in sorted(plan.items(), key=lambda kv: kv[1] != stage.value):
                a.set_stage(model, version, Stage(previous or Stage.NONE.value))

        self._apply(actor, registry, model, ROLLBACK, stage.value, request_id, self._stages(model), steps)
        restored = [v for v, s in plan.items() if s == stage.value]
        displaced = [v for v, s in plan.items() if s != stage.value]
        return self._move(registry, model, STAGE, stage.value, restored[0] if len(restored) == 1 else None,
                          displaced, ROLLBACK, actor, restored)

    # -- helpers ---------------------------------------------------------------------------------
    def _gate(self, registry: str, model: str, version: str, *, protected: bool, pointer: str) -> None:
        """A policy with ``gate_protected`` lets only APPROVED versions into protected pointers."""
        if not protected or not policy_for(self.config.approval_policies, registry, model).gate_protected:
            return
        status = self.gw.call(registry, lambda a: a.get_version(model, version)).approval.status
        if status != ApprovalStatus.APPROVED:
            raise Conflict(f"{pointer} of {registry}/{model} takes approved versions only; version {version} is "
                           f"{status.value}", registry=registry, details={"field": "version", "approval": status.value})

    @staticmethod
    def _aliases(model: str) -> Callable[[RegistryAdapter], dict[str, Any]]:
        return lambda a: {"model": model, "aliases": dict(a.get_model(model).aliases)}

    @staticmethod
    def _stages(model: str) -> Callable[[RegistryAdapter], dict[str, Any]]:
        return lambda a: {"model": model, "stages": {v.version: v.stage.value for v in a.iter_versions(model)}}

    def _apply(self, actor: str, registry: str, model: str, action: str, pointer: str, request_id: str | None,
               snapshot: Callable[[RegistryAdapter], dict[str, Any]],
               steps: Callable[[RegistryAdapter], None],
               before: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run ``steps``; audit whatever actually changed, even when a later step failed, so the
        audit log and history never miss a move that reached the registry."""
        if before is None:
            before = self.gw.call(registry, snapshot)
        failure: RegistryError | None = None
        try:
            self.gw.call(registry, steps)
        except RegistryError as exc:
            failure = exc
        try:
            after = self.gw.call(registry, snapshot)
        except RegistryError:
            if failure is not None:
                raise failure from None
            raise
        if after != before:
            target = f"{MrgUri(registry=registry, model=model).render()}@{pointer}"
            self.gw.record(Mutation(actor=actor, action=action, registry=registry, target=target, before=before,
                                    after=after, request_id=request_id))
        if failure is not None:
            raise failure
        return before, after

    @staticmethod
    def _move(registry: str, model: str, kind: str, name: str, version: str | None, previous: list[str],
              action: str, actor: str, restored: list[str] | None = None) -> PointerMove:
        return PointerMove(registry=registry, model=model, kind=kind, name=name,  # type: ignore[arg-type]
                           version=version if version is not None else ", ".join(restored or []) or None,
                           previous=previous, action=action, by=actor, at=datetime.now(UTC))
