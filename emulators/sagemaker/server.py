"""The HTTP front: AWS JSON 1.1 (``POST /`` + ``X-Amz-Target: SageMaker.<Operation>``).

Each request is parsed, validated against botocore's input shape, run under the store lock
and answered with the JSON body, ``x-amzn-RequestId`` and, on error, the ``__type`` body and
``x-amzn-ErrorType`` header botocore reads the error code from.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import lineage, model_package_groups, model_packages, search, tagging  # noqa: F401 - register handlers
from .errors import ApiError, InternalFailure, SerializationError, UnknownOperation
from .request_context import HANDLERS, RequestContext
from .service_model import operation, target_prefix
from .state import Store
from .throttle import TokenBucket
from .validation import validate

log = logging.getLogger("emulators.sagemaker")
CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, bucket: TokenBucket | None = None) -> None:
        super().__init__(address, RequestHandler)
        self.store = store
        self.bucket = bucket


def _access_key(authorization: str | None) -> str:
    match = _CREDENTIAL.search(authorization or "")
    return match.group(1) if match else "anonymous"


def handle(store: Store, target: str | None, body: bytes, authorization: str | None,
           bucket: TokenBucket | None = None) -> dict[str, Any]:
    """Run one request to completion; raises ApiError for anything AWS would answer as an error."""
    prefix = target_prefix() + "."
    if not target or not target.startswith(prefix):
        raise UnknownOperation(f"Operation {target or '(none)'} is not recognised.")
    name = target[len(prefix):]
    model = operation(name)
    if model is None:
        raise UnknownOperation(f"Operation {name} is not recognised.")
    handler = HANDLERS.get(name)
    if handler is None:
        raise UnknownOperation(f"Operation {name} is not supported by this SageMaker emulator.")
    try:
        params = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise SerializationError("Request body must be a JSON object.")
    params = {k: v for k, v in params.items() if v is not None}
    if bucket is not None:
        bucket.take()
    validate(model.input_shape, params)
    with store.lock:
        ctx = RequestContext(store, access_key=_access_key(authorization))
        result = handler(ctx, params)
        if ctx.mutated:
            store.save()
    return result


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK adds ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, error: ApiError) -> None:
        self._send(error.status, {"__type": error.code, "message": error.message}, {"x-amzn-ErrorType": error.code})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            result = handle(self.server.store, self.headers.get("X-Amz-Target"), body,
                            self.headers.get("Authorization"), self.server.bucket)
        except ApiError as error:
            self._send_error(error)
            return
        except Exception:  # a bug here must surface as AWS's 500, not a dropped connection
            log.exception("internal failure")
            self._send_error(InternalFailure("We encountered an internal error. Please try again."))
            return
        self._send(200, result)

    def do_GET(self) -> None:
        self._send_error(UnknownOperation("Only POST / with an X-Amz-Target header is served."))
