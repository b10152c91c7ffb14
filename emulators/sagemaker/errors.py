"""SageMaker error codes as the AWS JSON 1.1 protocol carries them.

Every error the emulator answers is one of these, so the body (``__type`` + ``message``), the
``x-amzn-ErrorType`` header and the HTTP status stay consistent in one place.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client; ``code`` becomes ``ClientError.response['Error']['Code']``."""

    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ApiError):
    code = "ValidationException"
    status = 400


class SerializationError(ApiError):
    """The body is not JSON or a member has the wrong JSON type (AWS answers this, not a 500)."""

    code = "SerializationException"
    status = 400


class ResourceNotFound(ApiError):
    code = "ResourceNotFound"
    status = 400


class Conflict(ApiError):
    code = "ConflictException"
    status = 400


class ResourceLimitExceeded(ApiError):
    code = "ResourceLimitExceeded"
    status = 400


class ResourceInUse(ApiError):
    code = "ResourceInUse"
    status = 400


class Throttling(ApiError):
    code = "ThrottlingException"
    status = 400


class UnknownOperation(ApiError):
    code = "UnknownOperationException"
    status = 400


class InternalFailure(ApiError):
    code = "InternalFailure"
    status = 500
