"""The ASGI application: one route table matched against the *raw* request path.

Routing on ``raw_path`` matters: the client sends ``release/2024`` as ``release%2F2024`` and a
decoded path would make ``/resolve/{rev}/{file}`` ambiguous.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import api_files, api_git, api_lfs, api_repos
from .context import Hub
from .errors import HubError

log = logging.getLogger("emulators.hfhub")

Handler = Callable[..., Awaitable[Response]]

_T = r"(?P<plural>models|datasets|spaces)"
_ID = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
_PREFIX = r"(?P<prefix>datasets/|spaces/)?"
_REV = r"(?P<rev>[^/]+)"

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(p), h)
    for m, p, h in [
        ("GET", r"/api/whoami-v2", api_repos.whoami),
        ("POST", r"/api/repos/create", api_repos.create_repo),
        ("DELETE", r"/api/repos/delete", api_repos.delete_repo),
        ("POST", r"/api/repos/move", api_repos.move_repo),
        ("POST", r"/api/validate-yaml", api_git.validate_yaml),
        ("GET", rf"/api/{_T}", api_repos.list_repos),
        ("GET", rf"/api/{_T}/{_ID}", api_repos.repo_info),
        ("GET", rf"/api/{_T}/{_ID}/revision/{_REV}", api_repos.repo_info),
        ("PUT", rf"/api/{_T}/{_ID}/settings", api_repos.update_settings),
        ("POST", rf"/api/{_T}/{_ID}/preupload/{_REV}", api_git.preupload),
        ("POST", rf"/api/{_T}/{_ID}/commit/{_REV}", api_git.commit),
        ("GET", rf"/api/{_T}/{_ID}/refs", api_git.refs),
        ("POST", rf"/api/{_T}/{_ID}/tag/{_REV}", api_git.create_tag),
        ("DELETE", rf"/api/{_T}/{_ID}/tag/{_REV}", api_git.delete_tag),
        ("POST", rf"/api/{_T}/{_ID}/branch/{_REV}", api_git.create_branch),
        ("DELETE", rf"/api/{_T}/{_ID}/branch/{_REV}", api_git.delete_branch),
        ("GET", rf"/api/{_T}/{_ID}/commits/{_REV}", api_git.list_commits),
        ("GET", rf"/api/{_T}/{_ID}/tree/{_REV}(?:/(?P<path>.*))?", api_git.tree),
        ("POST", rf"/api/{_T}/{_ID}/paths-info/{_REV}", api_git.paths_info),
        ("POST", rf"/{_PREFIX}{_ID}\.git/info/lfs/objects/batch", api_lfs.batch),
        ("POST", rf"/{_PREFIX}{_ID}\.git/info/lfs/objects/verify", api_lfs.verify),
        ("PUT", r"/_lfs/upload/(?P<oid>[0-9a-f]{64})", api_lfs.upload_basic),
        ("PUT", r"/_lfs/part/(?P<oid>[0-9a-f]{64})", api_lfs.upload_part),
        ("POST", r"/_lfs/complete/(?P<oid>[0-9a-f]{64})", api_lfs.complete_multipart),
        ("GET", rf"/{_PREFIX}{_ID}/resolve/{_REV}/(?P<path>.+)", api_files.resolve),
        ("HEAD", rf"/{_PREFIX}{_ID}/resolve/{_REV}/(?P<path>.+)", api_files.resolve),
        ("GET", r"/_cdn/(?P<oid>[0-9a-f]{64})", api_files.cdn),
        ("HEAD", r"/_cdn/(?P<oid>[0-9a-f]{64})", api_files.cdn),
    ]
]

_XET = re.compile(rf"/api/{_T}/{_ID}/xet-(?:write|read)-token/.*")


def _route(method: str, path: str) -> tuple[Handler, dict[str, Any]] | None:
    allowed = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            if route_method == method:
                return handler, {k: v for k, v in match.groupdict().items() if v is not None or k == "prefix"}
            allowed = True
    if allowed:
        raise HubError(405, f"Method {method} not allowed on {path}")
    return None


class HubApp:
    def __init__(self, hub: Hub):
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        try:
            if _XET.fullmatch(path):
                raise HubError(
                    501,
                    "Xet storage is not offered by this server; set HF_HUB_DISABLE_XET=1 so huggingface_hub "
                    "uses the LFS batch API.",
                )
            routed = _route(request.method, path)
            if routed is None:
                raise HubError(404, f"Sorry, we can't find the page you are looking for: {path}")
            handler, params = routed
            response = await handler(self.hub, request, **params)
        except HubError as exc:
            response = exc.response()
        except Exception:
            log.exception("internal error on %s %s", request.method, path)
            response = HubError(500, "Internal Error - We're working hard to fix this as soon as possible!").response()
        # huggingface_hub quotes the request id in its error messages, as it does for the Hub's.
        response.headers["X-Request-Id"] = request.headers.get("x-amzn-trace-id") or uuid.uuid4().hex
        log.info("%s %s -> %s", request.method, path, response.status_code)
        await response(scope, receive, send)
