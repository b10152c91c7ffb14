"""ARM-shaped errors: ``{"error": {"code", "message", ...}}`` plus the ``x-ms-error-code`` header.

azure-mgmt-core's ``ARMErrorFormat`` parses this body into ``HttpResponseError.error``, and the
generated operations pick the exception class from the status alone (404 -> ResourceNotFoundError,
409 -> ResourceExistsError, 401 -> ClientAuthenticationError), so status and shape are what matter.
Model-asset errors come from the Azure ML service behind ARM and carry its ``UserError`` code
with a more specific ``innerError``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi.responses import JSONResponse


class ArmError(Exception):
    """Raised by handlers; rendered by :func:`to_response`."""

    def __init__(
        self, status: int, code: str, message: str, *, inner: str | None = None, target: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.target = target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        error["details"] = []
        error["additionalInfo"] = []
        if self.inner:
            error["innerError"] = {"code": self.inner}
        return {"error": error}


def to_response(exc: ArmError, location: str | None = None) -> JSONResponse:
    """Render ``exc``; Azure ML service errors also carry the service's correlation envelope."""
    body = exc.body()
    if exc.code == "UserError" and location:
        body.update({
            "correlation": {"operation": uuid.uuid4().hex, "request": uuid.uuid4().hex[:16]},
            "environment": location,
            "location": location,
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "componentName": "modelregistry",
        })
    return JSONResponse(body, status_code=exc.status, headers={"x-ms-error-code": exc.code})


def user_error(status: int, message: str, inner: str, target: str | None = None) -> ArmError:
    """An Azure ML service error: the outer code is always ``UserError`` for caller mistakes."""
    return ArmError(status, "UserError", message, inner=inner, target=target)


def bad_request(message: str, target: str | None = None) -> ArmError:
    return user_error(400, message, "BadArgument", target)


def not_found(message: str) -> ArmError:
    return user_error(404, message, "NotFoundError")


def conflict(message: str) -> ArmError:
    return user_error(409, message, "Conflict")
