"""From audit events to CloudEvents: which changes are worth announcing, and their payloads.

Events are derived from the audit log, not emitted by route handlers, so every mutation the
gateway records (API, CLI, migrations) produces the same events. An audit action maps to zero
or more event types by comparing its before/after snapshots: a PATCH that only edits a
description is not a "tags changed" event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.store.models import AuditEvent
from mapping.schema import MrgUri

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

VERSION_CREATED = "mrg.version.created"
VERSION_DELETED = "mrg.version.deleted"
VERSION_TAGS_CHANGED = "mrg.version.tags_changed"
VERSION_APPROVAL_CHANGED = "mrg.version.approval_changed"
VERSION_STAGE_CHANGED = "mrg.version.stage_changed"
MODEL_CREATED = "mrg.model.created"
MODEL_DELETED = "mrg.model.deleted"
MODEL_TAGS_CHANGED = "mrg.model.tags_changed"
ALIAS_MOVED = "mrg.alias.moved"
MIGRATION_FINISHED = "mrg.migration.finished"
PING = "mrg.webhook.ping"

# Audit actions that move aliases or stages: the gateway's own routes and governance promote/rollback.
POINTER_ACTIONS = frozenset({"alias.set", "alias.delete", "promote", "rollback"})
# Approval decisions: set directly, or through governance approval requests.
APPROVAL_ACTIONS = frozenset({"version.approval", "approval.request", "approval.approve", "approval.reject"})

# What a subscriber can ask for, with what each means (published in docs/events.md and the API).
EVENT_TYPES: dict[str, str] = {
    VERSION_CREATED: "a version was registered (data.object is the new version)",
    VERSION_DELETED: "a version was deleted (data.object is the version as it was)",
    VERSION_TAGS_CHANGED: "a version's tags differ after an update (data.tags: before, after, added, removed, changed)",
    VERSION_APPROVAL_CHANGED: "an approval decision was recorded (data.from, data.to: status, by, comment)",
    VERSION_STAGE_CHANGED: "a version moved to another canonical stage (data.from, data.to)",
    MODEL_CREATED: "a model was created",
    MODEL_DELETED: "a model was deleted",
    MODEL_TAGS_CHANGED: "a model's tags differ after an update",
    ALIAS_MOVED: "an alias was set, moved or removed (data.alias, data.from_version, data.to_version, data.via)",
    MIGRATION_FINISHED: "a migration job finished (data.state: succeeded | failed, counts)",
    PING: "sent by POST /v1/webhooks/{id}/test only",
}


@dataclass(frozen=True)
class Event:
    """One CloudEvent before serialisation, plus what subscriptions filter on."""

    type: str
    registry: str | None
    model: str | None
    subject: str | None
    data: dict[str, Any]


def events_for(row: AuditEvent) -> list[Event]:
    """The events one audit row announces (none for actions nobody subscribes to)."""
    before, after = row.before or {}, row.after or {}
    base = {"actor": row.actor, "request_id": row.request_id, "audit_id": row.id, "registry": row.registry_name}
    action = row.action
    if action == "migration.finished":
        return [Event(MIGRATION_FINISHED, row.registry_name, None, row.target, {**base, **after})]
    if action in POINTER_ACTIONS:
        return _alias_moves(row, before, after, base) + _stage_moves(row, before, after, base)
    if action in APPROVAL_ACTIONS:
        return _version_events(row, before, after, base, "version.approval")
    if action.startswith("version."):
        return _version_events(row, before, after, base)
    if action.startswith("model."):
        return _model_events(row, before, after, base)
    return []


def _version_events(row: AuditEvent, before: dict[str, Any], after: dict[str, Any], base: dict[str, Any],
                    action: str | None = None) -> list[Event]:
    current = after or before
    model, version = current.get("model"), current.get("version")
    subject = _uri(row.registry_name, model, version) or row.target
    common = {**base, "model": model, "version": version}
    action = action or row.action
    if action == "version.create":
        return [Event(VERSION_CREATED, row.registry_name, model, subject, {**common, "object": after})]
    if action == "version.delete":
        return [Event(VERSION_DELETED, row.registry_name, model, subject, {**common, "object": before})]
    if action == "version.approval":
        was, now = before.get("approval"), after.get("approval")
        return [Event(VERSION_APPROVAL_CHANGED, row.registry_name, model, subject, {**common, "from": was, "to": now})]
    if action == "version.stage":
        if before.get("stage") == after.get("stage") and before:
            return []
        return [Event(VERSION_STAGE_CHANGED, row.registry_name, model, subject,
                      {**common, "from": before.get("stage"), "to": after.get("stage")})]
    if action == "version.update":
        return _tags_event(VERSION_TAGS_CHANGED, row, before, after, common, subject, model)
    return []


def _model_events(row: AuditEvent, before: dict[str, Any], after: dict[str, Any], base: dict[str, Any]) -> list[Event]:
    model = (after or before).get("name")
    subject = _uri(row.registry_name, model, None) or row.target
    common = {**base, "model": model}
    if row.action == "model.create":
        return [Event(MODEL_CREATED, row.registry_name, model, subject, {**common, "object": after})]
    if row.action == "model.delete":
        return [Event(MODEL_DELETED, row.registry_name, model, subject, {**common, "object": before})]
    if row.action == "model.update":
        return _tags_event(MODEL_TAGS_CHANGED, row, before, after, common, subject, model)
    return []


def _tags_event(kind: str, row: AuditEvent, before: dict[str, Any], after: dict[str, Any], common: dict[str, Any],
                subject: str | None, model: str | None) -> list[Event]:
    was: dict[str, str] = before.get("tags") or {}
    now: dict[str, str] = after.get("tags") or {}
    if was == now:
        return []
    diff = {
        "before": was, "after": now,
        "added": {k: v for k, v in now.items() if k not in was},
        "removed": sorted(k for k in was if k not in now),
        "changed": {k: {"from": was[k], "to": v} for k, v in now.items() if k in was and was[k] != v},
    }
    return [Event(kind, row.registry_name, model, subject, {**common, "tags": diff})]


def _alias_moves(row: AuditEvent, before: dict[str, Any], after: dict[str, Any], base: dict[str, Any]) -> list[Event]:
    """One event per alias whose version differs (a model snapshot or a governance pointer snapshot)."""
    if "aliases" not in before and "aliases" not in after:
        return []
    model = _model_name(before, after)
    was, now = before.get("aliases") or {}, after.get("aliases") or {}
    events = []
    for alias in sorted(set(was) | set(now)):
        if was.get(alias) == now.get(alias):
            continue
        data = {**base, "model": model, "alias": alias, "from_version": was.get(alias), "to_version": now.get(alias),
                "via": row.action}
        events.append(Event(ALIAS_MOVED, row.registry_name, model,
                            f"{_uri(row.registry_name, model, None) or row.target}@{alias}", data))
    return events


def _stage_moves(row: AuditEvent, before: dict[str, Any], after: dict[str, Any], base: dict[str, Any]) -> list[Event]:
    """Promotions and rollbacks snapshot ``stages`` as {version: stage}; one event per version that moved."""
    if "stages" not in before and "stages" not in after:
        return []
    model = _model_name(before, after)
    was, now = before.get("stages") or {}, after.get("stages") or {}
    events = []
    for version in sorted(set(was) | set(now)):
        if was.get(version) == now.get(version):
            continue
        data = {**base, "model": model, "version": version, "from": was.get(version), "to": now.get(version),
                "via": row.action}
        events.append(Event(VERSION_STAGE_CHANGED, row.registry_name, model,
                            _uri(row.registry_name, model, version), data))
    return events


def _model_name(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    for snapshot in (after, before):
        name = snapshot.get("name") or snapshot.get("model")
        if name:
            return str(name)
    return None


def _uri(registry: str | None, model: str | None, version: str | None) -> str | None:
    if not registry or not model:
        return None
    return MrgUri(registry=registry, model=model, version=version).render()


def source_of(event: Event) -> str:
    """CloudEvents ``source``: the gateway resource the event happened in (a URI-reference)."""
    if event.type == MIGRATION_FINISHED:
        return "/v1/migrations"
    if event.registry:
        return f"/v1/registries/{event.registry}"
    return "/v1/webhooks"


def to_cloudevent(event: Event, at: datetime, event_id: str | None = None) -> dict[str, Any]:
    """Structured-mode CloudEvents 1.0 JSON; ``mrgauditid`` links back to the audit log."""
    stamp = at if at.tzinfo else at.replace(tzinfo=UTC)
    body: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": event_id or uuid.uuid4().hex,
        "source": source_of(event),
        "type": event.type,
        "time": stamp.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": event.data,
    }
    if event.subject:
        body["subject"] = event.subject
    if event.data.get("audit_id") is not None:
        body["mrgauditid"] = str(event.data["audit_id"])
    return body


def serialise(cloudevent: dict[str, Any]) -> str:
    """The exact text sent and signed; stored as is so every retry sends the same bytes."""
    return json.dumps(cloudevent, separators=(",", ":"), sort_keys=True, default=str)
