"""Pure translation between SageMaker Model Registry shapes and the common schema.

Model = model package group; version = versioned model package (SageMaker numbers them).
Native: group description and tags, version description, ``ModelApprovalStatus`` +
``ApprovalDescription``, ``ModelLifeCycle`` (stage), ``ModelCard``, ``SourceUri`` (artifact
location) and ``MetadataProperties`` (commit, repository, producing job).

Everything else goes through the envelope. A version cannot carry tags, so its user tags and
its ``mrg.*`` entries share ``CustomerMetadataProperties``, which holds at most 50 entries,
keys of up to 128 and values of up to 256 characters, in a narrow charset. A value outside
that charset is written as ``b64:`` + base64, and a long value is split over ``key``,
``key.1`` and so on. Whatever still does not fit goes to the ``mrg.json`` sidecar in S3,
together with the artifact's file manifest. Aliases are unique per model, so they live in
the group's tags as one ``mrg.aliases`` map.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.fidelity import Placement
from mapping.schema import (
    Approval,
    ApprovalStatus,
    Artifact,
    ArtifactFile,
    Lineage,
    Model,
    ModelVersion,
    Stage,
    VersionStatus,
)

# -- limits from the SageMaker service model (botocore sagemaker/2017-07-24) -----------------
NAME_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
NAME_MAX = 63
_NAME = re.compile(NAME_PATTERN)
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
MAX_GROUP_TAGS = 50
METADATA_MAX_ENTRIES = 50
METADATA_KEY_MAX = 128
METADATA_VALUE_MAX = 256
DESCRIPTION_MAX = 1024
MODEL_CARD_MAX = 100_000
PLAIN_TAG_SLOTS = 40  # user tags kept as plain metadata entries; past this they go to the envelope
LIST_PAGE_MAX = 100

B64 = "b64:"
K_ARTIFACT = "mrg.artifact"  # the version's artifact prefix, also in SourceUri (moto drops that)
K_FILES = "mrg.files"  # file manifest (path, size, sha256), kept in the sidecar
K_MODEL_DESCRIPTION = "mrg.description"  # a group description changed after creation
K_FORMAT = "mrg.format"  # artifact format and framework (VersionSpec.format / .framework)
K_FRAMEWORK = "mrg.framework"

# -- canonical <-> native state tables -----------------------------------------------------
APPROVAL_TO_NATIVE: dict[ApprovalStatus, str] = {
    ApprovalStatus.NONE: "PendingManualApproval",
    ApprovalStatus.PENDING: "PendingManualApproval",
    ApprovalStatus.APPROVED: "Approved",
    ApprovalStatus.REJECTED: "Rejected",
}
APPROVAL_FROM_NATIVE: dict[str, ApprovalStatus] = {
    "PendingManualApproval": ApprovalStatus.PENDING,
    "Approved": ApprovalStatus.APPROVED,
    "Rejected": ApprovalStatus.REJECTED,
}
STAGE_TO_NATIVE: dict[Stage, tuple[str, str]] = {  # (ModelLifeCycle.Stage, StageStatus)
    Stage.NONE: ("None", "None"),
    Stage.DEVELOPMENT: ("Development", "Active"),
    Stage.STAGING: ("Staging", "Active"),
    Stage.PRODUCTION: ("Production", "Active"),
    Stage.ARCHIVED: ("Archived", "Inactive"),
}
STAGE_FROM_NATIVE: dict[str, Stage] = {
    "none": Stage.NONE,
    "development": Stage.DEVELOPMENT,
    "dev": Stage.DEVELOPMENT,
    "staging": Stage.STAGING,
    "stage": Stage.STAGING,
    "test": Stage.STAGING,
    "qa": Stage.STAGING,
    "preprod": Stage.STAGING,
    "production": Stage.PRODUCTION,
    "prod": Stage.PRODUCTION,
    "archived": Stage.ARCHIVED,
    "retired": Stage.ARCHIVED,
}
STATUS_FROM_NATIVE: dict[str, VersionStatus] = {
    "Completed": VersionStatus.READY,
    "Pending": VersionStatus.PENDING,
    "InProgress": VersionStatus.PENDING,
    "Failed": VersionStatus.FAILED,
    "Deleting": VersionStatus.FAILED,
}

FIDELITY: dict[str, Placement] = {
    "model.description": Placement.NATIVE,
    "model.tags": Placement.NATIVE,
    "description": Placement.NATIVE,
    "tags": Placement.ENVELOPE,
    "stage": Placement.NATIVE,
    "approval": Placement.NATIVE,
    "aliases": Placement.ENVELOPE,
    "metrics": Placement.ENVELOPE,
    "params": Placement.ENVELOPE,
    "lineage.source_run": Placement.ENVELOPE,
    "lineage.datasets": Placement.ENVELOPE,
    "lineage.parents": Placement.ENVELOPE,
    "lineage.code": Placement.ENVELOPE,
    "lineage.migrated_from": Placement.ENVELOPE,
    "model_card": Placement.NATIVE,
    "artifact.files": Placement.SIDECAR,
    "artifact.sha256": Placement.SIDECAR,
    "created_by": Placement.ENVELOPE,
}


# -- validation ------------------------------------------------------------------------------
def _chars_ok(text: str, categories: str, extra: str = "") -> bool:
    return all(unicodedata.category(c)[0] in categories or c in extra for c in text)


def kv_chars_ok(text: str) -> bool:
    """SageMaker's tag/metadata charset ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``."""
    return _chars_ok(text, "LZN", "_.:/=+-@")


def description_ok(text: str) -> bool:
    """``EntityDescription``: <= 1024 characters of letters, marks, separators, symbols, numbers, punctuation."""
    return len(text) <= DESCRIPTION_MAX and _chars_ok(text, "LMZSNP")


def check_group_name(name: str, field: str = "name") -> None:
    if not name or len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{field}: SageMaker model package group names must be 1-{NAME_MAX} characters: letters, digits and "
            f"hyphens, starting and ending with a letter or digit (pattern {NAME_PATTERN}); got {name!r}",
            field=field,
        )


def check_version_id(version: str) -> int:
    if not str(version).isdigit() or int(version) < 1:
        raise InvalidInput(f"version: SageMaker versions are positive integers (got {version!r})", field="version")
    return int(version)


def check_model_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    """Group tags are native AWS tags: keys 1-128, values 0-256, SageMaker's tag charset."""
    envelope.check_user_tags(tags, field)
    if len(tags) > MAX_GROUP_TAGS:
        raise InvalidInput(f"{field}: SageMaker allows at most {MAX_GROUP_TAGS} tags per resource", field=field)
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or not kv_chars_ok(key):
            raise InvalidInput(
                f"{field}: key {key[:40]!r} must be 1-{TAG_KEY_MAX} characters of letters, digits, spaces and "
                "_ . : / = + - @ (SageMaker tag key rule)",
                field=f"{field}.{key[:40]}",
            )
        if len(value) > TAG_VALUE_MAX or not kv_chars_ok(value):
            raise InvalidInput(
                f"{field}.{key}: value must be at most {TAG_VALUE_MAX} characters of letters, digits, spaces and "
                "_ . : / = + - @ (SageMaker tag value rule)",
                field=f"{field}.{key}",
            )


# -- value encoding for SageMaker's key/value stores -----------------------------------------
def encode_value(value: str) -> str:
    """Raw when SageMaker's charset allows it, else ``b64:`` + base64 (whose alphabet it allows)."""
    if value and kv_chars_ok(value) and not value.startswith(B64):
        return value
    return B64 + base64.b64encode(value.encode()).decode()


def decode_value(value: str) -> str:
    if value.startswith(B64):
        return base64.b64decode(value[len(B64) :]).decode()
    return value


def encode_entries(entries: Mapping[str, str], size: int = METADATA_VALUE_MAX) -> dict[str, str]:
    """Logical ``mrg.*`` entries -> store entries: encoded, and chunked over ``key``, ``key.1`` ..."""
    out: dict[str, str] = {}
    for key, value in entries.items():
        out.update(envelope.chunked(key, encode_value(value), size))
    return out


def decode_entries(store: Mapping[str, str], keys: list[str]) -> dict[str, str]:
    """Store entries -> the logical entries named in ``keys`` that are present."""
    out: dict[str, str] = {}
    for key in keys:
        joined = envelope.join_chunks(store, key)
        if joined is not None:
            out[key] = decode_value(joined)
    return out


EXTRA_KEYS = (K_ARTIFACT, K_FILES, K_FORMAT, K_FRAMEWORK, envelope.K_MIGRATION)  # carried through rewrites
ENVELOPE_KEYS = [*envelope.FIELD_KEYS.values(), *EXTRA_KEYS]


# -- per-version metadata (CustomerMetadataProperties + sidecar) -----------------------------
def plain_tag_ok(key: str, value: str) -> bool:
    """Whether a user tag can be a plain metadata entry (SageMaker users then see it as-is)."""
    return (
        1 <= len(key) <= METADATA_KEY_MAX
        and 1 <= len(value) <= METADATA_VALUE_MAX
        and kv_chars_ok(key)
        and kv_chars_ok(value)
        and not envelope.is_reserved(key)
    )


def approval_entry(approval: Approval) -> str:
    """Approval as an envelope value, always written: it tells NONE apart from PENDING natively."""
    return json.dumps(approval.model_dump(mode="json", exclude_none=True), separators=(",", ":"), sort_keys=True)


def build_metadata(
    user_tags: Mapping[str, str],
    fields: Mapping[str, Any],
    extra: Mapping[str, str] | None = None,
    sidecar_uri: str = envelope.SIDECAR_FILENAME,
) -> tuple[dict[str, str], dict[str, str]]:
    """(CustomerMetadataProperties, sidecar entries) for a version's tags and envelope fields.

    Plain user tags come first. Envelope entries that fit go in smallest first, and the rest
    overflow to the sidecar, leaving one slot for the ``mrg.sidecar`` marker.
    """
    plain = {k: v for k, v in user_tags.items() if plain_tag_ok(k, v)}
    if len(plain) > PLAIN_TAG_SLOTS:
        plain = {}
    rest = {k: v for k, v in user_tags.items() if k not in plain}
    values = dict(fields)
    if rest:
        values["tags"] = rest
    logical = {k: v for k, v in envelope.encode_fields({k: v for k, v in values.items() if k != "approval"}).items()}
    if "approval" in values and values["approval"] is not None:
        logical[envelope.K_APPROVAL] = approval_entry(values["approval"])
    logical.update(extra or {})
    kept, overflow = envelope.fit(
        logical, envelope.EnvelopeLimits(max_entries=METADATA_MAX_ENTRIES), used=len(plain),
        cost=lambda key, value: len(encode_entries({key: value})), marker=sidecar_uri,
    )
    return {**plain, **encode_entries(kept)}, overflow


def read_metadata(metadata: Mapping[str, str], sidecar: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(user tags, logical envelope entries) from CustomerMetadataProperties and the sidecar."""
    user = {k: v for k, v in metadata.items() if not envelope.is_reserved(k)}
    entries = decode_entries(metadata, [*ENVELOPE_KEYS, envelope.K_SIDECAR])
    entries.update(sidecar or {})
    return user, entries


def needs_sidecar(metadata: Mapping[str, str]) -> bool:
    return envelope.K_SIDECAR in metadata


# -- group tags: aliases and description overrides --------------------------------------------
def read_group_tags(tags: list[dict[str, str]]) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(user tags, aliases, description override) from a group's AWS tag list."""
    flat = {t["Key"]: t.get("Value", "") for t in tags}
    user = {k: v for k, v in flat.items() if not envelope.is_reserved(k)}
    logical = decode_entries(flat, [envelope.K_ALIASES, K_MODEL_DESCRIPTION])
    aliases = {str(k): str(v) for k, v in json.loads(logical.get(envelope.K_ALIASES, "{}")).items()}
    return user, aliases, logical.get(K_MODEL_DESCRIPTION)


def alias_tags(aliases: Mapping[str, str]) -> dict[str, str]:
    value = json.dumps(dict(sorted(aliases.items())), separators=(",", ":"))
    return encode_entries({envelope.K_ALIASES: value}, TAG_VALUE_MAX)


def description_tags(description: str) -> dict[str, str]:
    return encode_entries({K_MODEL_DESCRIPTION: description}, TAG_VALUE_MAX)


def chunk_keys(tags: Mapping[str, str], base: str) -> list[str]:
    """The stored keys of one chunked entry (``base``, ``base.1``, ...) present in ``tags``."""
    return [k for k in tags if k == base or (k.startswith(base + ".") and k[len(base) + 1 :].isdigit())]


def check_alias(alias: str) -> None:
    if not alias or len(alias) > 128 or not re.fullmatch(r"[A-Za-z0-9_\-]+", alias):
        raise InvalidInput(f"alias: {alias!r} must be 1-128 letters, digits, '_' or '-'", field="alias")
    if alias.isdigit():
        raise InvalidInput(f"alias: {alias!r} would be mistaken for a version number", field="alias")


# -- native fields ---------------------------------------------------------------------------
def lifecycle(stage: Stage) -> dict[str, str]:
    native_stage, status = STAGE_TO_NATIVE[Stage(stage)]
    return {"Stage": native_stage, "StageStatus": status}


def stage_from_native(lifecycle_value: Mapping[str, Any] | None) -> Stage | None:
    if not lifecycle_value or not lifecycle_value.get("Stage"):
        return None
    return STAGE_FROM_NATIVE.get(str(lifecycle_value["Stage"]).lower(), Stage.NONE)


def model_card_native(markdown: str) -> dict[str, str]:
    """A ModelPackageModelCard whose JSON content carries the Markdown (newlines JSON-escaped)."""
    content = json.dumps({"additional_information": {"custom_details": {"mrg_markdown": markdown}}})
    return {"ModelCardContent": content, "ModelCardStatus": "Draft"}


def model_card_from_native(card: Mapping[str, Any] | None) -> str | None:
    if not card or not card.get("ModelCardContent"):
        return None
    try:
        content = json.loads(card["ModelCardContent"])
        return str(content["additional_information"]["custom_details"]["mrg_markdown"])
    except (ValueError, KeyError, TypeError):
        return str(card["ModelCardContent"])  # a card written by other tools: keep it verbatim


def metadata_properties(lineage: Lineage) -> dict[str, str]:
    """MetadataProperties mirror lineage for SageMaker users; the envelope stays authoritative."""
    props: dict[str, str] = {}
    if lineage.code is not None:
        props["Repository"] = lineage.code.repo[:1024]
        if lineage.code.commit:
            props["CommitId"] = lineage.code.commit[:1024]
    if lineage.source_run is not None:
        props["GeneratedBy"] = (lineage.source_run.uri or lineage.source_run.id)[:1024]
    return props


def identity(user_context: Mapping[str, Any] | None) -> str | None:
    """A readable principal from SageMaker's UserContext (Studio user or IAM identity)."""
    if not user_context:
        return None
    if user_context.get("UserProfileName"):
        return str(user_context["UserProfileName"])
    iam = user_context.get("IamIdentity") or {}
    return iam.get("Arn") or iam.get("PrincipalId") or user_context.get("UserProfileArn")


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def to_model(registry: str, group: Mapping[str, Any], tags: list[dict[str, str]], latest: str | None) -> Model:
    user, aliases, description = read_group_tags(tags)
    return Model(
        registry=registry,
        name=group["ModelPackageGroupName"],
        description=description if description is not None else group.get("ModelPackageGroupDescription") or None,
        tags=user,
        created_at=_dt(group.get("CreationTime")),
        aliases=aliases,
        latest_version=latest,
        native={"arn": group.get("ModelPackageGroupArn"), "status": group.get("ModelPackageGroupStatus")},
    )


_LINE_BREAKS = re.compile("[\r\n\u0085\u2028\u2029]")


def native_comment(comment: str | None) -> str:
    """``ApprovalDescription`` (pattern ``.*``, <= 1024): line breaks become spaces; the envelope keeps the exact text."""
    return _LINE_BREAKS.sub(" ", comment or "")[:DESCRIPTION_MAX]


def approval_from(package: Mapping[str, Any], recorded: Approval | None) -> Approval:
    """Native status wins; who/when/comment come from the envelope while it agrees with it."""
    native = package.get("ModelApprovalStatus")
    comment = package.get("ApprovalDescription") or None
    if native is None:
        return recorded or Approval()
    status = APPROVAL_FROM_NATIVE.get(native, ApprovalStatus.PENDING)
    if recorded is not None and APPROVAL_TO_NATIVE[recorded.status] == native:
        if comment is None or native_comment(recorded.comment) == comment:
            return recorded
        return recorded.model_copy(update={"comment": comment})
    changed_by = identity(package.get("LastModifiedBy")) if package.get("LastModifiedTime") else None
    return Approval(status=status, by=changed_by, at=_dt(package.get("LastModifiedTime")), comment=comment)


def to_version(
    registry: str,
    package: Mapping[str, Any],
    *,
    aliases: list[str],
    sidecar: Mapping[str, str] | None = None,
) -> ModelVersion:
    metadata = dict(package.get("CustomerMetadataProperties") or {})
    user, entries = read_metadata(metadata, sidecar)
    fields = envelope.decode_fields({k: v for k, v in entries.items() if k in envelope.KEY_FIELDS})
    tags = {**user, **fields.get("tags", {})}
    stage = stage_from_native(package.get("ModelLifeCycle"))
    if stage is None:
        stage = fields.get("stage", Stage.NONE)
    native_stage = (package.get("ModelLifeCycle") or {}).get("Stage")
    card = fields.get("model_card")
    if card is None:
        card = model_card_from_native(package.get("ModelCard"))
    files = [ArtifactFile.model_validate(f) for f in json.loads(entries.get(K_FILES, "[]"))]
    artifact_uri = package.get("SourceUri") or entries.get(K_ARTIFACT)
    return ModelVersion(
        registry=registry,
        model=package["ModelPackageGroupName"],
        version=str(package["ModelPackageVersion"]),
        ordinal=int(package["ModelPackageVersion"]),
        description=fields.get("description", package.get("ModelPackageDescription") or None),
        tags=tags,
        created_at=_dt(package.get("CreationTime")),
        updated_at=_dt(package.get("LastModifiedTime") or package.get("CreationTime")),
        created_by=fields.get("created_by") or identity(package.get("CreatedBy")),
        status=STATUS_FROM_NATIVE.get(str(package.get("ModelPackageStatus")), VersionStatus.READY),
        stage=stage,
        stage_native=native_stage if native_stage not in (None, "None") else None,
        approval=approval_from(package, fields.get("approval")),
        aliases=sorted(aliases),
        artifact=Artifact(uri=artifact_uri, files=files, format=entries.get(K_FORMAT),
                          framework=entries.get(K_FRAMEWORK)),
        metrics=fields.get("metrics", {}),
        params=fields.get("params", {}),
        lineage=fields.get("lineage") or Lineage(),
        model_card=card,
        native={
            "arn": package.get("ModelPackageArn"),
            "approval_status": package.get("ModelApprovalStatus"),
            "model_life_cycle": package.get("ModelLifeCycle"),
            "status": package.get("ModelPackageStatus"),
        },
    )
