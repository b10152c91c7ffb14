"""Pure translation between Vertex AI Model Registry resources and the common schema.

Vertex's native side: model and version descriptions, version aliases (with the service's
own ``default`` alias), labels at model and version scope, lineage in ML Metadata, artifacts
in GCS. Labels are narrow (``[a-z0-9_-]``, <= 63 characters, <= 64 per resource) and a
version's labels are always returned merged with its model's, so every field the gateway
keeps in labels goes through a base32 envelope under scope-specific ``mrg-`` keys, and what
does not fit the budget moves to an ``mrg.json`` sidecar in GCS. Label-safe tags are also
mirrored as plain labels, so Vertex users see and filter them natively; the envelope copy is
the authoritative one because the merged view cannot tell the two scopes apart.

No SDK imports here: resources arrive as any object with the Model/Artifact attributes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.fidelity import Placement
from mapping.schema import Approval, Lineage, Model, ModelVersion, Stage, VersionStatus

LABEL_MAX_CHARS = 63
LABEL_MAX_COUNT = 64
# Merged views must stay within 64 labels: the model scope gets a small share.
MODEL_LABEL_BUDGET = 16
VERSION_LABEL_BUDGET = LABEL_MAX_COUNT - MODEL_LABEL_BUDGET
DEFAULT_ALIAS = "default"

MODEL_MARKER = "mrg-m"  # model scope written by the gateway
VERSION_MARKER = "mrg-v"  # version scope written by the gateway
PLACEHOLDER_LABEL = "mrg-placeholder"  # the hidden version that lets a model exist empty
MODEL_SIDECAR_LABEL = "mrg-msidecar"
VERSION_SIDECAR_LABEL = "mrg-sidecar"

_MODEL_ID = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
_ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_CHUNK_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<index>\d+)$")

FIDELITY: dict[str, Placement] = {
    "model.description": Placement.NATIVE,
    "model.tags": Placement.ENVELOPE,
    "description": Placement.NATIVE,
    "tags": Placement.ENVELOPE,
    "stage": Placement.ENVELOPE,
    "approval": Placement.ENVELOPE,
    "aliases": Placement.NATIVE,
    "metrics": Placement.ENVELOPE,
    "params": Placement.ENVELOPE,
    "lineage.source_run": Placement.NATIVE,
    "lineage.datasets": Placement.NATIVE,
    "lineage.parents": Placement.ENVELOPE,
    "lineage.code": Placement.ENVELOPE,
    "lineage.migrated_from": Placement.ENVELOPE,
    "model_card": Placement.ENVELOPE,
    "artifact.files": Placement.NATIVE,
    "artifact.sha256": Placement.ENVELOPE,
    "created_by": Placement.ENVELOPE,
}

# Version-scope envelope fields kept in labels (lineage lives in ML Metadata instead).
VERSION_ENVELOPE_FIELDS = ("tags", "stage", "approval", "metrics", "params", "model_card", "created_by")


# -- validation ---------------------------------------------------------------------------
def check_model_name(name: str) -> None:
    if not _MODEL_ID.match(name or ""):
        raise InvalidInput(
            f"name: Vertex model IDs are 1-63 characters of [a-z0-9_-] and cannot start with a digit or "
            f"hyphen (got {name!r})",
            field="name",
        )


def check_version(version: str) -> None:
    if not str(version).isdigit():
        raise InvalidInput(f"version: Vertex version IDs are decimal numbers (got {version!r})", field="version")


def check_alias(alias: str) -> None:
    if not _ALIAS.match(alias or "") or alias.isdigit():
        raise InvalidInput(
            f"alias: Vertex aliases match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9] (got {alias!r})", field="alias"
        )


def check_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    envelope.check_user_tags(tags, field)
    for key in tags:
        if not key:
            raise InvalidInput(f"{field}: keys must not be empty", field=field)


# -- labels <-> envelope --------------------------------------------------------------------
def label_safe_tag(key: str, value: str) -> bool:
    return bool(_LABEL_KEY.match(key) and _LABEL_VALUE.match(value)) and not envelope.is_reserved(key)


def _label_key(envelope_key: str, scope: str) -> str:
    """``mrg.approval`` -> ``mrg-approval`` (version) / ``mrg-m-approval`` (model)."""
    name = envelope_key[len(envelope.PREFIX) :].replace(".", "_")
    return f"mrg-{name}" if scope == "version" else f"mrg-m-{name}"


def _encode_chunks(label_key: str, value: str) -> dict[str, str]:
    encoded = envelope.label_encode(value)
    parts = [encoded[i : i + LABEL_MAX_CHARS] for i in range(0, len(encoded), LABEL_MAX_CHARS)] or [""]
    return {label_key if i == 0 else f"{label_key}-{i}": part for i, part in enumerate(parts)}


def encode_labels(
    tags: Mapping[str, str], entries: Mapping[str, str], *, scope: str, budget: int
) -> tuple[dict[str, str], dict[str, str]]:
    """Lay out one scope's labels: (labels to write, envelope entries overflowing to the sidecar).

    ``entries`` are envelope entries (``mrg.*`` -> string). Small entries are placed first so
    the most fields stay readable from labels alone; native tag mirrors take what is left.
    """
    marker = VERSION_MARKER if scope == "version" else MODEL_MARKER
    sidecar_label = VERSION_SIDECAR_LABEL if scope == "version" else MODEL_SIDECAR_LABEL
    labels: dict[str, str] = {marker: "1"}
    overflow: dict[str, str] = {}
    room = budget - 1
    for key, value in sorted(entries.items(), key=lambda kv: (len(kv[1]), kv[0])):
        chunks = _encode_chunks(_label_key(key, scope), value)
        if len(chunks) <= room - 1:  # keep one slot for the sidecar marker
            labels.update(chunks)
            room -= len(chunks)
        else:
            overflow[key] = value
    if overflow:
        labels[sidecar_label] = "1"
        room -= 1
    for key, value in sorted(tags.items()):
        if room <= 0:
            break
        if label_safe_tag(key, value):
            labels[key] = value
            room -= 1
    return labels, overflow


def decode_labels(labels: Mapping[str, str], *, scope: str) -> tuple[dict[str, str], bool, bool]:
    """-> (envelope entries of that scope, whether the scope was written by the gateway,
    whether a sidecar holds more)."""
    prefix = "mrg-" if scope == "version" else "mrg-m-"
    marker = VERSION_MARKER if scope == "version" else MODEL_MARKER
    sidecar_label = VERSION_SIDECAR_LABEL if scope == "version" else MODEL_SIDECAR_LABEL
    skip = {VERSION_MARKER, MODEL_MARKER, PLACEHOLDER_LABEL, VERSION_SIDECAR_LABEL, MODEL_SIDECAR_LABEL}
    groups: dict[str, dict[int, str]] = {}
    for key, value in labels.items():
        if key in skip or not key.startswith(prefix):
            continue
        if scope == "version" and key.startswith("mrg-m-"):
            continue
        m = _CHUNK_SUFFIX.match(key)
        base, index = (m.group("base"), int(m.group("index"))) if m else (key, 0)
        groups.setdefault(base, {})[index] = value
    entries: dict[str, str] = {}
    for base, parts in groups.items():
        encoded = "".join(parts[i] for i in sorted(parts))
        try:
            value = envelope.label_decode(encoded)
        except ValueError:
            continue  # a foreign label that only looks like ours
        entries[envelope.PREFIX + base[len(prefix) :]] = value
    return entries, marker in labels, sidecar_label in labels


def native_tags(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels that are not the gateway's: what a model written outside the gateway carries."""
    return {k: v for k, v in labels.items() if not envelope.is_reserved(k)}


def model_entries(tags: Mapping[str, str]) -> dict[str, str]:
    return envelope.encode_fields({"tags": dict(tags)}) if tags else {}


def version_entries(fields: Mapping[str, Any]) -> dict[str, str]:
    return envelope.encode_fields({k: v for k, v in fields.items() if k in VERSION_ENVELOPE_FIELDS})


# -- lineage in ML Metadata -------------------------------------------------------------------
def metadata_id(kind: str, *parts: str) -> str:
    """A stable ML Metadata ID ([a-z0-9-], 4-128 chars) for a gateway-owned node."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"mrg-{kind}-{digest}"


def lineage_metadata(lineage: Lineage, model_version_name: str) -> dict[str, Any]:
    """The system.Model artifact's metadata: Vertex-readable keys plus the exact lineage."""
    return {
        "resourceName": model_version_name,
        "mrg_lineage": json.dumps(lineage.model_dump(mode="json", exclude_none=True), sort_keys=True),
    }


def lineage_from_metadata(metadata: Mapping[str, Any] | None) -> Lineage:
    raw = (metadata or {}).get("mrg_lineage")
    if not raw:
        return Lineage()
    return Lineage.model_validate(json.loads(raw))


# -- resources -> common schema --------------------------------------------------------------
def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return value if isinstance(value, datetime) else None


def is_placeholder(model: Any) -> bool:
    return PLACEHOLDER_LABEL in dict(model.labels or {})


def model_id_of(resource_name: str) -> str:
    return resource_name.rsplit("/", 1)[-1].split("@", 1)[0]


def to_model(
    registry: str,
    model: Any,
    *,
    tags: Mapping[str, str],
    aliases: Mapping[str, str],
    latest_version: str | None,
) -> Model:
    return Model(
        registry=registry,
        name=model_id_of(model.name),
        description=model.description or None,
        tags=dict(tags),
        created_at=_dt(model.create_time),
        updated_at=_dt(model.update_time),
        aliases={a: v for a, v in aliases.items() if a != DEFAULT_ALIAS},
        latest_version=latest_version,
        native={
            "resource_name": model.name.split("@", 1)[0],
            "display_name": model.display_name,
            "default_version": aliases.get(DEFAULT_ALIAS),
        },
    )


def to_version(
    registry: str,
    model: Any,
    *,
    env: Mapping[str, Any],
    lineage: Lineage,
    fallback_tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Build a ModelVersion from a Vertex Model (one version's view) and its decoded envelope."""
    version = str(model.version_id)
    aliases = sorted(a for a in model.version_aliases if a != DEFAULT_ALIAS)
    tags = env.get("tags")
    if tags is None:
        tags = dict(fallback_tags or {})
    approval: Approval = env.get("approval") or Approval()
    stage: Stage = env.get("stage") or Stage.NONE
    return ModelVersion(
        registry=registry,
        model=model_id_of(model.name),
        version=version,
        ordinal=int(version),
        description=model.version_description or None,
        tags=dict(tags),
        created_at=_dt(model.version_create_time),
        updated_at=_dt(model.version_update_time),
        created_by=env.get("created_by"),
        status=VersionStatus.READY,
        stage=stage,
        approval=approval,
        aliases=aliases,
        metrics=dict(env.get("metrics", {})),
        params=dict(env.get("params", {})),
        lineage=lineage,
        model_card=env.get("model_card"),
        artifact={"uri": model.artifact_uri or None},
        native={
            "resource_name": f"{model.name.split('@', 1)[0]}@{version}",
            "default": DEFAULT_ALIAS in model.version_aliases,
            "metadata_artifact": model.metadata_artifact or None,
        },
    )


# -- GCS locations ---------------------------------------------------------------------------
def parse_gs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/a/b/`` -> ("bucket", "a/b/")."""
    if not uri.startswith("gs://"):
        raise InvalidInput(f"artifact_uri: Vertex artifacts live in GCS (gs://...), got {uri!r}", field="artifact_uri")
    bucket, _, path = uri[len("gs://") :].partition("/")
    if not bucket:
        raise InvalidInput(f"artifact_uri: no bucket in {uri!r}", field="artifact_uri")
    return bucket, path
