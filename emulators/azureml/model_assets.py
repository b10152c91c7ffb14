"""Model containers and versions: the rules the Azure ML service applies, independent of HTTP.

What Azure freezes stays frozen (``modelUri`` - "Asset paths cannot be updated." - and, as a
documented assumption, ``modelType``, ``flavors``, ``jobName``, ``isAnonymous``); ``properties``
are add-only; tags, description, stage and ``isArchived`` are mutable. A PUT that leaves a field
out keeps the stored value, because the SDK's own archive/restore PUT omits ``stage``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from emulators.azureml import validation
from emulators.azureml.errors import bad_request, not_found, user_error
from emulators.azureml.store import Scope, Store

PROVIDER = "Microsoft.MachineLearningServices"
# Version fields the service stores; anything else in a request body is ignored, as ARM does.
STORED_FIELDS = (
    "description", "tags", "properties", "isAnonymous", "isArchived", "flavors", "modelType", "modelUri",
    "jobName", "stage", "datasets", "intellectualProperty", "systemMetadata", "defaultDeploymentTemplate",
)
FROZEN_FIELDS = ("modelUri", "modelType", "flavors", "jobName", "isAnonymous")


@dataclass(frozen=True)
class Caller:
    """Who is calling (for ``systemData``) and when."""

    name: str
    at: str

    @staticmethod
    def now(name: str) -> Caller:
        return Caller(name, dt.datetime.now(dt.UTC).isoformat())


def _system_data(created: dict[str, str], modified: dict[str, str]) -> dict[str, str]:
    return {
        "createdAt": created["at"], "createdBy": created["by"], "createdByType": "User",
        "lastModifiedAt": modified["at"], "lastModifiedBy": modified["by"], "lastModifiedByType": "User",
    }


def container_id(scope: Scope, name: str) -> str:
    if scope["kind"] == "registries":
        return f"azureml://registries/{scope['parent']}/models/{name}"
    return (
        f"/subscriptions/{scope['subscription']}/resourceGroups/{scope['resourceGroup']}/providers/{PROVIDER}"
        f"/workspaces/{scope['parent']}/models/{name}"
    )


def asset_id(scope: Scope, name: str, version: str) -> str:
    return f"{container_id(scope, name)}/versions/{version}"


def _get_container(scope: Scope, name: str) -> dict[str, Any]:
    container = scope["models"].get(name)
    if container is None:
        raise not_found(f"Could not find model container with name: {name} in {_where(scope)}.")
    return container  # type: ignore[no-any-return]


def _get_version(scope: Scope, name: str, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    container = scope["models"].get(name)
    record = container["versions"].get(version) if container else None
    if container is None or record is None:
        raise not_found(f"Could not find asset with ID: {asset_id(scope, name, version)}")
    return container, record


def _where(scope: Scope) -> str:
    noun = "registry" if scope["kind"] == "registries" else "workspace"
    return f"{noun} {scope['parent']}"


def effective_archived(container: dict[str, Any], record: dict[str, Any]) -> bool:
    """Archiving a container archives every version in it (inferred from the docs)."""
    return bool(container.get("isArchived")) or bool(record["props"].get("isArchived"))


def _numeric(version: str) -> int:
    return int(version) if version.isdigit() else 0


def latest_version(container: dict[str, Any]) -> str | None:
    """The newest non-archived version, else the newest one (see docs: unconfirmed)."""
    records = sorted(container["versions"].values(), key=lambda r: r["seq"])
    active = [r for r in records if not effective_archived(container, r)]
    pick = (active or records)[-1:] if records else []
    return pick[0]["version"] if pick else None


def next_version(scope: Scope, name: str) -> str:
    container = scope["models"].get(name)
    taken = [_numeric(v) for v in (container["versions"] if container else {})]
    taken += [_numeric(v) for v in scope["deleted"].get(name, {})]
    return str(max(taken, default=0) + 1)


def render_container(scope: Scope, name: str) -> dict[str, Any]:
    container = _get_container(scope, name)
    kind = "registries" if scope["kind"] == "registries" else "workspaces"
    return {
        "id": container_id(scope, name),
        "name": name,
        "type": f"{PROVIDER}/{kind}/models",
        "systemData": _system_data(container["created"], container["modified"]),
        "properties": {
            "description": container.get("description"),
            "tags": dict(container.get("tags") or {}),
            "properties": dict(container.get("properties") or {}),
            "isArchived": bool(container.get("isArchived")),
            "latestVersion": latest_version(container),
            "nextVersion": next_version(scope, name),
            "provisioningState": "Succeeded",
        },
    }


def render_version(scope: Scope, name: str, version: str) -> dict[str, Any]:
    container, record = _get_version(scope, name, version)
    kind = "registries" if scope["kind"] == "registries" else "workspaces"
    props: dict[str, Any] = {
        "description": None, "tags": {}, "properties": {}, "isAnonymous": False, "flavors": {},
        "modelType": "custom_model", "modelUri": None, "jobName": None, "stage": None,
    }
    props.update({k: v for k, v in record["props"].items() if k in STORED_FIELDS})
    props["flavors"] = props.get("flavors") or {}  # the SDK iterates it unconditionally
    props["isArchived"] = effective_archived(container, record)
    props["provisioningState"] = "Succeeded"
    return {
        "id": asset_id(scope, name, version),
        "name": version,
        "type": f"{PROVIDER}/{kind}/models/versions",
        "systemData": _system_data(record["created"], record["modified"]),
        "properties": props,
    }


def _body_properties(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise bad_request("The request body must be a JSON object with a 'properties' object.", target="properties")
    props: dict[str, Any] = body["properties"]
    # The registry data-plane path spells it in snake case (azure-ai-ml quirk); store one spelling.
    if "system_metadata" in props and "systemMetadata" not in props:
        props = {**props, "systemMetadata": props["system_metadata"]}
    return props


def _validated(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "description" in props:
        out["description"] = validation.description(props["description"])
    for field in ("tags", "properties"):
        if field in props:
            out[field] = validation.string_map(props[field], field)
    for field in ("modelUri", "modelType", "jobName", "stage"):
        if field in props:
            out[field] = validation.optional_str(props[field], field)
    for field in ("isAnonymous", "isArchived"):
        if field in props:
            out[field] = validation.optional_bool(props[field], field)
    if "flavors" in props:
        flavors = props["flavors"]
        if flavors is not None and not isinstance(flavors, dict):
            raise bad_request("'flavors' must be an object.", target="flavors")
        out["flavors"] = flavors or None
    for field in ("datasets", "intellectualProperty", "systemMetadata", "defaultDeploymentTemplate"):
        if field in props and props[field] is not None:
            out[field] = props[field]
    return out


def _same(field: str, old: Any, new: Any) -> bool:
    if field == "modelType":
        norm = [str(v or "custom_model").replace("_", "").lower() for v in (old, new)]
        return norm[0] == norm[1]
    if field == "flavors":
        return (old or None) == (new or None)
    return old == new


def put_version(store: Store, scope: Scope, name: str, version: str, body: Any, caller: Caller) -> tuple[int, dict]:
    """Create (201) or update (200) one version, enforcing what is frozen and add-only."""
    validation.model_name(name)
    validation.model_version(version)
    incoming = _validated(_body_properties(body))
    container = scope["models"].get(name)
    existing = container["versions"].get(version) if container else None
    if existing is None:
        deleted_at = scope["deleted"].get(name, {}).get(version)
        if deleted_at and scope["kind"] == "registries":
            raise bad_request(
                f"Asset {asset_id(scope, name, version)} was deleted at {deleted_at}, it cannot be recreated. "
                "Please try again with a different version."
            )
        if not incoming.get("modelUri"):
            raise bad_request("Model URI must be provided when creating a model version.", target="modelUri")
        if container is None:
            container = scope["models"][name] = {
                "name": name, "description": None, "tags": {}, "properties": {}, "isArchived": False,
                "created": {"at": caller.at, "by": caller.name}, "modified": {"at": caller.at, "by": caller.name},
                "versions": {},
            }
        incoming.setdefault("modelType", "custom_model")
        incoming.setdefault("isArchived", False)
        incoming.setdefault("isAnonymous", False)
        container["versions"][version] = {
            "version": version, "seq": store.next_seq(), "props": incoming,
            "created": {"at": caller.at, "by": caller.name}, "modified": {"at": caller.at, "by": caller.name},
        }
        return 201, render_version(scope, name, version)

    stored = existing["props"]
    for field in FROZEN_FIELDS:
        if field in incoming and not _same(field, stored.get(field), incoming[field]):
            if field == "modelUri":
                raise user_error(409, "Asset paths cannot be updated.", "Conflict", target="modelUri")
            raise bad_request(f"'{field}' of an existing model version cannot be changed.", target=field)
    if "properties" in incoming:
        incoming["properties"] = _add_only(stored.get("properties") or {}, incoming["properties"], name)
    for field in FROZEN_FIELDS:
        incoming.pop(field, None)
    stored.update(incoming)
    existing["modified"] = {"at": caller.at, "by": caller.name}
    return 200, render_version(scope, name, version)


def _add_only(old: dict[str, str], new: dict[str, str], name: str) -> dict[str, str]:
    for key, value in new.items():
        if key in old and old[key] != value:
            raise bad_request(
                f"Value of property {key} for model {name} cannot be replaced to {value} without increasing "
                "the version.",
                target="properties",
            )
    return {**old, **new}


def put_container(scope: Scope, name: str, body: Any, caller: Caller) -> tuple[int, dict]:
    validation.model_name(name)
    incoming = _validated(_body_properties(body))
    container = scope["models"].get(name)
    status = 200
    if container is None:
        status = 201
        container = scope["models"][name] = {
            "name": name, "description": None, "tags": {}, "properties": {}, "isArchived": False,
            "created": {"at": caller.at, "by": caller.name}, "modified": {"at": caller.at, "by": caller.name},
            "versions": {},
        }
    if "properties" in incoming:
        container["properties"] = _add_only(container.get("properties") or {}, incoming["properties"], name)
    for field in ("description", "tags", "isArchived"):
        if field in incoming:
            container[field] = incoming[field] if field != "isArchived" else bool(incoming[field])
    container["modified"] = {"at": caller.at, "by": caller.name}
    return status, render_container(scope, name)


def delete_version(scope: Scope, name: str, version: str, caller: Caller) -> bool:
    container = scope["models"].get(name)
    if not container or version not in container["versions"]:
        return False
    del container["versions"][version]
    scope["deleted"].setdefault(name, {})[version] = caller.at
    return True


def delete_container(scope: Scope, name: str, caller: Caller) -> bool:
    container = scope["models"].pop(name, None)
    if container is None:
        return False
    for version in container["versions"]:
        scope["deleted"].setdefault(name, {})[version] = caller.at
    return True


def parse_view(raw: str | None) -> str:
    """``ActiveOnly``/``ArchivedOnly``/``All``; the registry client sends ``ListViewType.ACTIVE_ONLY``."""
    if raw is None or raw == "":
        return "activeonly"
    value = raw.split(".", 1)[1] if raw.lower().startswith("listviewtype.") else raw
    value = value.replace("_", "").lower()
    if value not in {"activeonly", "archivedonly", "all"}:
        raise bad_request(f"Invalid listViewType '{raw}'. Allowed values: ActiveOnly, ArchivedOnly, All.")
    return value


def _view_keeps(view: str, archived: bool) -> bool:
    return view == "all" or (view == "archivedonly") == archived


def _matches_pairs(spec: str | None, values: dict[str, str]) -> bool:
    """``tags``/``properties`` filters: ``k1,k2=v2`` - every key present, values equal where given."""
    if not spec:
        return True
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key, sep, expected = item.partition("=")
        if key not in values or (sep and values[key] != expected):
            return False
    return True


def list_versions(scope: Scope, name: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """Every matching version in order; the HTTP layer pages the result."""
    container = scope["models"].get(name)
    if container is None:
        return []
    view = parse_view(query.get("listViewType"))
    records = [r for r in container["versions"].values() if _view_keeps(view, effective_archived(container, r))]
    if query.get("version"):
        records = [r for r in records if r["version"] == query["version"]]
    if query.get("stage"):
        records = [r for r in records if r["props"].get("stage") == query["stage"]]
    if query.get("description"):
        records = [r for r in records if query["description"] in (r["props"].get("description") or "")]
    records = [r for r in records if _matches_pairs(query.get("tags"), r["props"].get("tags") or {})]
    records = [r for r in records if _matches_pairs(query.get("properties"), r["props"].get("properties") or {})]
    records.sort(key=_order_key(query.get("$orderBy")), reverse=_descending(query.get("$orderBy")))
    return [render_version(scope, name, r["version"]) for r in records]


def _order_key(order_by: str | None):  # type: ignore[no-untyped-def]
    field = (order_by or "createdtime").split()[0].lower()
    if field in {"createdtime", "createdat", "created_time"}:
        return lambda r: r["seq"]
    if field == "version":
        return lambda r: (_numeric(r["version"]), r["version"])
    raise bad_request(f"Unsupported $orderBy '{order_by}'. Supported: createdtime [asc|desc], version [asc|desc].")


def _descending(order_by: str | None) -> bool:
    parts = (order_by or "").split()
    return len(parts) > 1 and parts[1].lower() == "desc"


def list_containers(scope: Scope, query: dict[str, str]) -> list[dict[str, Any]]:
    view = parse_view(query.get("listViewType"))
    names = [n for n, c in scope["models"].items() if _view_keeps(view, bool(c.get("isArchived")))]
    names.sort(key=lambda n: scope["models"][n]["created"]["at"])
    return [render_container(scope, n) for n in names]


def get_version(scope: Scope, name: str, version: str) -> dict[str, Any]:
    return render_version(scope, name, version)


def get_container(scope: Scope, name: str) -> dict[str, Any]:
    return render_container(scope, name)


def require_version(scope: Scope, name: str, version: str) -> dict[str, Any]:
    """The stored record, or the 404 the service gives for a missing asset."""
    return _get_version(scope, name, version)[1]
