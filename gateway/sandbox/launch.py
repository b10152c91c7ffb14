"""``mrg sandbox``: every backend on this machine, a ready ``mrg.yaml``, and SDK settings.

Starts a real MLflow server and moto's S3, then each cloud emulator that is installed, and
writes three files into the sandbox directory:
- ``mrg.yaml``: the gateway's config naming every started registry;
- ``sandbox.env``: shell exports that point the official SDKs at the emulators unchanged;
- ``sandbox.json``: the same, plus every service's announcement, for scripts.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulators import launcher
from gateway.sandbox.services import Service, start_mlflow_server, start_moto_s3

log = logging.getLogger("mrg.sandbox")


@dataclass
class Backend:
    """How one emulator joins the sandbox: its registry config and its SDK environment."""

    emulator: str
    registry: str
    registry_config: Callable[[dict[str, Any]], dict[str, Any]]
    sdk_env: Callable[[dict[str, Any]], dict[str, str]]


# Emulator backends join here once their adapters exist (see docs/sandbox.md).
EMULATOR_BACKENDS: list[Backend] = []


@dataclass
class Sandbox:
    root: Path
    services: list[Service] = field(default_factory=list)
    emulators: list[launcher.RunningEmulator] = field(default_factory=list)
    registries: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    announcements: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.root / "mrg.yaml"

    def stop(self) -> None:
        for emulator in reversed(self.emulators):
            emulator.stop()
        for service in reversed(self.services):
            service.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(root: Path, *, only: list[str] | None = None, progress: Callable[[str], None] = log.info) -> Sandbox:
    """Start everything; on any failure stop what was started and re-raise."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(root=root)
    try:
        progress("starting MLflow server")
        mlflow = start_mlflow_server(root / "mlflow")
        sandbox.services.append(mlflow)
        sandbox.registries["mlflow"] = {"kind": "mlflow", "tracking_uri": mlflow.url}
        sandbox.env["MLFLOW_TRACKING_URI"] = mlflow.url
        sandbox.announcements["mlflow"] = mlflow.info

        progress("starting S3 (moto)")
        s3 = start_moto_s3(root / "s3")
        sandbox.services.append(s3)
        sandbox.env["AWS_ENDPOINT_URL_S3"] = s3.url
        sandbox.announcements["s3"] = s3.info

        for backend in EMULATOR_BACKENDS:
            if only is not None and backend.registry not in only:
                continue
            if importlib.util.find_spec(f"emulators.{backend.emulator}") is None:
                sandbox.skipped[backend.registry] = "emulator not installed"
                continue
            progress(f"starting {backend.emulator} emulator")
            data = root / backend.emulator
            data.mkdir(exist_ok=True)
            running = launcher.start(backend.emulator, data_dir=data, log_path=data / "emulator.log")
            sandbox.emulators.append(running)
            sandbox.announcements[backend.emulator] = running.info
            sandbox.registries[backend.registry] = backend.registry_config(running.info)
            sandbox.env.update(backend.sdk_env(running.info))
        write_files(sandbox)
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def write_files(sandbox: Sandbox) -> None:
    config = {
        "data_dir": str(sandbox.root / "gateway"),
        "auth": {"anonymous_role": "admin"},
        "registries": sandbox.registries,
    }
    header = "# Written by `mrg sandbox`: every registry below runs on this machine.\n"
    sandbox.config_path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    lines = [f"export {key}={_shell_quote(value)}" for key, value in sorted(sandbox.env.items())]
    (sandbox.root / "sandbox.env").write_text("# source this file to point the official SDKs at the sandbox\n"
                                              + "\n".join(lines) + "\n")
    (sandbox.root / "sandbox.json").write_text(json.dumps(
        {"config": str(sandbox.config_path), "env": sandbox.env, "services": sandbox.announcements,
         "skipped": sandbox.skipped},
        indent=2, sort_keys=True,
    ) + "\n")


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
