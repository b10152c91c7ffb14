"""``/v1/pilots``: run a comparison pilot on this gateway and read its report.

The pilot calls this same gateway over HTTP with three short-lived keys (editor, approver,
admin) so every step — four-eyes approval included — goes through the real API; the report is
kept under the data directory and served as JSON, Markdown and standalone HTML.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.auth import require
from gateway.api.routes import Caller, GatewayDep
from mapping.errors import InvalidInput, NotFound

router = APIRouter(prefix="/v1/pilots", tags=["pilots"])
_state: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


class PilotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registries: list[str] = Field(min_length=1, max_length=32)
    scenario: str = Field(default="standard", max_length=64)
    repeat: int = Field(default=1, ge=1, le=20)


class PilotStatus(BaseModel):
    pilot_id: str
    state: str
    error: str | None = None
    report: dict[str, Any] | None = None


def _dir(gw: Any, pilot_id: str) -> Path:
    return Path(gw.config.data_dir) / "pilots" / pilot_id


@router.post("", response_model=PilotStatus, status_code=202)
def start_pilot(request: Request, body: PilotRequest, gw: GatewayDep, who: Caller) -> PilotStatus:
    require(who, "admin")
    for name in body.registries:
        gw.handle(name)  # unknown registry: 404 now, not a failed pilot later
    if body.scenario != "standard":
        raise InvalidInput(f"scenario: {body.scenario!r} is not one of standard", field="scenario")
    pilot_id = uuid.uuid4().hex[:8]
    base_url = str(request.base_url).rstrip("/")
    with _lock:
        _state[pilot_id] = {"state": "running"}
    threading.Thread(target=_run, args=(gw, base_url, pilot_id, body), name=f"mrg-pilot-{pilot_id}", daemon=True).start()
    return PilotStatus(pilot_id=pilot_id, state="running")


def _run(gw: Any, base_url: str, pilot_id: str, body: PilotRequest) -> None:
    from gateway.client import MrgClient
    from gateway.pilot.report import write
    from gateway.pilot.runner import pilot_identities, run_pilot

    try:
        with pilot_identities(gw, base_url, MrgClient) as who:
            report = run_pilot(who, body.registries, repeat=body.repeat, scenario=body.scenario, pilot_id=pilot_id)
        write(report, _dir(gw, pilot_id))
        update = {"state": "succeeded" if report.ok else "failed", "report": report.model_dump(mode="json")}
    except Exception as exc:  # noqa: BLE001 - the pilot's failure is its result
        update = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"}
    with _lock:
        _state[pilot_id] = update


@router.get("/{pilot_id}", response_model=PilotStatus)
def pilot_status(pilot_id: str, gw: GatewayDep, who: Caller) -> PilotStatus:
    require(who, "read")
    with _lock:
        state = _state.get(pilot_id)
    if state is None:
        saved = _dir(gw, pilot_id) / "pilot.json"
        if not saved.exists():
            raise NotFound(f"pilot: no pilot {pilot_id!r}", field="pilot_id")
        import json

        report = json.loads(saved.read_text())
        ok = all(s["ok"] is not False for r in report["registries"] for s in r["steps"])
        state = {"state": "succeeded" if ok else "failed", "report": report}
    return PilotStatus(pilot_id=pilot_id, **state)


@router.get("/{pilot_id}/report.html", response_class=FileResponse)
def pilot_html(pilot_id: Annotated[str, "pilot id"], gw: GatewayDep, who: Caller) -> FileResponse:
    require(who, "read")
    if not pilot_id.isalnum():
        raise InvalidInput("pilot_id: letters and digits only", field="pilot_id")
    path = _dir(gw, pilot_id) / "pilot.html"
    if not path.exists():
        raise NotFound(f"pilot: no report for {pilot_id!r} (yet)", field="pilot_id")
    return FileResponse(path, media_type="text/html")
