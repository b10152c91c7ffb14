"""Request and response bodies of the REST API that are not common-schema objects themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Capabilities, Health
from mapping.schema import ApprovalStatus, Model, ModelVersion, Stage

NAME_MAX = 512
TEXT_MAX = 100_000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(_Body):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=TEXT_MAX)
    tags: dict[str, str] = Field(default_factory=dict)


class ModelUpdate(_Body):
    description: str | None = Field(default=None, max_length=TEXT_MAX)
    tags: dict[str, str] | None = None
    remove_tags: list[str] = Field(default_factory=list)


class AliasBody(_Body):
    version: str = Field(min_length=1, max_length=128)


class ApprovalBody(_Body):
    status: ApprovalStatus
    comment: str | None = Field(default=None, max_length=10_000)


class StageBody(_Body):
    stage: Stage


class RegistryInfo(BaseModel):
    name: str
    kind: str
    capabilities: Capabilities
    health: Health | None = None


class RegistryList(BaseModel):
    items: list[RegistryInfo]


class ModelPage(BaseModel):
    items: list[Model]
    next_token: str | None = None


class VersionPage(BaseModel):
    items: list[ModelVersion]
    next_token: str | None = None


class RegistryErrorEntry(BaseModel):
    """Why one registry is missing from (or stale in) a catalog answer.

    ``kind``: an error-taxonomy kind (``unavailable``, ``rate_limited``, ``permission_denied``
    ...), ``timeout`` (no answer within the deadline), ``truncated`` (more objects than one
    search reads) or ``stale`` (cached answer whose last refresh failed).
    """

    registry: str
    kind: str
    message: str
    retry_after: float | None = None


class SearchPage(BaseModel):
    items: list[Model]
    partial: bool
    errors: list[RegistryErrorEntry]
    next_cursor: str | None = None
    cached_at: datetime | None = Field(default=None, description="answered from the catalog cache as of this time")
    age_seconds: float | None = Field(default=None, description="age of the cached answer; null when answered live")


class VersionSearchPage(BaseModel):
    items: list[ModelVersion]
    partial: bool
    errors: list[RegistryErrorEntry]
    next_cursor: str | None = None
    cached_at: datetime | None = None
    age_seconds: float | None = None


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    registry: str | None
    target: str | None
    before: Any = None
    after: Any = None
    request_id: str | None = None
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntry]
