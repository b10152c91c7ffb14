"""Account and repository endpoints: whoami, create/delete/move/settings, info, listing."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import validation, views
from .context import (
    Hub,
    base_url,
    caller,
    can_read,
    can_write_namespace,
    query_bool,
    readable_repo,
    writable_repo,
)
from .errors import (
    HubError,
    bad_request,
    conflict,
    forbidden,
    revision_not_found,
    unauthorized,
)
from .pagination import paginated
from .store import Repo

_TYPES_BY_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise bad_request("Invalid JSON body") from exc
    if not isinstance(data, dict):
        raise bad_request("Invalid JSON body: expected an object")
    return data


async def whoami(hub: Hub, request: Request) -> Response:
    user = caller(hub, request)
    if user is None:
        raise unauthorized("Invalid credentials in Authorization header")
    orgs = [
        {"type": "org", "name": org, "fullname": org, "roleInOrg": "admin", "isEnterprise": False}
        for org in hub.store.orgs_of(user)
    ]
    return JSONResponse(
        {
            "type": "user",
            "id": hashlib.sha1(user.encode()).hexdigest()[:24],
            "name": user,
            "fullname": user,
            "email": f"{user}@users.noreply.huggingface.co",
            "emailVerified": True,
            "canPay": False,
            "isPro": False,
            "periodEnd": None,
            "avatarUrl": "",
            "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": {"displayName": "emulator", "role": "write"}},
        }
    )


def _visibility(body: dict[str, Any]) -> bool | None:
    if body.get("visibility") is not None:
        if body["visibility"] not in ("public", "private", "protected"):
            raise bad_request(f"Invalid visibility: {body['visibility']}")
        return body["visibility"] != "public"
    if body.get("private") is not None:
        return bool(body["private"])
    return None


def _target(hub: Hub, user: str | None, body: dict[str, Any]) -> tuple[str, str, str]:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("Missing repo name")
    namespace = body.get("organization") or user
    if namespace is None:
        raise unauthorized()
    validation.repo_name(namespace)
    validation.repo_name(name)
    return validation.repo_type(body.get("type")), namespace, name


async def create_repo(hub: Hub, request: Request) -> Response:
    user = caller(hub, request)
    if user is None:
        raise unauthorized()
    body = await json_body(request)
    repo_type, namespace, name = _target(hub, user, body)
    if not can_write_namespace(hub, user, namespace):
        raise forbidden(f"You don't have the rights to create a {repo_type} under the namespace \"{namespace}\"")
    url = f"{_base(request)}/{views.web_prefix(repo_type)}{namespace}/{name}"
    if repo_type == "space" and not body.get("sdk"):
        raise bad_request("Invalid request: sdk is required for a space")
    if hub.store.get_repo(repo_type, namespace, name) is not None:
        # The client reads "url" from the 409 body when create_repo(exist_ok=True).
        raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
    repo = hub.store.create_repo(repo_type, namespace, name, bool(_visibility(body)))
    return JSONResponse({"url": url, "name": repo.id, "id": views.object_id(repo)})


async def delete_repo(hub: Hub, request: Request) -> Response:
    user = caller(hub, request)
    body = await json_body(request)
    repo_type, namespace, name = _target(hub, user, body)
    repo = writable_repo(hub, user, repo_type, namespace, name)
    hub.store.delete_repo(repo)
    return Response(status_code=200)


async def move_repo(hub: Hub, request: Request) -> Response:
    user = caller(hub, request)
    body = await json_body(request)
    repo_type = validation.repo_type(body.get("type"))
    src, dst = str(body.get("fromRepo", "")), str(body.get("toRepo", ""))
    if src.count("/") != 1 or dst.count("/") != 1:
        raise bad_request("Invalid repo id: use namespace/name for fromRepo and toRepo")
    repo = writable_repo(hub, user, repo_type, *src.split("/"))
    namespace, name = dst.split("/")
    validation.repo_name(namespace)
    validation.repo_name(name)
    if not can_write_namespace(hub, user, namespace):
        raise forbidden(f"You don't have the rights to move a repo to {namespace}")
    if hub.store.get_repo(repo_type, namespace, name) is not None:
        raise conflict(f"A repo named {dst} already exists")
    hub.store.move_repo(repo, namespace, name)
    return Response(status_code=200)


async def update_settings(hub: Hub, request: Request, plural: str, ns: str, name: str) -> Response:
    user = caller(hub, request)
    repo = writable_repo(hub, user, _TYPES_BY_PLURAL[plural], ns, name)
    body = await json_body(request)
    private = _visibility(body)
    if body.get("gated") not in (None, False, "false"):
        raise HubError(501, "Gated repositories are not supported by this emulator")
    if private is not None:
        hub.store.set_private(repo, private)
    return JSONResponse({})


def _base(request: Request) -> str:
    return base_url(request)


def _expand(request: Request) -> list[str]:
    return request.query_params.getlist("expand") + request.query_params.getlist("expand[]")


def _select(data: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    """``expand=`` returns only the asked properties (plus the ids)."""
    if not expand:
        return data
    keep = {"_id", "id", *expand}
    if "cardData" in expand:
        keep.add("model-index")
    return {k: v for k, v in data.items() if k in keep}


async def repo_info(
    hub: Hub, request: Request, plural: str, ns: str, name: str, rev: str | None = None
) -> Response:
    user = caller(hub, request)
    repo = readable_repo(hub, user, _TYPES_BY_PLURAL[plural], ns, name)
    rev = unquote(rev) if rev else "main"
    commit = hub.store.resolve(repo, rev)
    if commit is None:
        raise revision_not_found(rev)
    data = views.repo_json(hub.store, repo, commit, blobs=query_bool(request, "blobs"))
    return JSONResponse(_select(data, _expand(request)))


def _matches(hub: Hub, repo: Repo, request: Request, tags: list[str]) -> bool:
    params = request.query_params
    author = params.get("author")
    if author and repo.namespace.lower() != author.lower():
        return False
    search = params.get("search")
    if search and search.lower() not in repo.id.lower():
        return False
    wanted = params.getlist("filter")
    for key in ("pipeline_tag", "library", "language", "license"):
        if params.get(key):
            wanted.append(params[key] if key in ("pipeline_tag", "library") else f"{key}:{params[key]}")
    lowered = {t.lower() for t in tags}
    return all(w.lower() in lowered or any(t.lower() == w.lower() for t in tags) for w in wanted)


async def list_repos(hub: Hub, request: Request, plural: str) -> Response:
    user = caller(hub, request)
    repo_type = _TYPES_BY_PLURAL[plural]
    full = query_bool(request, "full")
    with_card = query_bool(request, "cardData")
    expand = _expand(request)
    items: list[tuple[Repo, dict[str, Any]]] = []
    for repo in hub.store.list_repos(repo_type):
        if not can_read(hub, user, repo):
            continue
        head = hub.store.resolve(repo, "main")
        if head is None:
            continue
        data = views.repo_json(hub.store, repo, head, siblings=full, card=True, full=True)
        if not _matches(hub, repo, request, data["tags"]):
            continue
        if not with_card and "cardData" not in expand:
            data.pop("cardData", None)
            data.pop("model-index", None)
        if not full and not expand:
            data = {k: v for k, v in data.items() if k not in ("sha", "lastModified", "author", "gated", "disabled",
                                                               "usedStorage", "siblings", "spaces")}
        items.append((repo, _select(data, expand)))
    sort = request.query_params.get("sort")
    if sort in ("lastModified", "last_modified", "createdAt", "created_at"):
        field = "updated_at" if sort.startswith("last") else "created_at"
        items.sort(key=lambda pair: getattr(pair[0], field), reverse=True)
    elif sort == "id":
        items.sort(key=lambda pair: pair[0].id)
    if request.query_params.get("direction") == "1":
        items.reverse()
    return paginated(request, [data for _, data in items], hub.settings.page_size)
