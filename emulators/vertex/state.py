"""Everything one emulator process knows, and its optional persistence under --data-dir.

State is written as one JSON document (official protobuf JSON for every resource) after
each change, atomically, so a killed process never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .metadata_service import MetadataService
from .model_service import ModelService
from .operations import Operations

STATE_FILE = "vertex-state.json"


class EmulatorState:
    def __init__(self, data_dir: Path | None = None, lro_polls: int = 0) -> None:
        self.data_dir = data_dir
        self.operations = Operations(polls_before_done=lro_polls)
        self.metadata = MetadataService(self.operations)
        self.models = ModelService(self.operations, self.metadata.create_model_artifact)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._load()

    def _load(self) -> None:
        assert self.data_dir is not None
        path = self.data_dir / STATE_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        self.metadata.load(data.get("metadata", []))
        self.models.load(data.get("models", []))
        self.operations.load(data.get("operations", {}))

    def save(self) -> None:
        if self.data_dir is None:
            return
        data = {
            "models": self.models.dump(),
            "metadata": self.metadata.dump(),
            "operations": self.operations.dump(),
        }
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".vertex-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.data_dir / STATE_FILE)
