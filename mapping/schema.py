"""The common schema every registry is translated to and from.

One shape for models, versions, approvals, stages, lineage and artifacts so the catalog,
migration and governance code never needs to know which registry an object came from. The
backend's own payload stays reachable through ``native`` for the cases the schema does not
cover, but nothing in the gateway may depend on it.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field


class RegistryKind(StrEnum):
    MLFLOW = "mlflow"
    SAGEMAKER = "sagemaker"
    VERTEX = "vertex"
    AZUREML = "azureml"
    HF = "hf"


class Stage(StrEnum):
    """Canonical lifecycle stage; each backend maps its native notion onto it explicitly."""

    NONE = "NONE"
    DEVELOPMENT = "DEVELOPMENT"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    ARCHIVED = "ARCHIVED"


class ApprovalStatus(StrEnum):
    NONE = "NONE"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class VersionStatus(StrEnum):
    READY = "READY"
    PENDING = "PENDING"
    FAILED = "FAILED"


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RegistryRef(_Schema):
    name: str
    kind: RegistryKind


class Approval(_Schema):
    status: ApprovalStatus = ApprovalStatus.NONE
    by: str | None = None
    at: datetime | None = None
    comment: str | None = None


class ArtifactFile(_Schema):
    path: str
    size: int | None = None
    sha256: str | None = None


class Artifact(_Schema):
    """Where a version's files live and what they are.

    ``uri`` is the backend's own location (``runs:/…``, ``s3://…``, ``gs://…``); ``files`` is
    filled by adapters that can list the files, with sizes and digests where known.
    """

    uri: str | None = None
    files: list[ArtifactFile] = Field(default_factory=list)
    format: str | None = None
    framework: str | None = None


class SourceRun(_Schema):
    """The training run or job that produced a version (MLflow run, SageMaker job, Azure job...)."""

    system: str
    id: str
    uri: str | None = None


class DatasetRef(_Schema):
    uri: str
    digest: str | None = None
    name: str | None = None


class ParentRef(_Schema):
    """A version this one derives from: an ``mrg://`` URI or any external URI."""

    uri: str
    relation: str = "derived"


class CodeRef(_Schema):
    repo: str
    commit: str | None = None


class MigratedFrom(_Schema):
    uri: str
    digest: str | None = None


class Lineage(_Schema):
    source_run: SourceRun | None = None
    datasets: list[DatasetRef] = Field(default_factory=list)
    parents: list[ParentRef] = Field(default_factory=list)
    code: CodeRef | None = None
    migrated_from: MigratedFrom | None = None

    def is_empty(self) -> bool:
        return not (self.source_run or self.datasets or self.parents or self.code or self.migrated_from)


class Model(_Schema):
    registry: str
    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    aliases: dict[str, str] = Field(default_factory=dict)
    latest_version: str | None = None
    native: dict[str, Any] | None = None

    @property
    def uri(self) -> str:
        return MrgUri(registry=self.registry, model=self.name).render()


class ModelVersion(_Schema):
    registry: str
    model: str
    version: str
    ordinal: int
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None
    status: VersionStatus = VersionStatus.READY
    stage: Stage = Stage.NONE
    stage_native: str | None = None
    approval: Approval = Field(default_factory=Approval)
    aliases: list[str] = Field(default_factory=list)
    artifact: Artifact = Field(default_factory=Artifact)
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    lineage: Lineage = Field(default_factory=Lineage)
    model_card: str | None = None
    native: dict[str, Any] | None = None

    @property
    def uri(self) -> str:
        return MrgUri(registry=self.registry, model=self.model, version=self.version).render()


class VersionSpec(_Schema):
    """What a caller asks for when creating a version.

    ``version`` is honoured only where the backend lets the caller choose ids
    (``Capabilities.version_id_assignable``); elsewhere the adapter rejects it with Unsupported
    rather than silently assigning another number.
    ``artifact_uri`` registers files that already live in the backend's storage; uploads passed
    to ``create_version`` are stored by the adapter instead.
    """

    version: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    stage: Stage = Stage.NONE
    approval: Approval = Field(default_factory=Approval)
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    lineage: Lineage = Field(default_factory=Lineage)
    model_card: str | None = None
    artifact_uri: str | None = None
    format: str | None = None
    framework: str | None = None
    created_by: str | None = None


class VersionPatch(_Schema):
    """A partial update: ``None`` leaves a field alone, ``remove_tags`` deletes keys."""

    description: str | None = None
    tags: dict[str, str] | None = None
    remove_tags: list[str] = Field(default_factory=list)
    metrics: dict[str, float] | None = None
    params: dict[str, str] | None = None
    lineage: Lineage | None = None
    model_card: str | None = None


class ModelQuery(_Schema):
    """Filters an adapter may push down; anything it cannot push down the gateway applies."""

    text: str | None = None
    name_prefix: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_token: str | None = None


_URI = re.compile(r"^mrg://(?P<registry>[^/]+)/(?P<model>.+?)(?:/versions/(?P<version>[^/]+))?$")


class MrgUri(_Schema):
    """``mrg://<registry>/<model>[/versions/<version>]``; model names may contain ``/`` (HF)."""

    registry: str
    model: str
    version: str | None = None

    def render(self) -> str:
        model = quote(self.model, safe="/@.-_~")
        base = f"mrg://{self.registry}/{model}"
        return f"{base}/versions/{quote(self.version, safe='.-_~')}" if self.version is not None else base

    @classmethod
    def parse(cls, uri: str) -> MrgUri:
        match = _URI.match(uri)
        if not match:
            raise ValueError(f"not an mrg URI (mrg://<registry>/<model>[/versions/<version>]): {uri!r}")
        version = match.group("version")
        return cls(
            registry=match.group("registry"),
            model=unquote(match.group("model")),
            version=unquote(version) if version is not None else None,
        )
