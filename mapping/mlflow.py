"""Pure translation between MLflow registry entities and the common schema.

MLflow's native side: descriptions, model and version tags, aliases, the source run (its
metrics, params and dataset inputs). Stages are deprecated in MLflow (2.9+), so the canonical
stage lives in the envelope and the legacy ``current_stage`` is only read as a fallback.
Approval, parents, code, the model card and provenance live in the envelope, as ``mrg.*``
version tags — visible to any MLflow user, nothing siloed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.fidelity import Placement
from mapping.schema import (
    Approval,
    CodeRef,
    DatasetRef,
    Lineage,
    Model,
    ModelVersion,
    SourceRun,
    Stage,
    VersionStatus,
)

TAG_KEY_MAX = 250
TAG_VALUE_MAX = 5000  # the tightest store (file store / older SQL schemas); values are chunked past it
PARAM_VALUE_MAX = 6000
NAME_FORBIDDEN = re.compile(r"[/:]")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_PARAM_KEY = re.compile(r"^[\w\-. /]{1,250}$")

STAGE_FROM_NATIVE: dict[str, Stage] = {
    "None": Stage.NONE,
    "Staging": Stage.STAGING,
    "Production": Stage.PRODUCTION,
    "Archived": Stage.ARCHIVED,
}
STATUS_FROM_NATIVE: dict[str, VersionStatus] = {
    "READY": VersionStatus.READY,
    "PENDING_REGISTRATION": VersionStatus.PENDING,
    "FAILED_REGISTRATION": VersionStatus.FAILED,
}

K_FORMAT = "mrg.format"  # VersionSpec.format / .framework: no MLflow field holds them for a version
K_FRAMEWORK = "mrg.framework"
MANAGED_RUN_TAG = "mrg.managed"  # runs the gateway created to hold a version's artifact
ARTIFACT_SUBDIR = "model"

FIDELITY: dict[str, Placement] = {
    "model.description": Placement.NATIVE,
    "model.tags": Placement.NATIVE,
    "description": Placement.NATIVE,
    "tags": Placement.NATIVE,
    "stage": Placement.ENVELOPE,
    "approval": Placement.ENVELOPE,
    "aliases": Placement.NATIVE,
    "metrics": Placement.NATIVE,
    "params": Placement.NATIVE,
    "lineage.source_run": Placement.NATIVE,
    "lineage.datasets": Placement.NATIVE,
    "lineage.parents": Placement.ENVELOPE,
    "lineage.code": Placement.ENVELOPE,
    "lineage.migrated_from": Placement.ENVELOPE,
    "model_card": Placement.ENVELOPE,
    "artifact.files": Placement.NATIVE,
    "artifact.sha256": Placement.UNSUPPORTED,
    "created_by": Placement.ENVELOPE,
}


def ms_to_dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def check_model_name(name: str) -> None:
    if not name or not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    if NAME_FORBIDDEN.search(name):
        raise InvalidInput(f"name: MLflow model names may not contain '/' or ':' (got {name!r})", field="name")


def check_alias(alias: str) -> None:
    if not alias:
        raise InvalidInput("alias: must not be empty", field="alias")
    if _RESERVED_ALIAS.match(alias):
        raise InvalidInput(
            f"alias: {alias!r} is reserved by MLflow ('latest' and 'v<number>' cannot be aliases)", field="alias"
        )
    if len(alias) > 255 or not re.match(r"^[\w\-]+$", alias):
        raise InvalidInput(
            f"alias: {alias!r} must be 1-255 letters, digits, '_' or '-'", field="alias"
        )


def check_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    envelope.check_user_tags(tags, field)
    for key, value in tags.items():
        if not key or len(key) > TAG_KEY_MAX:
            raise InvalidInput(f"{field}: key {key[:40]!r}... must be 1-{TAG_KEY_MAX} characters", field=f"{field}.{key[:40]}")
        if len(value) > TAG_VALUE_MAX:
            raise InvalidInput(
                f"{field}.{key}: value is {len(value)} characters; MLflow allows at most {TAG_VALUE_MAX}",
                field=f"{field}.{key}",
            )


def native_params(params: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split params into (loggable on an MLflow run, envelope-only because MLflow would reject them)."""
    native: dict[str, str] = {}
    rest: dict[str, str] = {}
    for key, value in params.items():
        if _PARAM_KEY.match(key) and len(value) <= PARAM_VALUE_MAX:
            native[key] = value
        else:
            rest[key] = value
    return native, rest


def envelope_tags(fields: Mapping[str, Any]) -> dict[str, str]:
    """Encode envelope fields as version tags, chunking values past MLflow's tag limit."""
    out: dict[str, str] = {}
    for key, value in envelope.encode_fields(fields).items():
        out.update(envelope.chunked(key, value, TAG_VALUE_MAX))
    return out


def artifact_kind_tags(spec: Any) -> dict[str, str]:
    return {key: value for key, value in ((K_FORMAT, spec.format), (K_FRAMEWORK, spec.framework)) if value}


def read_envelope(tags: Mapping[str, str]) -> dict[str, Any]:
    joined: dict[str, str] = {}
    for key in envelope.FIELD_KEYS.values():
        value = envelope.join_chunks(tags, key)
        if value is not None:
            joined[key] = value
    return envelope.decode_fields(joined)


def to_model(registry: str, rm: Any) -> Model:
    user_tags, _ = envelope.split_tags(dict(rm.tags or {}))
    versions = [int(v.version) for v in (rm.latest_versions or [])]
    aliases = {alias: str(version) for alias, version in (rm.aliases or {}).items()}
    return Model(
        registry=registry,
        name=rm.name,
        description=rm.description or None,
        tags=user_tags,
        created_at=ms_to_dt(rm.creation_timestamp),
        updated_at=ms_to_dt(rm.last_updated_timestamp),
        aliases=aliases,
        latest_version=str(max(versions)) if versions else None,
    )


def run_source(run_id: str | None, tracking_uri: str | None) -> SourceRun | None:
    if not run_id:
        return None
    return SourceRun(system="mlflow", id=run_id, uri=f"runs:/{run_id}")


def to_version(
    registry: str,
    mv: Any,
    *,
    aliases: list[str],
    run: Any | None,
) -> ModelVersion:
    """Build a ModelVersion from an MLflow ModelVersion, its aliases and its run (if readable)."""
    user_tags, _ = envelope.split_tags(dict(mv.tags or {}))
    env = read_envelope(mv.tags or {})
    managed = bool(run is not None and (run.data.tags or {}).get(MANAGED_RUN_TAG))

    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    datasets: list[DatasetRef] = []
    code = None
    if run is not None:
        metrics = {k: float(v) for k, v in (run.data.metrics or {}).items()}
        params = {k: str(v) for k, v in (run.data.params or {}).items()}
        run_tags = run.data.tags or {}
        if run_tags.get("mlflow.source.git.commit"):
            repo = run_tags.get("mlflow.source.git.repoURL") or run_tags.get("mlflow.source.name") or ""
            code = CodeRef(repo=repo, commit=run_tags["mlflow.source.git.commit"])
        for dataset_input in getattr(run.inputs, "dataset_inputs", None) or []:
            ds = dataset_input.dataset
            datasets.append(DatasetRef(uri=ds.source or ds.name, digest=ds.digest or None, name=ds.name or None))
    metrics.update(env.get("metrics", {}))
    params.update(env.get("params", {}))

    lineage: Lineage = env.get("lineage") or Lineage()
    if lineage.source_run is None and not managed:
        lineage.source_run = run_source(mv.run_id, None)
    if not lineage.datasets and datasets:
        lineage.datasets = datasets
    if lineage.code is None and code is not None:
        lineage.code = code

    stage_native = mv.current_stage if mv.current_stage not in (None, "", "None") else None
    stage = env.get("stage") or STAGE_FROM_NATIVE.get(mv.current_stage or "None", Stage.NONE)
    approval: Approval = env.get("approval") or Approval()
    return ModelVersion(
        registry=registry,
        model=mv.name,
        version=str(mv.version),
        ordinal=int(mv.version),
        description=mv.description or None,
        tags=user_tags,
        created_at=ms_to_dt(mv.creation_timestamp),
        updated_at=ms_to_dt(mv.last_updated_timestamp),
        created_by=env.get("created_by") or (mv.user_id or None),
        status=STATUS_FROM_NATIVE.get(str(mv.status), VersionStatus.READY),
        stage=stage,
        stage_native=stage_native,
        approval=approval,
        aliases=sorted(aliases),
        metrics=metrics,
        params=params,
        lineage=lineage,
        model_card=env.get("model_card"),
        artifact={"uri": mv.source, "format": (mv.tags or {}).get(K_FORMAT),
                  "framework": (mv.tags or {}).get(K_FRAMEWORK)},
        native={"source": mv.source, "run_id": mv.run_id, "current_stage": mv.current_stage, "managed_run": managed},
    )
