"""Pure translation between Azure ML model assets (REST JSON) and the common schema.

Azure's native side: model container = model, model version = version (ids are caller-chosen
positive integers), description, mutable ``tags``, add-only ``properties``, a free-form ``stage``
string, ``isArchived``, ``jobName`` and ``modelUri``. The canonical stage maps through an explicit
table; ``ARCHIVED`` is Azure's own archive flag (hidden from default lists) plus the ``Archived``
stage string. Approval, metrics, params, lineage and the model card live in the envelope as
``mrg.*`` version tags (mutable, like the fields they hold); who created a version and the file
digests are provenance, so they go to add-only ``properties``; aliases live as one ``mrg.aliases``
tag on the model container, because Azure has no aliases (only the ``latest`` label).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.fidelity import Placement
from mapping.schema import (
    Approval,
    Artifact,
    ArtifactFile,
    Lineage,
    Model,
    ModelVersion,
    SourceRun,
    Stage,
    VersionStatus,
)

MODEL_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$")
VERSION_ID = re.compile(r"^[1-9][0-9]{0,18}$")
ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
RESERVED_ALIASES = ("latest",)  # Azure's own label

# Canonical stage <-> Azure ``stage`` string. Azure's stage is free text; Azure ML studio offers
# these values. NONE is written as "None" so that it can replace an earlier stage.
STAGE_TO_NATIVE: dict[Stage, str] = {
    Stage.NONE: "None",
    Stage.DEVELOPMENT: "Development",
    Stage.STAGING: "Staging",
    Stage.PRODUCTION: "Production",
    Stage.ARCHIVED: "Archived",
}
STAGE_FROM_NATIVE: dict[str, Stage] = {
    "none": Stage.NONE,
    "": Stage.NONE,
    "development": Stage.DEVELOPMENT,
    "dev": Stage.DEVELOPMENT,
    "staging": Stage.STAGING,
    "production": Stage.PRODUCTION,
    "prod": Stage.PRODUCTION,
    "archived": Stage.ARCHIVED,
}
STATUS_FROM_NATIVE: dict[str, VersionStatus] = {
    "succeeded": VersionStatus.READY,
    "creating": VersionStatus.PENDING,
    "updating": VersionStatus.PENDING,
    "deleting": VersionStatus.PENDING,
    "failed": VersionStatus.FAILED,
    "canceled": VersionStatus.FAILED,
}

P_CREATED_BY = "mrg.created_by"  # add-only property: provenance, written once
P_FILES = "mrg.files"  # add-only property: [[path, size, sha256], ...] of the uploaded artifact
T_ALIASES = "mrg.aliases"  # container tag: {"alias": "version"}
ENVELOPE_TAG_FIELDS = ("approval", "metrics", "params", "lineage", "model_card")
ARTIFACT_DIR = "model"  # local folder name the SDK keeps in the blob path: .../<hash>/model/<files>

FIDELITY: dict[str, Placement] = {
    "model.description": Placement.NATIVE,
    "model.tags": Placement.NATIVE,
    "description": Placement.NATIVE,
    "tags": Placement.NATIVE,
    "stage": Placement.NATIVE,
    "approval": Placement.ENVELOPE,
    "aliases": Placement.ENVELOPE,
    "metrics": Placement.ENVELOPE,
    "params": Placement.ENVELOPE,
    "lineage.source_run": Placement.ENVELOPE,  # jobName is read natively when no envelope value exists
    "lineage.datasets": Placement.ENVELOPE,
    "lineage.parents": Placement.ENVELOPE,
    "lineage.code": Placement.ENVELOPE,
    "lineage.migrated_from": Placement.ENVELOPE,
    "model_card": Placement.ENVELOPE,
    "artifact.files": Placement.NATIVE,
    "artifact.sha256": Placement.ENVELOPE,
    "created_by": Placement.ENVELOPE,
}

# Storage suffix per built-in cloud: azure-ai-ml builds https://{account}.blob.{suffix}.
STORAGE_SUFFIX: dict[str, str] = {
    "AzureCloud": "core.windows.net",
    "AzureChinaCloud": "core.chinacloudapi.cn",
    "AzureUSGovernment": "core.usgovcloudapi.net",
}
RESOURCE_MANAGER: dict[str, str] = {
    "AzureCloud": "https://management.azure.com/",
    "AzureChinaCloud": "https://management.chinacloudapi.cn/",
    "AzureUSGovernment": "https://management.usgovcloudapi.net/",
}
REGISTRY_DISCOVERY: dict[str, str] = {
    "AzureCloud": "https://eastus.api.azureml.ms/",
    "AzureChinaCloud": "https://chinaeast2.api.ml.azure.cn/",
    "AzureUSGovernment": "https://usgovarizona.api.ml.azure.us/",
}
CLOUD_METADATA_KEYS = (
    "azure_portal", "resource_manager", "active_directory", "aml_resource_id", "storage_endpoint",
    "registry_discovery_endpoint",
)

_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?datastores/(?P<ds>[^/]+)/paths/(?P<path>.*)$",
    re.IGNORECASE,
)
_BLOB_URI = re.compile(r"^(?P<account>https://[^/]+)/(?P<container>[^/?]+)/?(?P<path>[^?]*)")


# -- validation -----------------------------------------------------------------------------
def check_model_name(name: str) -> None:
    if not MODEL_NAME.match(name or ""):
        raise InvalidInput(
            f"name: Azure ML model names are 1-255 letters, digits, '-' or '_', starting with a letter or digit "
            f"(got {name!r})",
            field="name",
        )


def check_version(version: str) -> None:
    if not VERSION_ID.match(str(version)):
        raise InvalidInput(f"version: Azure ML model versions are positive integers (got {version!r})", field="version")


def check_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    envelope.check_user_tags(tags, field)
    for key, value in tags.items():
        if not key:
            raise InvalidInput(f"{field}: keys must not be empty", field=field)
        if not isinstance(value, str):
            raise InvalidInput(f"{field}.{key}: values must be strings", field=f"{field}.{key}")


def check_alias(alias: str) -> None:
    if alias.lower() in RESERVED_ALIASES:
        raise InvalidInput(f"alias: {alias!r} is Azure ML's own label and cannot be an alias", field="alias")
    if not ALIAS.match(alias):
        raise InvalidInput(f"alias: {alias!r} must be 1-128 letters, digits, '_' or '-'", field="alias")


# -- stage ------------------------------------------------------------------------------------
def stage_to_native(stage: Stage) -> tuple[str, bool]:
    """(``stage`` string, ``isArchived``): ARCHIVED is Azure's archive flag as well."""
    stage = Stage(stage)
    return STAGE_TO_NATIVE[stage], stage is Stage.ARCHIVED


def stage_from_native(native: str | None, is_archived: bool) -> Stage:
    """Archived wins (a version archived with the SDK keeps its old stage string)."""
    if is_archived:
        return Stage.ARCHIVED
    return STAGE_FROM_NATIVE.get((native or "").strip().lower(), Stage.NONE)


# -- writing ----------------------------------------------------------------------------------
def version_tags(user_tags: Mapping[str, str], fields: Mapping[str, Any]) -> dict[str, str]:
    """User tags plus the envelope entries for ``fields`` (empty values are left out)."""
    return {**user_tags, **envelope.encode_fields({k: v for k, v in fields.items() if k in ENVELOPE_TAG_FIELDS})}


def files_property(files: list[ArtifactFile]) -> str:
    return json.dumps([[f.path, f.size, f.sha256] for f in sorted(files, key=lambda f: f.path)], separators=(",", ":"))


def read_files_property(properties: Mapping[str, str]) -> dict[str, ArtifactFile]:
    raw = properties.get(P_FILES)
    if not raw:
        return {}
    try:
        return {p: ArtifactFile(path=p, size=s, sha256=d) for p, s, d in json.loads(raw)}
    except (ValueError, TypeError):
        return {}


def container_body(description: str | None, tags: Mapping[str, str], is_archived: bool = False) -> dict[str, Any]:
    return {"properties": {"description": description, "tags": dict(tags), "properties": {}, "isArchived": is_archived}}


def update_body(current: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A full-body PUT from a GET (Azure updates by replacement), read-only fields removed."""
    props = {k: v for k, v in dict(current.get("properties") or {}).items() if k != "provisioningState"}
    props.update(changes)
    return {"properties": props}


def alias_map(container_tags: Mapping[str, str]) -> dict[str, str]:
    raw = container_tags.get(T_ALIASES)
    if not raw:
        return {}
    try:
        return {str(k): str(v) for k, v in json.loads(raw).items()}
    except (ValueError, AttributeError):
        return {}


def with_aliases(container_tags: Mapping[str, str], aliases: Mapping[str, str]) -> dict[str, str]:
    tags = {k: v for k, v in container_tags.items() if k != T_ALIASES}
    if aliases:
        tags[T_ALIASES] = json.dumps(dict(sorted(aliases.items())), separators=(",", ":"))
    return tags


# -- reading ----------------------------------------------------------------------------------
def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def to_model(registry: str, container: Mapping[str, Any]) -> Model:
    props = container.get("properties") or {}
    tags = dict(props.get("tags") or {})
    user_tags, _ = envelope.split_tags(tags)
    system = container.get("systemData") or {}
    return Model(
        registry=registry,
        name=str(container.get("name")),
        description=props.get("description") or None,
        tags=user_tags,
        created_at=_dt(system.get("createdAt")),
        updated_at=_dt(system.get("lastModifiedAt")),
        aliases=alias_map(tags),
        latest_version=props.get("latestVersion"),
        native={"id": container.get("id"), "isArchived": bool(props.get("isArchived"))},
    )


def artifact_format(model_type: str | None) -> str | None:
    """``custom_model``/``CustomModel`` -> ``custom_model``; ``mlflow_model`` -> ``mlflow_model``."""
    if not model_type:
        return None
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model_type).lower()
    return snake.replace("__", "_")


def model_type(fmt: str | None) -> str:
    """The SDK's ``Model.type`` for a common ``format``: Azure knows custom, MLflow and Triton models."""
    key = (fmt or "").lower().replace("-", "_")
    return {"mlflow": "mlflow_model", "mlflow_model": "mlflow_model", "triton": "triton_model",
            "triton_model": "triton_model"}.get(key, "custom_model")


def to_version(registry: str, model: str, raw: Mapping[str, Any], aliases: list[str]) -> ModelVersion:
    props = raw.get("properties") or {}
    tags = dict(props.get("tags") or {})
    properties = dict(props.get("properties") or {})
    user_tags, env_entries = envelope.split_tags(tags)
    env = envelope.decode_fields(env_entries)
    lineage: Lineage = env.get("lineage") or Lineage()
    if lineage.source_run is None and props.get("jobName"):
        lineage.source_run = SourceRun(system="azureml", id=str(props["jobName"]))
    system = raw.get("systemData") or {}
    version = str(raw.get("name"))
    stage_native = props.get("stage")
    is_archived = bool(props.get("isArchived"))
    return ModelVersion(
        registry=registry,
        model=model,
        version=version,
        ordinal=int(version) if version.isdigit() else 0,
        description=props.get("description") or None,
        tags=user_tags,
        created_at=_dt(system.get("createdAt")),
        updated_at=_dt(system.get("lastModifiedAt")),
        created_by=properties.get(P_CREATED_BY) or system.get("createdBy") or None,
        status=STATUS_FROM_NATIVE.get(str(props.get("provisioningState") or "succeeded").lower(), VersionStatus.READY),
        stage=stage_from_native(stage_native, is_archived),
        stage_native=stage_native or None,
        approval=env.get("approval") or Approval(),
        aliases=sorted(aliases),
        artifact=Artifact(uri=props.get("modelUri"), format=artifact_format(props.get("modelType"))),
        metrics=env.get("metrics", {}),
        params=env.get("params", {}),
        lineage=lineage,
        model_card=env.get("model_card"),
        native={
            "id": raw.get("id"),
            "modelUri": props.get("modelUri"),
            "modelType": props.get("modelType"),
            "isArchived": is_archived,
            "jobName": props.get("jobName"),
            "properties": {k: v for k, v in properties.items() if not envelope.is_reserved(k)},
        },
    )


def envelope_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope values currently stored on a version (for read-modify-write updates)."""
    _, entries = envelope.split_tags(dict((raw.get("properties") or {}).get("tags") or {}))
    return envelope.decode_fields(entries)


# -- storage locations ------------------------------------------------------------------------
def parse_datastore_uri(uri: str) -> tuple[str, str] | None:
    """``azureml://[subscriptions/…/workspaces/…/]datastores/<ds>/paths/<path>`` -> (ds, path)."""
    match = _DATASTORE_URI.match(uri or "")
    return (match.group("ds"), match.group("path").strip("/")) if match else None


def parse_blob_uri(uri: str) -> tuple[str, str, str] | None:
    """``https://acct.blob.<suffix>/<container>/<path>`` -> (account URL, container, path)."""
    match = _BLOB_URI.match(uri or "")
    if not match:
        return None
    return match.group("account"), match.group("container"), match.group("path").strip("/")


def relative_files(prefix: str, blob_names: list[str]) -> dict[str, str]:
    """Artifact-relative path -> blob name. A ``modelUri`` names a file or a folder."""
    prefix = prefix.strip("/")
    out: dict[str, str] = {}
    for blob in blob_names:
        if blob == prefix:
            out[blob.rsplit("/", 1)[-1]] = blob
        elif blob.startswith(prefix + "/") and not blob.endswith("/"):
            out[blob[len(prefix) + 1:]] = blob
    return out
