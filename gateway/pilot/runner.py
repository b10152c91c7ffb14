"""Run the scenario on every chosen registry, N times each, and aggregate what happened.

Registries run one after another (not in parallel) so one registry's load does not skew
another's latencies; each run uses a fresh model name and deletes what it created.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.core import Gateway
from gateway.pilot.scenario import STEPS, Identities, RunResult, Scenario, summary_caps
from mapping.errors import InvalidInput

SCENARIOS = ("standard",)


class StepSummary(BaseModel):
    step: str
    ok: bool | None
    mode: str
    median_ms: float
    latencies_ms: list[float]
    detail: str | None = None


class RegistrySummary(BaseModel):
    name: str
    kind: str
    capabilities: dict[str, Any]
    steps: list[StepSummary]
    fidelity: dict[str, bool | None]
    four_eyes_enforced: bool | None


class PilotReport(BaseModel):
    pilot_id: str
    scenario: str
    repeat: int
    started_at: datetime
    finished_at: datetime
    registries: list[RegistrySummary] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok is not False for r in self.registries for s in r.steps)


def run_pilot(who: Identities, registries: list[str], *, repeat: int = 1, scenario: str = "standard",
              pilot_id: str | None = None, progress: Callable[[str], None] = lambda msg: None) -> PilotReport:
    if scenario not in SCENARIOS:
        raise InvalidInput(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}", field="scenario")
    if repeat < 1:
        raise InvalidInput("repeat: must be at least 1", field="repeat")
    if not registries:
        raise InvalidInput("registries: name at least one registry", field="registries")
    pilot_id = pilot_id or uuid.uuid4().hex[:8]
    started = datetime.now(UTC)
    # Health first: it loads each SDK and opens connections, so no step pays for start-up.
    caps = {name: who.admin.registry(name, health=True).capabilities for name in registries}
    summaries = []
    for index, name in enumerate(registries):
        target = registries[(index + 1) % len(registries)] if len(registries) > 1 else None
        runs: list[RunResult] = []
        for run in range(repeat):
            progress(f"{name}: run {run + 1}/{repeat}")
            model = f"mrg-pilot-{pilot_id}-{run}"
            if caps[name].default_namespace:
                model = f"{caps[name].default_namespace}/{model}"
            scenario_run = Scenario(who, name, caps[name], model, (target, caps[target]) if target else None)
            runs.append(scenario_run.run())
        summaries.append(_summarise(name, caps[name].kind.value, summary_caps(caps[name]), runs))
    return PilotReport(pilot_id=pilot_id, scenario=scenario, repeat=repeat, started_at=started,
                       finished_at=datetime.now(UTC), registries=summaries)


def _summarise(name: str, kind: str, caps: dict[str, Any], runs: list[RunResult]) -> RegistrySummary:
    steps = []
    for step in STEPS:
        results = [s for r in runs for s in r.steps if s.step == step]
        if not results:
            steps.append(StepSummary(step=step, ok=False, mode="failed", median_ms=0.0, latencies_ms=[],
                                     detail="not reached: an earlier step stopped the run"))
            continue
        oks = [r.ok for r in results]
        ok: bool | None = None if all(o is None for o in oks) else all(o is not False for o in oks)
        mode = Counter(r.mode for r in results).most_common(1)[0][0]
        failed = [r.detail for r in results if r.ok is False]
        latencies = [r.latency_ms for r in results]
        steps.append(StepSummary(step=step, ok=ok, mode="failed" if failed else mode,
                                 median_ms=round(statistics.median(latencies), 2), latencies_ms=latencies,
                                 detail=failed[0] if failed else results[0].detail))
    # A field is kept when every run read it back intact; None when the registry cannot carry it.
    fidelity: dict[str, bool | None] = {}
    for field_name in {f for run in runs for f in run.fidelity}:
        values = [run.fidelity.get(field_name) for run in runs]
        fidelity[field_name] = None if any(v is None for v in values) else all(values)
    four_eyes = [r.four_eyes_enforced for r in runs if r.four_eyes_enforced is not None]
    return RegistrySummary(name=name, kind=kind, capabilities=caps, steps=steps, fidelity=fidelity,
                           four_eyes_enforced=all(four_eyes) if four_eyes else None)


@contextmanager
def pilot_identities(gw: Gateway, base_url: str, client_factory: Callable[..., Any]) -> Iterator[Identities]:
    """Three short-lived API keys (editor, approver, admin) in the gateway's store, revoked afterwards."""
    from gateway.governance.service import governance_for

    keys = governance_for(gw).keys
    made = []
    clients = []
    try:
        for name, role in (("pilot-requester", "editor"), ("pilot-approver", "approver"), ("pilot-admin", "admin")):
            stored, clear = keys.create(name=name, role=role, created_by="pilot")
            made.append(stored.id)
            clients.append(client_factory(base_url, api_key=clear, timeout=300.0))
        yield Identities(requester=clients[0], approver=clients[1], admin=clients[2])
    finally:
        for client in clients:
            client.close()
        for key_id in made:
            keys.revoke(key_id, revoked_by="pilot")
