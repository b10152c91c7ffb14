"""The adapter works in a process that inherited ``AZUREML_CURRENT_CLOUD`` naming a cloud it never
registered (a parent that used another emulator, a CI job's environment): azure-ai-ml reads that
variable while its modules are imported, so this needs a fresh interpreter to prove."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conformance.backends.azureml import emulator_settings

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import json, sys
from adapters.azureml import AzureMLAdapter
from adapters.base import ArtifactUpload
from mapping.schema import VersionSpec
adapter = AzureMLAdapter("inherited", json.loads(sys.argv[1]))
adapter.create_model(sys.argv[2])
version = adapter.create_version(sys.argv[2], VersionSpec(description="ok"), [ArtifactUpload.from_bytes("w.bin", b"w")])
print(json.dumps({"version": version.version, "files": [f.path for f in adapter.list_artifacts(sys.argv[2], version.version)]}))
"""


def test_adapter_ignores_an_inherited_unknown_cloud(emulator: Any) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AZUREML_CURRENT_CLOUD": "SomeOtherEmulator-0000"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(emulator_settings(emulator.info)), "inherited-cloud"],
                         capture_output=True, text=True, env=env, timeout=180, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"version": "1", "files": ["w.bin"]}
