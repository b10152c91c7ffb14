"""Hub-shaped errors.

huggingface_hub picks its exception class from ``X-Error-Code`` and builds the message from
``X-Error-Message`` plus the JSON ``error`` field, so every error carries all three.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class HubError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        headers = dict(self.headers)
        if self.code:
            headers["X-Error-Code"] = self.code
        # Header values must be latin-1; the JSON body keeps the full text.
        headers["X-Error-Message"] = self.message.encode("ascii", "replace").decode().replace("\n", " ")
        return JSONResponse({"error": self.message, **self.extra}, status_code=self.status, headers=headers)


def repo_not_found(authenticated: bool) -> HubError:
    # The Hub never reveals whether a hidden repo exists: anonymous callers get 401, others 404.
    return HubError(
        404 if authenticated else 401,
        "Repository not found",
        "RepoNotFound",
    )


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str, commit: str | None = None) -> HubError:
    headers = {"X-Repo-Commit": commit} if commit else None
    return HubError(404, f"Entry not found: {path}", "EntryNotFound", headers)


def bad_request(message: str) -> HubError:
    return HubError(400, message)


def forbidden(message: str) -> HubError:
    return HubError(403, message)


def unauthorized(message: str = "Invalid credentials in Authorization header") -> HubError:
    return HubError(401, message)


def conflict(message: str) -> HubError:
    return HubError(409, message)
