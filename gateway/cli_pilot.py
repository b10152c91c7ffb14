"""``mrg pilot``: the same release scenario on each registry, compared side by side."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

pilot_app = typer.Typer(help="Run a comparison pilot and write its report.")


@pilot_app.callback(invoke_without_command=True)
def pilot(
    registries: Annotated[str, typer.Option("--registries", "-r", help="comma-separated names, or 'all'")] = "all",
    scenario: Annotated[str, typer.Option(help="the scenario to run")] = "standard",
    repeat: Annotated[int, typer.Option(min=1, max=100, help="runs per registry; latencies are medians")] = 1,
    out: Annotated[Path, typer.Option(help="where pilot.json, pilot.md and pilot.html go")] = Path("mrg-pilot"),
    url: Annotated[str | None, typer.Option(help="a running gateway; keys from MRG_PILOT_{REQUESTER,APPROVER,ADMIN}_KEY")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="mrg.yaml (without --url)")] = None,
) -> None:
    """Register, approve (four-eyes), promote, roll back, trace, search and migrate on every registry."""
    from rich.console import Console

    from gateway.cli import _config, fail, handled
    from gateway.client import MrgClient
    from gateway.pilot.report import write
    from gateway.pilot.runner import pilot_identities, run_pilot
    from gateway.pilot.scenario import Identities

    console = Console(stderr=True)
    with ExitStack() as stack, handled():
        if url:
            keys = [os.environ.get(f"MRG_PILOT_{who}_KEY") for who in ("REQUESTER", "APPROVER", "ADMIN")]
            if not all(keys):
                fail("pilot: --url needs MRG_PILOT_REQUESTER_KEY, MRG_PILOT_APPROVER_KEY and MRG_PILOT_ADMIN_KEY "
                     "(an editor, an approver and an admin key)")
            clients = [stack.enter_context(MrgClient(url, api_key=k, timeout=300.0)) for k in keys]
            who = Identities(*clients)
        else:
            from gateway.pilot.local import local_gateway

            base_url, gw = stack.enter_context(local_gateway(_config(config)))
            who = stack.enter_context(pilot_identities(gw, base_url, MrgClient))
        names = [r.name for r in who.admin.registries(health=False)] if registries == "all" else \
            [n.strip() for n in registries.split(",") if n.strip()]
        with console.status("pilot") as status:
            report = run_pilot(who, names, repeat=repeat, scenario=scenario, progress=status.update)
        paths = write(report, out)
    console.print(f"pilot {report.pilot_id}: {len(report.registries)} registries; report in {paths['html']}")
    if not report.ok:
        for reg in report.registries:
            for step in reg.steps:
                if step.ok is False:
                    console.print(f"{reg.name} {step.step}: {step.detail}", style="red", markup=False)
        raise typer.Exit(1)
