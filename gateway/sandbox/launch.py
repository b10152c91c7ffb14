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
from pydantic import BaseModel

from adapters.azureml import AzureMLSettings
from adapters.vertex import VertexSettings
from emulators import launcher
from gateway.sandbox.services import Service, start_mlflow_server, start_moto_s3

log = logging.getLogger("mrg.sandbox")


@dataclass
class Backend:
    """How one emulator joins the sandbox: its registry config and its SDK environment.

    ``registry_config`` never holds a secret: tokens are referenced with ``*_env`` keys and
    exported in ``sandbox.env`` (and into the serving process by ``mrg serve --sandbox``).
    """

    emulator: str
    registry: str
    registry_config: Callable[[dict[str, Any]], dict[str, Any]]
    sdk_env: Callable[[dict[str, Any]], dict[str, str]]
    args: Callable[[Sandbox], list[str]] = lambda sandbox: []


def _settings(kind: str, settings: BaseModel) -> dict[str, Any]:
    """A registry entry for ``mrg.yaml``: the adapter's own settings model, defaults left out."""
    return {"kind": kind, **settings.model_dump(exclude_none=True, exclude_defaults=True)}


def _sagemaker_env(info: dict[str, Any]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_SAGEMAKER": info["endpoint"],
        "AWS_DEFAULT_REGION": info["region"],
        "AWS_ACCESS_KEY_ID": info.get("aws_access_key_id", "testing"),
        "AWS_SECRET_ACCESS_KEY": info.get("aws_secret_access_key", "testing"),
    }


EMULATOR_BACKENDS: list[Backend] = [
    Backend(
        emulator="sagemaker",
        registry="sagemaker",
        registry_config=lambda info: {
            "kind": "sagemaker", "endpoint_url": info["endpoint"], "s3_endpoint_url": info["s3_endpoint"],
            "region": info["region"], "bucket": "mrg-sagemaker", "create_bucket": True,
            # By reference, like every credential: a shell without sandbox.env gets an error naming
            # the variable, not boto3's "Unable to locate credentials".
            "aws_access_key_id_env": "AWS_ACCESS_KEY_ID", "aws_secret_access_key_env": "AWS_SECRET_ACCESS_KEY",
        },
        sdk_env=_sagemaker_env,
        # One S3 for the whole sandbox, so users' S3 tools see SageMaker's model data too.
        args=lambda sandbox: ["--s3-endpoint", sandbox.env["AWS_ENDPOINT_URL_S3"]],
    ),
    Backend(
        emulator="vertex",
        registry="vertex",
        registry_config=lambda info: _settings("vertex", VertexSettings.from_emulator(info, bucket="mrg-vertex")),
        sdk_env=lambda info: {**info.get("env", {}), "MRG_VERTEX_API_ENDPOINT": info["endpoint"],
                              "GOOGLE_CLOUD_PROJECT": info["project"]},
    ),
    Backend(
        emulator="azureml",
        registry="azureml",
        registry_config=lambda info: _settings("azureml", AzureMLSettings.from_emulator(info)),
        sdk_env=lambda info: {
            "AZURE_SUBSCRIPTION_ID": info["subscription_id"], "AZURE_RESOURCE_GROUP": info["resource_group"],
            "AZUREML_WORKSPACE_NAME": info["workspace_name"], "AZUREML_REGISTRY_NAME": info["registry_name"],
            "MRG_AZUREML_CLOUD": info["cloud"], "MRG_AZUREML_CA_BUNDLE": info["ca_bundle"],
            "MRG_AZUREML_CLOUD_METADATA": json.dumps(info["cloud_metadata"], sort_keys=True),
        },
    ),
    Backend(
        emulator="hfhub",
        registry="hf",
        registry_config=lambda info: {"kind": "hf", "endpoint": info["endpoint"], "token_env": "MRG_SANDBOX_HF_TOKEN"},
        sdk_env=lambda info: {**info.get("env", {}), "HF_TOKEN": info["token"], "MRG_SANDBOX_HF_TOKEN": info["token"]},
    ),
]


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
        # The embedded default (in-process MLflow on SQLite) is part of every sandbox too.
        sandbox.registries["local"] = {
            "kind": "mlflow", "tracking_uri": f"sqlite:///{root / 'local' / 'mlflow.db'}",
            "artifact_location": str(root / "local" / "artifacts"),
        }
        (root / "local").mkdir(exist_ok=True)
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
            running = launcher.start(backend.emulator, data_dir=data, log_path=data / "emulator.log",
                                     extra_args=backend.args(sandbox))
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
    header = ("# Written by `mrg sandbox`: every registry below runs on this machine.\n"
              "# Credentials are referenced (*_env): `source sandbox.env` (beside this file) before\n"
              "# running mrg commands with -c on this file.\n")
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
