"""The envelope: common fields a backend has no native place for, kept in its own key/values.

Every backend has some string key/value store (MLflow tags, SageMaker customer metadata, Vertex
labels, Azure tags/properties, HF card metadata). Fields the backend cannot hold natively are
written there under reserved ``mrg.`` keys, each value a compact string (JSON for structures).
What does not fit the backend's limits goes to the versioned ``mrg.json`` sidecar beside the
artifact, and the envelope records that a sidecar exists, so a reader knows where to look.

Encoding is deterministic and lossless: ``decode_fields(encode_fields(x)) == x`` for every
field, which is what the round-trip tests hold every adapter to.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mapping.errors import InvalidInput
from mapping.schema import Approval, Lineage, Stage

PREFIX = "mrg."
SIDECAR_FILENAME = "mrg.json"
SIDECAR_SCHEMA = "mrg.sidecar/v1"

# Reserved keys, one per common field the envelope can carry.
K_APPROVAL = "mrg.approval"
K_STAGE = "mrg.stage"
K_ALIASES = "mrg.aliases"
K_METRICS = "mrg.metrics"
K_PARAMS = "mrg.params"
K_LINEAGE = "mrg.lineage"
K_CARD = "mrg.card"
K_CREATED_BY = "mrg.created_by"
K_DESCRIPTION = "mrg.description"
K_TAGS = "mrg.tags"
K_SIDECAR = "mrg.sidecar"
K_MIGRATION = "mrg.migration"  # provenance marker: which source version a copy came from

FIELD_KEYS: dict[str, str] = {
    "approval": K_APPROVAL,
    "stage": K_STAGE,
    "aliases": K_ALIASES,
    "metrics": K_METRICS,
    "params": K_PARAMS,
    "lineage": K_LINEAGE,
    "model_card": K_CARD,
    "created_by": K_CREATED_BY,
    "description": K_DESCRIPTION,
    "tags": K_TAGS,
}
KEY_FIELDS = {key: name for name, key in FIELD_KEYS.items()}


def is_reserved(key: str) -> bool:
    return key.startswith(PREFIX) or key.startswith("mrg-")


def check_user_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    """User tags may not use the reserved prefix: the envelope owns it."""
    for key in tags:
        if is_reserved(key):
            raise InvalidInput(
                f"{field}: key {key!r} uses the reserved prefix 'mrg.'/'mrg-' (kept for the gateway's envelope)",
                field=f"{field}.{key}",
            )


def split_tags(tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Separate a backend's key/values into (user tags, envelope entries)."""
    user = {k: v for k, v in tags.items() if not is_reserved(k)}
    env = {k: v for k, v in tags.items() if is_reserved(k)}
    return user, env


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """Encode common-field values (by field name) into envelope entries.

    Empty values are omitted: an absent key means "default", which keeps envelopes small and
    lets a backend with tight limits carry the fields that matter.
    """
    out: dict[str, str] = {}
    for name, value in values.items():
        key = FIELD_KEYS.get(name)
        if key is None:
            raise KeyError(f"no envelope key for field {name!r}")
        encoded = _encode_one(name, value)
        if encoded is not None:
            out[key] = encoded
    return out


def _encode_one(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if name == "approval":
        approval = value if isinstance(value, Approval) else Approval.model_validate(value)
        if approval == Approval():
            return None
        return _compact(approval.model_dump(mode="json", exclude_none=True))
    if name == "stage":
        stage = Stage(value)
        return None if stage is Stage.NONE else stage.value
    if name == "lineage":
        lineage = value if isinstance(value, Lineage) else Lineage.model_validate(value)
        if lineage.is_empty():
            return None
        return _compact(lineage.model_dump(mode="json", exclude_none=True, exclude_defaults=True))
    if name in ("aliases",):
        return _compact(sorted(value)) if value else None
    if name in ("metrics", "params", "tags"):
        return _compact(dict(value)) if value else None
    if name in ("model_card", "created_by", "description"):
        return str(value) if value != "" else None
    raise KeyError(name)


def decode_fields(entries: Mapping[str, str]) -> dict[str, Any]:
    """Decode envelope entries back into common-field values (unknown ``mrg.`` keys ignored)."""
    out: dict[str, Any] = {}
    for key, raw in entries.items():
        name = KEY_FIELDS.get(key)
        if name is None:
            continue
        if name == "approval":
            out[name] = Approval.model_validate(json.loads(raw))
        elif name == "stage":
            out[name] = Stage(raw)
        elif name == "lineage":
            out[name] = Lineage.model_validate(json.loads(raw))
        elif name == "aliases":
            out[name] = list(json.loads(raw))
        elif name == "metrics":
            out[name] = {k: float(v) for k, v in json.loads(raw).items()}
        elif name in ("params", "tags"):
            out[name] = {k: str(v) for k, v in json.loads(raw).items()}
        else:
            out[name] = raw
    return out


class EnvelopeLimits(BaseModel):
    """What a backend's key/value store accepts; ``None`` means unlimited."""

    max_entries: int | None = None
    key_max: int | None = None
    value_max: int | None = None


def fit(
    entries: Mapping[str, str],
    limits: EnvelopeLimits,
    *,
    used: int = 0,
    cost: Callable[[str, str], int] | None = None,
    marker: str = SIDECAR_FILENAME,
) -> tuple[dict[str, str], dict[str, str]]:
    """Split entries into (what stays in the store, what goes to the sidecar).

    ``used`` counts slots user data already takes; ``cost`` is how many slots an entry takes
    (one by default; more where a backend chunks long values over several keys). When
    everything fits, nothing moves. Otherwise one slot is kept for the ``mrg.sidecar`` marker
    (whose value is ``marker``) and the cheapest entries stay, so the most fields remain
    readable natively.
    """
    slots = cost or (lambda key, value: 1)
    costs = {key: slots(key, value) for key, value in entries.items()}
    oversize = {
        key for key, value in entries.items()
        if (limits.value_max is not None and len(value) > limits.value_max)
        or (limits.key_max is not None and len(key) > limits.key_max)
    }
    if not oversize and (limits.max_entries is None or used + sum(costs.values()) <= limits.max_entries):
        return dict(entries), {}
    budget = None if limits.max_entries is None else limits.max_entries - used - slots(K_SIDECAR, marker)
    kept: dict[str, str] = {}
    overflow: dict[str, str] = {}
    for key in sorted(entries, key=lambda k: (costs[k], len(entries[k]), k)):
        if key not in oversize and (budget is None or costs[key] <= budget):
            kept[key] = entries[key]
            if budget is not None:
                budget -= costs[key]
        else:
            overflow[key] = entries[key]
    kept[K_SIDECAR] = marker
    return kept, overflow


class SidecarManifest(BaseModel):
    """The ``mrg.json`` file stored beside a version's artifact."""

    schema_: str = Field(default=SIDECAR_SCHEMA, alias="schema")
    model: str
    version: str | None = None
    entries: dict[str, str] = Field(default_factory=dict)

    model_config = {"populate_by_name": True}

    def dumps(self) -> bytes:
        return json.dumps(self.model_dump(by_alias=True), sort_keys=True, indent=2, ensure_ascii=False).encode()

    @classmethod
    def loads(cls, data: bytes) -> SidecarManifest:
        raw = json.loads(data)
        if raw.get("schema") != SIDECAR_SCHEMA:
            raise InvalidInput(f"{SIDECAR_FILENAME}: unsupported schema {raw.get('schema')!r}", field="schema")
        return cls.model_validate(raw)


# Label-safe encoding for stores with a restricted charset (Vertex labels: [a-z0-9_-], <=63).
_LABEL_OK = re.compile(r"^[a-z0-9_-]*$")


def label_encode(text: str) -> str:
    """Encode any text into ``[a-z2-7]`` (lowercase base32 without padding), reversibly."""
    return base64.b32encode(text.encode()).decode().rstrip("=").lower()


def label_decode(encoded: str) -> str:
    padded = encoded.upper() + "=" * (-len(encoded) % 8)
    return base64.b32decode(padded).decode()


def label_safe(text: str, max_len: int = 63) -> bool:
    return len(text) <= max_len and bool(_LABEL_OK.match(text))


def chunk(text: str, size: int) -> list[str]:
    """Split a long value across several entries (``size`` > 0); empty text gives one empty chunk."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def join_chunks(entries: Mapping[str, str], base: str) -> str | None:
    """Reassemble values written by :func:`chunk` under ``base``, ``base.1``, ``base.2`` …"""
    if base not in entries:
        return None
    parts = [entries[base]]
    index = 1
    while f"{base}.{index}" in entries:
        parts.append(entries[f"{base}.{index}"])
        index += 1
    return "".join(parts)


def chunked(key: str, value: str, size: int) -> dict[str, str]:
    parts = chunk(value, size)
    return {key if i == 0 else f"{key}.{i}": part for i, part in enumerate(parts)}
