"""Per-server configuration and per-request caller/permission checks."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

from .errors import HubError, bad_request, forbidden, repo_not_found, unauthorized
from .store import Repo, Store


@dataclass
class Settings:
    page_size: int = 100
    commits_page_size: int = 50
    tree_page_size: int = 1000
    lfs_threshold: int = 10 * 1024 * 1024
    multipart_threshold: int = 100 * 1024 * 1024
    multipart_chunk_size: int = 64 * 1024 * 1024
    cdn_host: str | None = None
    url_ttl: int = 3600


@dataclass
class Hub:
    store: Store
    settings: Settings
    secret: bytes

    def sign(self, purpose: str, **params: str | int) -> str:
        """Query string for a URL that is its own credential, like the Hub's presigned S3 URLs."""
        params = {**params, "exp": int(time.time()) + self.settings.url_ttl}
        payload = purpose + "|" + "|".join(f"{k}={params[k]}" for k in sorted(params))
        sig = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        return urlencode({**params, "sig": sig})

    def check_signature(self, purpose: str, query: dict[str, str]) -> dict[str, str]:
        params = {k: v for k, v in query.items() if k != "sig"}
        payload = purpose + "|" + "|".join(f"{k}={params[k]}" for k in sorted(params))
        expected = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, query.get("sig", "")):
            raise HubError(403, "Request signature does not match")
        if int(params.get("exp", "0")) < time.time():
            raise HubError(403, "Request has expired")
        return params


def base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def cdn_url(hub: Hub, request: Request) -> str:
    """Origin for LFS payload redirects.

    The Hub redirects LFS downloads to a CDN on another origin; the client then stops following
    (keeping the Hub headers of the redirect) and fetches the payload without Authorization.
    Swapping 127.0.0.1 and localhost gives the same socket a second origin.
    """
    host = hub.settings.cdn_host
    if not host:
        hostname, port = request.url.hostname, request.url.port
        swap = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(hostname or "", hostname)
        host = f"{swap}:{port}" if port else str(swap)
    return f"{request.url.scheme}://{host}"


def caller(hub: Hub, request: Request) -> str | None:
    """The authenticated user, None when anonymous; a bad token is refused outright."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    user = hub.store.user_for_token(token.strip())
    if user is None:
        raise unauthorized()
    return user


def can_write_namespace(hub: Hub, user: str | None, namespace: str) -> bool:
    return user is not None and (user == namespace or namespace in hub.store.orgs_of(user))


def can_read(hub: Hub, user: str | None, repo: Repo) -> bool:
    return not repo.private or can_write_namespace(hub, user, repo.namespace)


def readable_repo(hub: Hub, user: str | None, repo_type: str, namespace: str, name: str) -> Repo:
    repo = hub.store.get_repo(repo_type, namespace, name)
    if repo is None or not can_read(hub, user, repo):
        raise repo_not_found(authenticated=user is not None)
    return repo


def writable_repo(hub: Hub, user: str | None, repo_type: str, namespace: str, name: str) -> Repo:
    repo = readable_repo(hub, user, repo_type, namespace, name)
    if user is None:
        raise repo_not_found(authenticated=False)
    if not can_write_namespace(hub, user, namespace):
        raise forbidden(f"You don't have the rights to write to {repo.id}")
    return repo


def query_bool(request: Request, key: str) -> bool:
    value = request.query_params.get(key)
    return value is not None and value.lower() in ("1", "true", "yes", "")


def int_param(request: Request, key: str, default: int | None = None) -> int | None:
    value = request.query_params.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise bad_request(f"Invalid {key}: {value}") from exc
