"""The ``mrg`` command as a user runs it: readable one-line errors, exit codes, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.serving import start_serve


def mrg(*args: str, cwd: Path, timeout: float = 120, env_extra: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), **(env_extra or {})})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mrg.yaml"
    path.write_text(
        "registries:\n"
        f"  local:\n    kind: mlflow\n    tracking_uri: sqlite:///{tmp_path / 'mlflow.db'}\n"
        f"    artifact_location: {tmp_path / 'artifacts'}\n"
        "  dead:\n    kind: mlflow\n    tracking_uri: http://127.0.0.1:9\n"
    )
    return path


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "mrg.yaml").write_text("registries:\n  x:\n    kind: oracle\n")
    result = mrg("registries", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "registries.x.kind" in lines[0]


def test_models_ls_reports_a_dead_registry_without_failing(config: Path) -> None:
    from adapters.mlflow import MlflowAdapter

    MlflowAdapter("local", {"tracking_uri": f"sqlite:///{config.parent / 'mlflow.db'}",
                            "artifact_location": str(config.parent / "artifacts")}).create_model("fraud-cli")
    result = mrg("models", "ls", "--json", "-c", str(config), cwd=config.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["items"]] == ["fraud-cli"]
    assert data["partial"] is True
    assert [e["registry"] for e in data["errors"]] == ["dead"]


def test_unknown_model_exits_2(config: Path) -> None:
    result = mrg("models", "show", "local", "absent", "-c", str(config), cwd=config.parent)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("mrg: [local]")


def test_versions_show_json(config: Path) -> None:
    from adapters.mlflow import MlflowAdapter
    from mapping.schema import Stage, VersionSpec

    adapter = MlflowAdapter("local", {"tracking_uri": f"sqlite:///{config.parent / 'mlflow.db'}",
                                      "artifact_location": str(config.parent / "artifacts")})
    adapter.create_model("cli-model")
    adapter.create_version("cli-model", VersionSpec(description="first", stage=Stage.PRODUCTION))
    result = mrg("versions", "show", "local", "cli-model", "1", "--json", "-c", str(config), cwd=config.parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stage"] == "PRODUCTION"
    listing = mrg("versions", "ls", "local", "cli-model", "-c", str(config), cwd=config.parent)
    assert "PRODUCTION" in listing.stdout


def test_serve_embedded_default_answers_healthz_then_registries(tmp_path: Path) -> None:
    proc, base = start_serve(cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("mrg serve never answered /healthz")
        body = httpx.get(f"{base}/v1/registries", timeout=60).json()
        assert [r["name"] for r in body["items"]] == ["local"]
        assert (tmp_path / "mrg-data" / "mlflow.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_refuses_anonymous_on_a_public_interface(tmp_path: Path) -> None:
    result = mrg("serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2 and "loopback" in result.stderr


def test_every_command_has_working_help() -> None:
    """Help texts are rendered as rich markup: a bracket in one (``[/<glob>]``) crashed ``--help``."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from gateway.cli import app

    def paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found = [prefix]
        for name, sub in (getattr(command, "commands", None) or {}).items():  # groups have commands
            found += paths(sub, (*prefix, name))
        return found

    every = paths(get_command(app))
    assert ("migrate", "run") in every and len(every) > 20
    runner = CliRunner()
    for path in every:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"mrg {' '.join(path)} --help: {result.output[-500:]}"
        assert "Usage" in result.output


def test_tables_print_registry_text_verbatim(config: Path) -> None:
    """Descriptions and errors are data: a bracket in one is neither a style nor a crash."""
    from adapters.mlflow import MlflowAdapter

    MlflowAdapter("local", {"tracking_uri": f"sqlite:///{config.parent / 'mlflow.db'}",
                            "artifact_location": str(config.parent / "artifacts")}).create_model(
        "brackets", description="[/x] weights [bold]v2[/bold]")
    result = mrg("models", "ls", "-c", str(config), cwd=config.parent, env_extra={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "[/x] weights [bold]v2[/bold]" in result.stdout
    assert "dead: unavailable: " in result.stdout  # the unreachable registry, reported on its own line
