"""``/v1/models`` and ``/v1/versions``: the federated catalog over every configured registry.

Concurrent fan-out with a per-registry deadline; a registry that is down, slow, erroring or
throttled costs its own results only: the answer is still 200 with ``partial: true`` and one
entry in ``errors[]`` per failing registry. With the catalog cache enabled the answer comes
from the store and says how old it is (``cached_at``, ``age_seconds``); ``fresh=true`` asks
the registries instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from gateway.api.auth import Principal, require, require_somewhere
from gateway.api.bodies import SearchPage, VersionSearchPage
from gateway.api.routes import Caller, GatewayDep
from gateway.catalog import Catalog, CatalogPage, CatalogQuery, catalog_for
from gateway.core import Gateway
from mapping.errors import InvalidInput
from mapping.schema import ApprovalStatus, Stage

router = APIRouter(prefix="/v1")

Text = Annotated[str | None, Query(max_length=500, description="free text: every word must occur in the name, "
                                                               "description or tags (case-insensitive)")]
Registries = Annotated[list[str] | None, Query(description="limit to these registries (repeatable)")]
Tags = Annotated[list[str] | None, Query(description="key=value, repeatable; all must match")]
Prefix = Annotated[str | None, Query(max_length=500, description="model name prefix")]
Alias = Annotated[str | None, Query(max_length=256, description="models holding this alias / versions it points at")]
Since = Annotated[datetime | None, Query(description="updated at or after this time (ISO 8601)")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=4096, description="next_cursor of the previous page, same query")]
Deadline = Annotated[float | None, Query(gt=0, le=60, description="seconds to wait for each registry "
                                                                  "(default: catalog.deadline_seconds)")]
Fresh = Annotated[bool, Query(description="ask the registries now even when the catalog cache is enabled")]


def catalog(request: Request, gw: GatewayDep) -> Catalog:
    """The gateway's catalog; its cache refresher stops with the application."""
    cat = catalog_for(gw)
    cat.start_refreshing()
    if not getattr(request.app.state, "catalog_closer", False):
        request.app.state.catalog_closer = True
        request.app.router.on_shutdown.append(cat.close)
    return cat


@router.get("/models", response_model=SearchPage, tags=["catalog"])
def search_models(
    request: Request, gw: GatewayDep, who: Caller, q: Text = None, registry: Registries = None, tag: Tags = None,
    prefix: Prefix = None, alias: Alias = None, updated_since: Since = None, limit: Limit = 100,
    cursor: Cursor = None, deadline: Deadline = None, fresh: Fresh = False,
) -> SearchPage:
    """Models of every registry, by name then registry."""
    query = CatalogQuery(text=q, registries=_readable(gw, who, registry), tags=_tags(tag), name_prefix=prefix,
                         alias=alias, updated_since=updated_since)
    page = catalog(request, gw).search_models(query, limit=limit, cursor=cursor, deadline=deadline, fresh=fresh,
                                              visible=_visible(who))
    return SearchPage(items=page.items, **_envelope(page))


@router.get("/versions", response_model=VersionSearchPage, tags=["catalog"])
def search_versions(
    request: Request, gw: GatewayDep, who: Caller, q: Text = None, registry: Registries = None, tag: Tags = None,
    prefix: Prefix = None, alias: Alias = None, updated_since: Since = None,
    stage: Annotated[Stage | None, Query()] = None, approval: Annotated[ApprovalStatus | None, Query()] = None,
    framework: Annotated[str | None, Query(max_length=128)] = None, limit: Limit = 100, cursor: Cursor = None,
    deadline: Deadline = None, fresh: Fresh = False,
) -> VersionSearchPage:
    """Versions of every model of every registry, by model, registry, then creation order.

    Live, this reads every model's versions (one call per model); enable the catalog cache
    for large registries. ``alias`` reads only the aliased version of each model.
    """
    query = CatalogQuery(text=q, registries=_readable(gw, who, registry), tags=_tags(tag), name_prefix=prefix,
                         alias=alias, updated_since=updated_since, stage=stage, approval=approval, framework=framework)
    page = catalog(request, gw).search_versions(query, limit=limit, cursor=cursor, deadline=deadline, fresh=fresh,
                                                visible=_visible(who))
    return VersionSearchPage(items=page.items, **_envelope(page))


def _envelope(page: CatalogPage) -> dict:  # type: ignore[type-arg]
    return {"partial": page.partial, "errors": [f.as_dict() for f in page.failures], "next_cursor": page.next_cursor,
            "cached_at": page.cached_at, "age_seconds": page.age_seconds}


def _readable(gw: Gateway, who: Principal, names: list[str] | None) -> tuple[str, ...]:
    """The registries to search: those asked for (each must exist and be readable), else every
    registry the caller may read something in."""
    require_somewhere(who, "read")
    if names:
        for name in dict.fromkeys(names):
            gw.handle(name)
            require(who, "read", name)
        return tuple(sorted(set(names)))
    return tuple(n for n in gw.registry_names() if who.can("read", n))


def _visible(who: Principal) -> Callable[[str, str], bool]:
    """Per-model read grants: results the caller may not read are left out before paging."""
    return lambda registry, model: who.can("read", registry, model)


def _tags(items: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"tag: {item!r} must be key=value", field="tag")
        tags[key] = value
    return tags
