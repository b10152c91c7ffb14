"""``mrg webhooks``: add prints the secret once, ls never does, deliveries shows the log, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.events import verify_signature
from gateway.events.outbox import attach
from gateway.store import Store
from tests.events.helpers import record_version_created
from tests.events.receiver import Receiver


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mrg.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_add_ls_deliveries_test_rm(config: Path) -> None:
    code, out, _ = run("webhooks", "add", "http://127.0.0.1:9/hook", "--type", "mrg.version.*", "--model", "fraud*",
                       "-c", str(config), "--json")
    assert code == 0, out
    created = json.loads(out)
    assert created["secret"].startswith("whsec_") and created["event_types"] == ["mrg.version.*"]

    code, out, _ = run("webhooks", "ls", "-c", str(config), "--json")
    [listed] = json.loads(out)
    assert code == 0 and listed["id"] == created["id"] and "secret" not in listed and created["secret"] not in out
    code, out, _ = run("webhooks", "ls", "-c", str(config))
    assert code == 0 and created["id"] in out and created["secret"] not in out

    store = Store(f"sqlite:///{config.parent / 'data' / 'mrg.db'}")
    attach(store, max_attempts=3)
    record_version_created(store, model="fraud")
    record_version_created(store, model="churn")
    store.close()
    code, out, _ = run("webhooks", "deliveries", created["id"], "-c", str(config), "--json")
    [pending] = json.loads(out)
    assert code == 0 and pending["event_type"] == "mrg.version.created" and pending["state"] == "pending"
    code, out, _ = run("webhooks", "deliveries", created["id"], "-c", str(config))
    assert code == 0 and pending["id"] in out

    code, out, _ = run("webhooks", "rotate-secret", created["id"], "--overlap-s", "60", "-c", str(config), "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["signing_overlap_until"] is not None
    code, out, _ = run("webhooks", "rotate-secret", created["id"], "--overlap-s", "0", "-c", str(config))
    assert code == 0 and "whsec_" in out and "signs too" not in out
    code, _, err = run("webhooks", "rotate-secret", created["id"], "--overlap-s", "-5", "-c", str(config))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "overlap_s" in err

    code, out, _ = run("webhooks", "test", created["id"], "-c", str(config))  # nothing listens on port 9
    assert code == 1 and "dead" in out and "ConnectError" in out
    code, _, err = run("webhooks", "rm", created["id"], "-c", str(config))
    assert code == 0 and "deleted" in err
    code, _, err = run("webhooks", "rm", created["id"], "-c", str(config))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no subscription" in err


@pytest.mark.parametrize(("args", "needle"), [
    (["ftp://example.com/x"], "url"),
    (["http://127.0.0.1:9/hook", "--type", "mrg.nothing.*"], "matches no event type"),
])
def test_bad_input_exits_2_with_one_line(config: Path, args: list[str], needle: str) -> None:
    code, _, err = run("webhooks", "add", *args, "-c", str(config))
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err


def test_ping_and_retry_reach_a_live_receiver(config: Path, receiver: Receiver) -> None:
    code, out, _ = run("webhooks", "add", receiver.url, "-c", str(config), "--json")
    hook = json.loads(out)
    receiver.script = [(500, {})]
    code, out, _ = run("webhooks", "test", hook["id"], "-c", str(config), "--json")
    failed = json.loads(out)
    assert code == 1 and failed["state"] == "dead" and failed["last_status"] == 500
    code, _, err = run("webhooks", "retry", hook["id"], failed["id"], "-c", str(config))
    assert code == 0 and "queued again" in err
    code, out, _ = run("webhooks", "deliveries", hook["id"], "--state", "pending", "-c", str(config), "--json")
    assert [d["id"] for d in json.loads(out)] == [failed["id"]]
    code, out, _ = run("webhooks", "test", hook["id"], "-c", str(config))
    assert code == 0 and "succeeded (HTTP 204" in out
    verify_signature(hook["secret"], receiver.received[-1].body, receiver.received[-1].headers)
