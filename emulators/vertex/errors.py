"""google.rpc.Status errors, shaped the way Vertex AI answers over REST.

The REST client picks its exception class from the HTTP status alone, while an LRO's
``error`` is judged by its gRPC code, so every error carries both and each surface
emits the one its reader looks at.
"""

from __future__ import annotations

from typing import Any

# google/rpc/code.proto: name -> (gRPC number, HTTP status).
CODES: dict[str, tuple[int, int]] = {
    "OK": (0, 200),
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "DATA_LOSS": (15, 500),
    "UNAUTHENTICATED": (16, 401),
}


class ApiError(Exception):
    """A failure the emulator reports to the caller instead of a result."""

    def __init__(self, status: str, message: str) -> None:
        if status not in CODES:
            raise ValueError(f"unknown status {status!r}")
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def grpc_code(self) -> int:
        return CODES[self.status][0]

    @property
    def http_status(self) -> int:
        return CODES[self.status][1]

    def rest_body(self) -> dict[str, Any]:
        """The JSON body Google APIs send over REST: ``{"error": {code, message, status}}``."""
        return {
            "error": {
                "code": self.http_status,
                "message": self.message,
                "status": self.status,
            }
        }

    def operation_error(self) -> dict[str, Any]:
        """The ``google.rpc.Status`` placed in a failed Operation (gRPC code, not HTTP)."""
        return {"code": self.grpc_code, "message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ApiError:
    return ApiError("NOT_FOUND", message)


def already_exists(message: str) -> ApiError:
    return ApiError("ALREADY_EXISTS", message)


def precondition(message: str) -> ApiError:
    return ApiError("FAILED_PRECONDITION", message)
