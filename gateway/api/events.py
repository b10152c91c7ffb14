"""``/v1/webhooks``: subscribe to gateway events, read the delivery log, send a test ping.

The router carries its own lifespan: when the app starts, the outbox hook is attached to the
store and the delivery worker starts; when it stops, the worker stops and whatever was not
delivered stays in the outbox for the next start (or another replica).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.auth import require
from gateway.api.routes import Caller, GatewayDep
from gateway.events import subscriptions
from gateway.events.cloudevents import EVENT_TYPES
from gateway.events.runtime import EventsRuntime
from gateway.events.schema import (
    Delivery,
    DeliveryPage,
    EventTypeInfo,
    EventTypeList,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)
from gateway.events.settings import DeliverySettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """``app.state.event_settings`` (a DeliverySettings) overrides the MRG_WEBHOOK_* environment."""
    settings = getattr(app.state, "event_settings", None) or DeliverySettings.from_env()
    runtime = await run_in_threadpool(lambda: EventsRuntime(app.state.gateway, settings).start())
    app.state.events = runtime
    try:
        yield
    finally:
        await run_in_threadpool(runtime.stop)


router = APIRouter(prefix="/v1/webhooks", tags=["events"], lifespan=lifespan)


def _settings(request: Request) -> DeliverySettings:
    runtime = getattr(request.app.state, "events", None)
    return runtime.settings if runtime is not None else DeliverySettings.from_env()


SettingsDep = Annotated[DeliverySettings, Depends(_settings)]


@router.get("/event-types", response_model=EventTypeList)
def event_types(who: Caller) -> EventTypeList:
    """Every event type a subscription can filter on."""
    require(who, "read")
    return EventTypeList(items=[EventTypeInfo(type=t, description=d) for t, d in EVENT_TYPES.items()])


@router.post("", response_model=WebhookCreated, status_code=201)
def create_webhook(body: WebhookCreate, gw: GatewayDep, who: Caller) -> WebhookCreated:
    """The response holds the signing secret; it is never shown again."""
    require(who, "admin")
    return subscriptions.create(gw.store, body, actor=who.name)


@router.get("", response_model=WebhookList)
def list_webhooks(gw: GatewayDep, who: Caller) -> WebhookList:
    require(who, "admin")
    return WebhookList(items=subscriptions.list_all(gw.store))


@router.get("/{webhook_id}", response_model=Webhook)
def get_webhook(webhook_id: str, gw: GatewayDep, who: Caller) -> Webhook:
    require(who, "admin")
    return subscriptions.get(gw.store, webhook_id)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, gw: GatewayDep, who: Caller) -> Response:
    """Stops deliveries at once; pending ones are dropped with the subscription."""
    require(who, "admin")
    subscriptions.remove(gw.store, webhook_id, actor=who.name)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookCreated)
def rotate_secret(webhook_id: str, gw: GatewayDep, who: Caller,
                  overlap_s: Annotated[int, Query(ge=0, le=subscriptions.MAX_OVERLAP_S,
                                                  description="seconds the old secret keeps signing too")] = 86400,
                  ) -> WebhookCreated:
    """A new signing secret, shown only in this response; the old one signs too for ``overlap_s``."""
    require(who, "admin")
    return subscriptions.rotate_secret(gw.store, webhook_id, actor=who.name, overlap_s=overlap_s)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(webhook_id: str, gw: GatewayDep, who: Caller,
                    state: Annotated[str | None, Query(description="pending | succeeded | dead")] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> DeliveryPage:
    """The delivery log, newest first: every attempt's status code, latency and error."""
    require(who, "admin")
    return DeliveryPage(items=subscriptions.deliveries(gw.store, webhook_id, state=state, limit=limit))


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", response_model=Delivery)
def retry_delivery(webhook_id: str, delivery_id: str, gw: GatewayDep, who: Caller, settings: SettingsDep) -> Delivery:
    """Queue a dead delivery again (same webhook-id and body, a fresh budget of attempts)."""
    require(who, "admin")
    return subscriptions.retry(gw.store, webhook_id, delivery_id, settings.max_attempts)


@router.post("/{webhook_id}/test", response_model=Delivery)
def test_webhook(webhook_id: str, gw: GatewayDep, who: Caller, settings: SettingsDep) -> Delivery:
    """Send a signed ``mrg.webhook.ping`` now; answers with the attempt's status code and latency."""
    require(who, "admin")
    with httpx.Client(follow_redirects=False) as client:
        return subscriptions.ping(gw.store, webhook_id, client, settings, actor=who.name)
