"""One error taxonomy for every backend.

Lives in ``mapping`` (not ``adapters``) so pure validators can raise ``InvalidInput`` naming the
field and the rule; ``adapters.base`` re-exports it as part of the adapter contract. Each kind
says whether a retry can help, so callers never guess from messages or HTTP codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    INVALID_INPUT = "invalid_input"
    PERMISSION_DENIED = "permission_denied"
    UNSUPPORTED = "unsupported"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class RegistryError(Exception):
    """Base of the taxonomy. ``native_code`` keeps the backend's own code for diagnosis."""

    kind: ErrorKind = ErrorKind.UNAVAILABLE
    retryable: bool = False
    http_status: int = 500

    def __init__(
        self,
        message: str,
        *,
        registry: str | None = None,
        operation: str | None = None,
        native_code: str | None = None,
        field: str | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.registry = registry
        self.operation = operation
        self.native_code = native_code
        self.field = field
        self.retry_after = retry_after
        self.details = details or {}

    def with_context(self, *, registry: str | None = None, operation: str | None = None) -> RegistryError:
        self.registry = self.registry or registry
        self.operation = self.operation or operation
        return self

    def to_dict(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.field:
            details.setdefault("field", self.field)
        if self.native_code:
            details.setdefault("native_code", self.native_code)
        if self.operation:
            details.setdefault("operation", self.operation)
        if self.retry_after is not None:
            details.setdefault("retry_after", self.retry_after)
        return {
            "kind": self.kind.value,
            "message": self.message,
            "registry": self.registry,
            "retryable": self.retryable,
            "details": details,
        }

    def __str__(self) -> str:
        where = f"[{self.registry}] " if self.registry else ""
        return f"{where}{self.message}"


class NotFound(RegistryError):
    kind = ErrorKind.NOT_FOUND
    http_status = 404


class AlreadyExists(RegistryError):
    kind = ErrorKind.ALREADY_EXISTS
    http_status = 409


class InvalidInput(RegistryError):
    kind = ErrorKind.INVALID_INPUT
    http_status = 400


class PermissionDenied(RegistryError):
    kind = ErrorKind.PERMISSION_DENIED
    http_status = 403


class Unsupported(RegistryError):
    kind = ErrorKind.UNSUPPORTED
    http_status = 422


class Conflict(RegistryError):
    kind = ErrorKind.CONFLICT
    http_status = 409


class RateLimited(RegistryError):
    kind = ErrorKind.RATE_LIMITED
    retryable = True
    http_status = 429


class Unavailable(RegistryError):
    kind = ErrorKind.UNAVAILABLE
    retryable = True
    http_status = 503


BY_KIND: dict[ErrorKind, type[RegistryError]] = {
    cls.kind: cls
    for cls in (NotFound, AlreadyExists, InvalidInput, PermissionDenied, Unsupported, Conflict, RateLimited, Unavailable)
}
