"""Small builders shared by the events tests."""

from __future__ import annotations

from gateway.events import subscriptions
from gateway.events.schema import WebhookCreate, WebhookCreated
from gateway.store import Store


def subscribe(store: Store, url: str, **filters: object) -> WebhookCreated:
    return subscriptions.create(store, WebhookCreate(url=url, **filters), actor="admin")  # type: ignore[arg-type]


def version(model: str, v: str, **fields: object) -> dict[str, object]:
    """A ModelVersion snapshot as the audit log holds it (only the fields events read)."""
    return {"registry": "local", "model": model, "version": v, "tags": {}, "stage": "NONE",
            "approval": {"status": "NONE"}, **fields}


def record_version_created(store: Store, model: str = "fraud", v: str = "1", registry: str = "local") -> None:
    store.record(actor="alice", action="version.create", registry=registry, target=f"mrg://{registry}/{model}",
                 after=version(model, v) | {"registry": registry}, request_id="req-1")
