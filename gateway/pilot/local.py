"""A gateway served from this process for ``mrg pilot`` without ``--url``.

The pilot drives the REST API like any user would, so latencies include the gateway's own
HTTP layer; serving on a loopback port from a thread keeps that true without a second command.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from gateway.config import GatewayConfig
from gateway.core import Gateway


@contextmanager
def local_gateway(config: GatewayConfig, gateway: Gateway | None = None) -> Iterator[tuple[str, Gateway]]:
    import uvicorn

    from gateway.api import create_app

    gw = gateway or Gateway(config)
    # Bind here (port 0) and hand the socket over: no window in which another process takes it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config, gw), log_level="warning",
                                           http="gateway.api.nodelay:NoDelayH11Protocol"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="mrg-pilot-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the pilot's local gateway did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", gw
    finally:
        server.should_exit = True
        thread.join(timeout=30)
