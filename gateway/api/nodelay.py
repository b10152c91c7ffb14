"""uvicorn's h11 protocol with TCP_NODELAY set on every connection.

With ``--workers N`` uvicorn pre-binds the socket and asyncio then skips TCP_NODELAY, so
every keep-alive request after the first waits ~40 ms for Nagle and delayed ACK
(shared/research/mlflow.md §1.3, uvicorn#3149). Setting the option per connection removes it
whatever the worker count.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
