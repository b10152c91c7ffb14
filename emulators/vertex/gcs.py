"""The GCS half of the sandbox: gcp-storage-emulator in a thread of this process.

Vertex keeps model artifacts in GCS, so a Vertex sandbox without GCS is not usable by the
SDK (local artifact staging) or by tools that copy artifacts. google-cloud-storage reaches
it through STORAGE_EMULATOR_HOST, which the announcement line carries.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any


class GcsEmulator:
    def __init__(self, host: str, data_dir: Path | None) -> None:
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        gcs_dir = None if data_dir is None else str((data_dir / "gcs").resolve())
        if gcs_dir is not None:
            Path(gcs_dir).mkdir(parents=True, exist_ok=True)
        self._server: Any = create_server(host, 0, in_memory=data_dir is None, data_dir=gcs_dir)
        self.host = host

    def start(self) -> str:
        """Start serving; -> the endpoint URL (the ephemeral port is known only once bound)."""
        self._server.start()
        # The package exposes no port accessor; its APIThread keeps the bound HTTPServer here.
        port = self._server._api._httpd.server_address[1]
        return f"http://{self.host}:{port}"

    def stop(self) -> None:
        self._server.stop()
