"""Comparison pilots end to end: the standard scenario through the real API on real backends,
steps reported honestly (native / envelope / emulated / unsupported), and a report that opens
offline in a real browser."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api import create_app
from gateway.client import MrgClient
from gateway.config import AuthConfig, GatewayConfig, RegistryConfig
from gateway.core import Gateway
from gateway.pilot.local import local_gateway
from gateway.pilot.report import write
from gateway.pilot.runner import PilotReport, pilot_identities, run_pilot
from gateway.pilot.scenario import STEPS
from tests.conformance.backends.sagemaker import BACKENDS as SAGEMAKER

pytestmark = pytest.mark.xdist_group("pilot")
SM = "sm-emulator"  # the SageMaker conformance backend's registry name


def _config(root: Path, extra: dict[str, RegistryConfig] | None = None) -> GatewayConfig:
    registries = {name: RegistryConfig(kind="mlflow", tracking_uri=f"sqlite:///{root / name / 'mlflow.db'}",  # type: ignore[arg-type]
                                       artifact_location=str(root / name / "artifacts")) for name in ("red", "blue")}
    return GatewayConfig(data_dir=str(root / "state"), auth=AuthConfig(anonymous_role=None),
                         registries={**registries, **(extra or {})})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PilotReport, Path, Gateway]]:
    """One pilot over two MLflow registries and the SageMaker emulator (aliases only via envelope)."""
    root = tmp_path_factory.mktemp("pilot")
    with contextlib.ExitStack() as stack:
        (root / "sm").mkdir()
        sagemaker = stack.enter_context(SAGEMAKER[0].start(root / "sm"))
        config = _config(root)
        gw = Gateway(config, adapters={sagemaker.name: sagemaker})
        base_url, gw = stack.enter_context(local_gateway(config, gw))
        who = stack.enter_context(pilot_identities(gw, base_url, MrgClient))
        result = run_pilot(who, ["red", "blue", sagemaker.name], repeat=2)
        yield result, root, gw


def test_every_step_succeeds_with_four_eyes_and_full_fidelity(report: tuple[PilotReport, Path, Gateway]) -> None:
    result, _, gw = report
    assert [r.name for r in result.registries] == ["red", "blue", SM]
    for reg in result.registries:
        assert [s.step for s in reg.steps] == list(STEPS)
        failed = {s.step: s.detail for s in reg.steps if s.ok is False}
        assert failed == {}, f"{reg.name}: {failed}"
        assert reg.four_eyes_enforced is True
        assert all(len(s.latencies_ms) == 2 for s in reg.steps)
        lost = [f for f, kept in reg.fidelity.items() if kept is False]
        assert lost == [], f"{reg.name} lost {lost}"
    # Each run cleaned up after itself: no pilot model is left in any registry.
    for name in ("red", "blue", SM):
        leftovers = [m.name for m in gw.adapter(name).iter_models() if m.name.startswith(f"mrg-pilot-{result.pilot_id}")]
        assert leftovers == [], f"{name} kept {leftovers}"


def test_steps_say_how_they_were_done(report: tuple[PilotReport, Path, Gateway]) -> None:
    result, _, _ = report
    modes = {r.name: {s.step: s.mode for s in r.steps} for r in result.registries}
    assert modes["red"]["promote_v2"] == "native"        # MLflow aliases are native
    assert modes[SM]["promote_v2"] == "envelope"         # SageMaker has no aliases: never reported as native
    assert modes[SM]["approve_v2"] == "native"           # ModelApprovalStatus
    assert modes["red"]["approve_v2"] == "envelope"      # MLflow has no approval object
    assert {m["rollback_to_v2"] for m in modes.values()} == {"emulated"}
    assert {m["migrate_v2"] for m in modes.values()} == {"emulated"}


def test_reports_are_written_and_consistent(report: tuple[PilotReport, Path, Gateway], tmp_path: Path) -> None:
    result, _, _ = report
    paths = write(result, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert data["pilot_id"] == result.pilot_id and len(data["registries"]) == 3
    markdown = paths["markdown"].read_text()
    assert all(step in markdown for step in STEPS) and f"| step | red | blue | {SM} |" in markdown
    page = paths["html"].read_text()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(""", page)
    assert external == [], "the HTML must load nothing from the network"


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                    reason="headless Chromium is not installed here (CI installs it)")
def test_html_report_renders_offline_in_headless_chromium(report: tuple[PilotReport, Path, Gateway], tmp_path: Path) -> None:
    result, _, _ = report
    page = write(result, tmp_path / "out")["html"]
    chromium = shutil.which("chromium")
    assert chromium, "chromium is required in CI"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<tr>") >= len(STEPS) + 1, "the steps table did not render"
    assert dom.count('class="bar"') == len(STEPS) * len(result.registries), "latency chart bars missing"
    assert dom.count('class="cell"') >= len(STEPS) * len(result.registries), "heatmap cells missing"
    assert 'id="fidelity-chart"' in dom
    shot = tmp_path / "pilot.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 1800)
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20, "the screenshot is blank"
    chart_colours = {(0x1A, 0x98, 0x50), (0x45, 0x75, 0xB4)}  # 'native' green, first series blue
    assert chart_colours & {c for _, c in colours}, "no chart colour on the rendered page"


def test_pilot_over_http_api(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with local_gateway(config) as (base_url, gw), pilot_identities(gw, base_url, MrgClient) as who:
        started = who.admin.start_pilot(["red", "blue"])
        for _ in range(600):
            status = who.admin.pilot(started.pilot_id)
            if status.state != "running":
                break
            time.sleep(0.1)
        assert status.state == "succeeded", status.error or status
        page = who.requester.request("GET", f"/v1/pilots/{started.pilot_id}/report.html")
        assert page.headers["content-type"].startswith("text/html") and 'id="capability-heatmap"' in page.text
        denied = who.requester.request  # an editor may not start pilots (they create keys)
        with pytest.raises(Exception) as info:
            denied("POST", "/v1/pilots", json={"registries": ["red"]})
        assert "may not" in str(info.value)


def test_bad_pilot_requests_name_the_field(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.auth.anonymous_role = "admin"
    with TestClient(create_app(config)) as client:
        response = client.post("/v1/pilots", json={"registries": ["nope"]})
        assert response.status_code == 404 and response.json()["error"]["details"]["field"] == "registry"
        response = client.post("/v1/pilots", json={"registries": []})
        assert response.status_code == 400 and "registries" in response.json()["error"]["message"]
