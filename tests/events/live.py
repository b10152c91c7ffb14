"""A gateway served by a real uvicorn on a free loopback port, over two in-process MLflow registries."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from gateway.api import create_app
from gateway.api.auth import hash_key
from gateway.config import AuthConfig, GatewayConfig, RegistryConfig
from gateway.events.settings import DeliverySettings

KEYS = {"admin": "k-admin-events", "viewer": "k-viewer-events", "editor": "k-editor-events"}


def api_keys_env() -> str:
    return ",".join(f"{role}-user:{role}:{hash_key(key)}" for role, key in KEYS.items())


def two_mlflow_config(root: Path, anonymous_role: str | None = None) -> GatewayConfig:
    def mlflow(name: str) -> RegistryConfig:
        return RegistryConfig(kind="mlflow", tracking_uri=f"sqlite:///{root / f'{name}.db'}",  # type: ignore[arg-type]
                              artifact_location=str(root / f"{name}-artifacts"))

    return GatewayConfig(data_dir=str(root), auth=AuthConfig(anonymous_role=anonymous_role),  # type: ignore[arg-type]
                         registries={"local": mlflow("local"), "other": mlflow("other")})


@dataclass
class LiveGateway:
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def serve(config: GatewayConfig, settings: DeliverySettings) -> LiveGateway:
    app = create_app(config)
    app.state.event_settings = settings
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return LiveGateway(server, thread)
