"""A small fault-injecting HTTP proxy for testing the catalog against real registries.

Sits between an adapter and its real server (e.g. ``mlflow server``) and, per its current
``mode``, forwards requests untouched, answers 500 or 429 with ``Retry-After`` itself, or
holds each request for a while before forwarding it. Binds 127.0.0.1 on a free port. The
benchmarks use ``delay`` mode to give every registry the same injected latency.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


@dataclass
class Fault:
    """``pass``; ``error`` (status 500); ``throttle`` (429 + Retry-After); ``delay`` (hold, then forward).

    ``replay``: answer a GET the upstream already answered from memory, so a benchmark measures
    the injected latency rather than one shared upstream's CPU.
    """

    mode: str = "pass"
    status: int = 500
    retry_after: int = 30
    delay: float = 0.0
    replay: bool = False


class FaultProxy:
    def __init__(self, upstream: str, fault: Fault | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.fault = fault or Fault()
        self.requests = 0
        self.in_flight = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._replies: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _upstream(self) -> http.client.HTTPConnection:
        """One keep-alive upstream connection per proxy thread (a client connection maps to a thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
            self._local.conn = conn
        return conn

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms Nagle stall

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.requests += 1
                    proxy.in_flight += 1
                try:
                    self._answer(body)
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1

            def _answer(self, body: bytes | None) -> None:
                fault = proxy.fault
                if fault.mode == "error":
                    return self._reply(fault.status, b'{"error_code": "INTERNAL_ERROR", "message": "injected fault"}')
                if fault.mode == "throttle":
                    return self._reply(429, b'{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}',
                                       {"Retry-After": str(fault.retry_after)})
                if fault.mode == "delay" and fault.delay:
                    time.sleep(fault.delay)
                if fault.replay and self.command == "GET" and self.path in proxy._replies:
                    return self._reply(*proxy._replies[self.path])
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                for attempt in range(2):
                    conn = proxy._upstream()
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        data = resp.read()
                        break
                    except (http.client.HTTPException, OSError):
                        conn.close()
                        proxy._local.conn = None
                        if attempt:
                            return self._reply(502, b'{"message": "upstream unreachable"}')
                out = {k: v for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}}
                if fault.replay and self.command == "GET" and resp.status == 200:
                    proxy._replies[self.path] = (resp.status, data, out)
                self._reply(resp.status, data, out)

            def _reply(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                headers = headers or {"Content-Type": "application/json"}
                for key, value in headers.items():
                    self.send_header(key, value)
                if not any(k.lower() == "content-type" for k in headers):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        return Handler
