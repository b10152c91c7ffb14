"""``mrg`` governance commands as an operator runs them: one line and exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.governance.conftest import _mlflow_template

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    import shutil

    shutil.copy(_mlflow_template(), tmp_path / "mlflow.db")
    path = tmp_path / "mrg.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nregistries:\n  local:\n    kind: mlflow\n"
                    f"    tracking_uri: sqlite:///{tmp_path / 'mlflow.db'}\n    artifact_location: {tmp_path / 'art'}\n")
    from adapters.registry import create_adapter
    from mapping.schema import VersionSpec

    adapter = create_adapter("local", "mlflow", {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
                                                 "artifact_location": str(tmp_path / "art")})
    adapter.create_model("fraud")
    for _ in range(2):
        adapter.create_version("fraud", VersionSpec())
    adapter.close()
    return path


def mrg(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.stdout, result.stderr


def test_promote_rollback_and_history(config: Path) -> None:
    assert mrg(config, "promote", "local", "fraud", "1", "--alias", "prod")[0] == 0
    code, out, _ = mrg(config, "promote", "local", "fraud", "2", "--alias", "prod")
    assert code == 0 and "prod -> 2 (was 1)" in out
    code, out, _ = mrg(config, "rollback", "local", "fraud", "--alias", "prod")
    assert code == 0 and "prod -> 1" in out
    code, out, _ = mrg(config, "history", "local", "fraud", "--alias", "prod", "--json")
    assert [t["version"] for t in json.loads(out)] == ["1", "2", "1"]


def test_four_eyes_holds_between_operators(config: Path) -> None:
    code, out, _ = mrg(config, "request-approval", "local", "fraud", "1", "-m", "ready", "--json")
    assert code == 0 and json.loads(out)["status"] == "PENDING"
    code, _, err = mrg(config, "approve", "local", "fraud", "1", "-m", "self-approval")
    assert code == 2 and "four-eyes" in err and len(err.strip().splitlines()) == 1


def test_keys_are_shown_once_and_listed_without_the_secret(config: Path) -> None:
    code, out, _ = mrg(config, "keys", "create", "--name", "ci", "--role", "editor", "--model", "fraud-*")
    key = out.strip()
    assert code == 0 and key.startswith("mrg_")
    code, listed, _ = mrg(config, "keys", "ls", "--json")
    assert code == 0 and key not in listed and json.loads(listed)[0]["model"] == "fraud-*"
    key_id = json.loads(listed)[0]["id"]
    assert mrg(config, "keys", "revoke", key_id)[0] == 0
    assert json.loads(mrg(config, "keys", "ls", "--json")[1]) == []


@pytest.mark.parametrize(("args", "message"), [
    (("promote", "local", "fraud", "1"), "exactly one of --alias or --stage"),
    (("promote", "local", "fraud", "1", "--stage", "LIVE"), "--stage: 'LIVE' is not one of"),
    (("rollback", "local", "fraud", "--alias", "prod"), "no move made through the gateway"),
    (("approve", "a", "b"), "give a request id, or <registry> <model> <version>"),
    (("keys", "create", "--name", "x", "--role", "root"), "role: must be one of"),
    (("history", "nowhere"), "no registry named 'nowhere'"),
])
def test_bad_input_exits_2_with_one_line(config: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = mrg(config, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
