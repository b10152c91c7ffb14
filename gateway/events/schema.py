"""Request and response bodies of ``/v1/webhooks``, shared by the API and the Python client."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.events.cloudevents import EVENT_TYPES, PING


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL the gateway POSTs events to")
    event_types: list[str] = Field(default_factory=list, max_length=100,
                                   description="types or globs (mrg.version.*); empty means every type")
    registry: str = Field(default="*", min_length=1, max_length=255, description="registry name glob")
    model: str = Field(default="*", min_length=1, max_length=512, description="model name glob")
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not any(fnmatch.fnmatchcase(t, pattern) for t in EVENT_TYPES if t != PING):
                raise ValueError(f"{pattern!r} matches no event type (known: {', '.join(sorted(EVENT_TYPES))})")
        return value


class Webhook(BaseModel):
    """A subscription as listed: never with its secret."""

    id: str
    url: str
    description: str | None = None
    event_types: list[str]
    registry: str
    model: str
    active: bool
    created_at: datetime
    created_by: str
    signing_overlap_until: datetime | None = Field(
        default=None, description="after a rotation: deliveries are signed with the old secret too until then")


class WebhookCreated(Webhook):
    secret: str = Field(description="whsec_<base64>: shown only in this response; store it in the receiver")


class WebhookList(BaseModel):
    items: list[Webhook]


class DeliveryAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    retry_in_s: float | None = Field(default=None, description="wait scheduled before the next attempt")


class Delivery(BaseModel):
    id: str = Field(description="the webhook-id header: identical on every retry")
    subscription_id: str
    event_id: str
    event_type: str
    audit_id: int | None = None
    state: str = Field(description="pending | succeeded | dead")
    attempts: int
    max_attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    finished_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    log: list[DeliveryAttempt] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    items: list[Delivery]


class EventTypeInfo(BaseModel):
    type: str
    description: str


class EventTypeList(BaseModel):
    items: list[EventTypeInfo]
