"""Pure translation between Hugging Face Hub repos and the common schema.

How a registry lives on the Hub (the choices, so every reader and writer agrees):

* **model = model repo** ``owner/name`` (names contain ``/``).
* **version = one commit + one immutable tag** ``v<id>`` on it. The commit holds exactly the
  version's files, its model card (``README.md``) and ``mrg.json``, the creation snapshot of every
  common field. ``hf_hub_download(repo, f, revision="v3")`` is therefore the version's artifact.
* **card metadata carries what the Hub has a field for**: ``base_model`` (+``base_model_relation``)
  for parents on the Hub, ``datasets`` for Hub datasets, ``model-index`` for metrics; the card body
  is ``model_card``. Versions tagged by Hub users without ``mrg.json`` are read from that card alone.
* **aliases = branches** ``alias/<name>`` pointing at the version's commit: unique by construction
  and usable directly as ``revision="alias/champion"``.
* **mutable state** (later edits of a version, stage, approval, model description and tags)
  lives in ``registry.json`` on the ``mrg-registry`` branch, so ``main`` stays a plain model
  repo and a user's ``ModelCard.push_to_hub`` can never wipe registry state. Stage, approval and
  tags are *mirrored* into card metadata (``mrg:`` + Hub tags ``mrg-stage:…``) for Hub users and
  ``list_models(filter=...)``; the registry never reads the mirror back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from mapping import envelope
from mapping.errors import InvalidInput
from mapping.fidelity import Placement
from mapping.schema import (
    Approval,
    Artifact,
    ArtifactFile,
    DatasetRef,
    Lineage,
    Model,
    ModelVersion,
    ParentRef,
    Stage,
    VersionSpec,
)

SNAPSHOT_FILE = "mrg.json"
STATE_FILE = "registry.json"
CARD_FILE = "README.md"
SNAPSHOT_SCHEMA = "mrg.hf.version/v1"
STATE_SCHEMA = "mrg.hf.registry/v1"
RESERVED_PATHS = frozenset({SNAPSHOT_FILE, ".gitattributes"})

DEFAULT_TAG_PREFIX = "v"
DEFAULT_ALIAS_PREFIX = "alias/"
DEFAULT_STATE_BRANCH = "mrg-registry"

FIDELITY: dict[str, Placement] = {
    "model.description": Placement.SIDECAR,
    "model.tags": Placement.SIDECAR,
    "description": Placement.SIDECAR,
    "tags": Placement.SIDECAR,
    "stage": Placement.SIDECAR,
    "approval": Placement.SIDECAR,
    "aliases": Placement.NATIVE,
    "metrics": Placement.NATIVE,
    "params": Placement.SIDECAR,
    "lineage.source_run": Placement.SIDECAR,
    "lineage.datasets": Placement.NATIVE,
    "lineage.parents": Placement.NATIVE,
    "lineage.code": Placement.SIDECAR,
    "lineage.migrated_from": Placement.SIDECAR,
    "model_card": Placement.NATIVE,
    "artifact.files": Placement.NATIVE,
    "artifact.sha256": Placement.NATIVE,
    "created_by": Placement.SIDECAR,
}

# Hub ``base_model_relation`` <-> common ParentRef.relation
RELATION_FROM_HUB = {"finetune": "fine-tune", "quantized": "quantize", "adapter": "adapter", "merge": "merge"}
RELATION_TO_HUB = {v: k for k, v in RELATION_FROM_HUB.items()}

_NAME_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_VERSION_ID = re.compile(r"^\d[A-Za-z0-9._-]{0,63}$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HUB_URI = re.compile(r"^(?:hf://|https://huggingface\.co/)(?P<id>[^/@\s]+/[^/@\s]+|[^/@\s]+)$")
_HUB_DATASET_URI = re.compile(r"^(?:hf://datasets/|https://huggingface\.co/datasets/)(?P<id>[^@\s]+)$")

# -- names ----------------------------------------------------------------------------------


def check_model_name(name: str) -> None:
    """A model name is a Hub repo id ``owner/name`` with the Hub's naming rules."""
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not all(_NAME_PART.match(p) and "--" not in p and ".." not in p for p in parts):
        raise InvalidInput(
            f"name: a Hugging Face model is a repo id 'owner/name' (letters, digits, '-', '_', '.'; "
            f"no '--' or '..'), got {name!r}",
            field="name",
        )
    if parts[1].endswith(".git"):
        raise InvalidInput(f"name: a repo name cannot end with '.git' (got {name!r})", field="name")


def check_version_id(version: str) -> None:
    if not isinstance(version, str) or not _VERSION_ID.match(version):
        raise InvalidInput(
            f"version: Hugging Face version ids start with a digit and use letters, digits, '.', '_', '-' "
            f"(<= 64 chars); got {version!r}",
            field="version",
        )


def check_alias(alias: str) -> None:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput(
            f"alias: {alias!r} must be 1-64 letters, digits, '_' or '-', starting with a letter or digit "
            "(it becomes a branch name)",
            field="alias",
        )


def check_tags(tags: Mapping[str, str], field: str = "tags") -> None:
    envelope.check_user_tags(tags, field)
    for key, value in tags.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise InvalidInput(f"{field}: keys must be non-empty strings and values strings", field=field)


def check_artifact_path(path: str, *, with_card: bool) -> str:
    clean = path.strip().lstrip("/") if isinstance(path, str) else ""
    parts = clean.split("/")
    if not clean or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
        raise InvalidInput(f"files: invalid artifact path {path!r}", field="files")
    if clean in RESERVED_PATHS or (with_card and clean == CARD_FILE):
        raise InvalidInput(
            f"files: {clean!r} is reserved in a Hugging Face version (the registry writes it)", field="files"
        )
    return clean


def tag_for(version: str, prefix: str = DEFAULT_TAG_PREFIX) -> str:
    return f"{prefix}{version}"


def version_from_tag(tag: str, prefix: str = DEFAULT_TAG_PREFIX) -> str | None:
    """The version id a tag names, or None for tags that are not versions (``v1`` -> ``1``)."""
    if not tag.startswith(prefix):
        return None
    rest = tag[len(prefix) :]
    return rest if _VERSION_ID.match(rest) else None


def alias_branch(alias: str, prefix: str = DEFAULT_ALIAS_PREFIX) -> str:
    return f"{prefix}{alias}"


def alias_from_branch(branch: str, prefix: str = DEFAULT_ALIAS_PREFIX) -> str | None:
    if not branch.startswith(prefix):
        return None
    rest = branch[len(prefix) :]
    return rest if _ALIAS.match(rest) else None


# -- cards ----------------------------------------------------------------------------------


def split_card(text: str) -> tuple[dict[str, Any], str]:
    """(front-matter metadata, Markdown body) of a README; unparsable metadata reads as empty."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), text[match.end() :]


def render_card(metadata: Mapping[str, Any], body: str | None) -> str:
    """A README with YAML front matter, in the layout ``huggingface_hub.ModelCard`` writes."""
    text = body or ""
    if not metadata:
        return text
    head = yaml.safe_dump(dict(metadata), sort_keys=False, allow_unicode=True).strip()
    return f"---\n{head}\n---\n{text}"


def hub_model_id(uri: str) -> str | None:
    """Repo id of a parent on the Hub (``hf://org/m``, ``https://huggingface.co/org/m``)."""
    if _HUB_DATASET_URI.match(uri):
        return None
    match = _HUB_URI.match(uri)
    return match.group("id") if match else None


def hub_dataset_id(uri: str) -> str | None:
    match = _HUB_DATASET_URI.match(uri)
    return match.group("id") if match else None


def metrics_to_model_index(model_name: str, metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """Metrics as one ``model-index`` result (the Papers-with-Code shape the Hub renders)."""
    if not metrics:
        return []
    return [
        {
            "name": model_name.split("/")[-1],
            "results": [
                {
                    "task": {"type": "other", "name": "registry metrics"},
                    "dataset": {"type": "mrg", "name": "registry"},
                    "metrics": [{"type": k, "value": float(v), "name": k} for k, v in metrics.items()],
                }
            ],
        }
    ]


def metrics_from_model_index(index: Any) -> dict[str, float]:
    """Flatten ``model-index`` into name -> value; a name seen on two datasets gets ``@dataset``."""
    out: dict[str, float] = {}
    for model in index if isinstance(index, list) else []:
        for result in (model or {}).get("results") or []:
            dataset = (result.get("dataset") or {}).get("name") or (result.get("dataset") or {}).get("type")
            for metric in result.get("metrics") or []:
                key = str(metric.get("name") or metric.get("type") or "")
                try:
                    value = float(metric.get("value"))
                except (TypeError, ValueError):
                    continue
                if not key:
                    continue
                if key in out and dataset:
                    key = f"{key}@{dataset}"
                out[key] = value
    return out


def card_metadata(model_name: str, spec: VersionSpec | ModelVersion, version: str) -> dict[str, Any]:
    """A version's card metadata: what the Hub indexes and shows on the model page.

    Lineage and metrics use the Hub's own keys. Stage, approval and tags are mirrored under
    ``mrg`` and as Hub tags (``mrg-stage:production``) so ``list_models(filter=...)`` finds them;
    the registry reads them from ``mrg.json``/``registry.json``, never from the card, because
    Hub users rewrite cards freely.
    """
    meta: dict[str, Any] = {}
    bases = [(i, p.relation) for p in spec.lineage.parents if (i := hub_model_id(p.uri))]
    if bases:
        meta["base_model"] = bases[0][0] if len(bases) == 1 else [b for b, _ in bases]
        relations = {RELATION_TO_HUB.get(r) for _, r in bases}
        if len(relations) == 1 and None not in relations:
            meta["base_model_relation"] = relations.pop()
    datasets = [d for ds in spec.lineage.datasets if (d := hub_dataset_id(ds.uri))]
    if datasets:
        meta["datasets"] = datasets
    index = metrics_to_model_index(model_name, spec.metrics)
    if index:
        meta["model-index"] = index
    stage = Stage(spec.stage)
    mirror: dict[str, Any] = {"version": version, "stage": stage.value, "approval": spec.approval.status.value}
    if spec.tags:
        mirror["tags"] = dict(spec.tags)
    meta["mrg"] = mirror
    meta["tags"] = [f"mrg-version:{version}", f"mrg-stage:{stage.value.lower()}",
                    f"mrg-approval:{spec.approval.status.value.lower()}"]
    return meta


def lineage_from_card(meta: Mapping[str, Any]) -> Lineage:
    bases = meta.get("base_model")
    base_list = [bases] if isinstance(bases, str) else [str(b) for b in bases or [] if b]
    relation = RELATION_FROM_HUB.get(str(meta.get("base_model_relation")), "derived")
    datasets = meta.get("datasets")
    dataset_list = [datasets] if isinstance(datasets, str) else [str(d) for d in datasets or [] if d]
    return Lineage(
        parents=[ParentRef(uri=f"hf://{b}", relation=relation) for b in base_list],
        datasets=[DatasetRef(uri=f"hf://datasets/{d}", name=d) for d in dataset_list],
    )


# -- snapshot (mrg.json in the version commit) and state (registry.json on its branch) ------

_SNAPSHOT_FIELDS = ("description", "tags", "stage", "approval", "metrics", "params", "lineage", "model_card",
                    "created_by")


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt else None


def _dt(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def field_values(spec: VersionSpec | Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values of the mutable version fields."""
    data = spec if isinstance(spec, Mapping) else spec.model_dump(mode="json")
    return {k: data[k] for k in _SNAPSHOT_FIELDS if k in data}


def snapshot(
    version: str, ordinal: int, spec: VersionSpec, files: list[ArtifactFile], created_by: str, now: datetime
) -> bytes:
    data = {
        "schema": SNAPSHOT_SCHEMA,
        "version": version,
        "ordinal": ordinal,
        "created_at": _iso(now),
        **field_values(spec),
        "created_by": spec.created_by or created_by,
        "format": spec.format,
        "framework": spec.framework,
        "files": [f.model_dump(mode="json") for f in files],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode()


def parse_snapshot(raw: bytes | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("schema") == SNAPSHOT_SCHEMA else None


def empty_state() -> dict[str, Any]:
    return {"schema": STATE_SCHEMA, "model": {"description": None, "tags": {}}, "versions": {}}


def parse_state(raw: bytes | None) -> dict[str, Any]:
    state = empty_state()
    if raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("schema") == STATE_SCHEMA:
            state["model"].update(data.get("model") or {})
            state["versions"].update(data.get("versions") or {})
    return state


def dump_state(state: Mapping[str, Any]) -> bytes:
    return json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False).encode()


# -- to the common schema -------------------------------------------------------------------


def to_model(
    registry: str,
    info: Any,
    state: Mapping[str, Any],
    aliases: Mapping[str, str],
    latest: str | None,
) -> Model:
    return Model(
        registry=registry,
        name=info.id,
        description=state["model"].get("description") or None,
        tags=dict(state["model"].get("tags") or {}),
        created_at=getattr(info, "created_at", None),
        updated_at=getattr(info, "last_modified", None),
        aliases=dict(aliases),
        latest_version=latest,
        native={"id": info.id, "sha": getattr(info, "sha", None), "private": getattr(info, "private", None)},
    )


def to_version(
    registry: str,
    model: str,
    version: str,
    *,
    commit: str,
    tag: str,
    snapshot_data: Mapping[str, Any] | None,
    card_text: str | None,
    overlay: Mapping[str, Any] | None,
    aliases: list[str],
    commit_date: datetime | None,
    commit_author: str | None,
    files: list[ArtifactFile],
    endpoint: str,
) -> ModelVersion:
    """Creation snapshot (or, for versions tagged outside the gateway, the card), then later edits."""
    meta, body = split_card(card_text) if card_text is not None else ({}, None)
    if snapshot_data is not None:
        values: dict[str, Any] = field_values(snapshot_data)
        ordinal = int(snapshot_data.get("ordinal") or 0)
        created_at = _dt(snapshot_data.get("created_at")) or commit_date
        fmt, framework = snapshot_data.get("format"), snapshot_data.get("framework")
    else:
        values = {
            "metrics": metrics_from_model_index(meta.get("model-index")),
            "lineage": lineage_from_card(meta).model_dump(mode="json"),
            "model_card": body or None,
            "created_by": commit_author,
        }
        ordinal = int(version) if version.isdigit() else 0
        created_at = commit_date
        fmt, framework = None, meta.get("library_name")
    overlay = overlay or {}
    values.update({k: v for k, v in overlay.items() if k in _SNAPSHOT_FIELDS})
    approval = Approval.model_validate(values.get("approval") or {})
    lineage = Lineage.model_validate(values.get("lineage") or {})
    return ModelVersion(
        registry=registry,
        model=model,
        version=version,
        ordinal=ordinal,
        description=values.get("description") or None,
        tags=dict(values.get("tags") or {}),
        created_at=created_at,
        updated_at=_dt(overlay.get("updated_at")) or created_at,
        created_by=values.get("created_by") or commit_author,
        stage=Stage(values.get("stage") or Stage.NONE),
        approval=approval,
        aliases=sorted(aliases),
        artifact=Artifact(uri=f"{endpoint.rstrip('/')}/{model}/tree/{tag}", files=files, format=fmt,
                          framework=framework),
        metrics={k: float(v) for k, v in (values.get("metrics") or {}).items()},
        params={k: str(v) for k, v in (values.get("params") or {}).items()},
        lineage=lineage,
        model_card=values.get("model_card"),
        native={"commit": commit, "tag": tag, "card_metadata": meta or None},
    )
