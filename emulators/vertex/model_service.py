"""Vertex AI ModelService semantics: models, versions, aliases, labels at two scopes.

A Model resource is what the service returns for one version: model-level fields
(display name, description, model labels, create/update time) overlaid on that version's
own fields. Keeping the two apart is what lets UpdateModel address either scope, as the
UpdateModelRequest contract describes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from . import protos
from .errors import ApiError, already_exists, invalid, not_found, precondition
from .filtering import matches, parse_filter
from .listing import paginate, parse_order_by, sort_items
from .operations import Operations
from .validation import (
    validate_alias,
    validate_aliases,
    validate_display_name,
    validate_labels,
    validate_model_id,
)

PARENT_RE = re.compile(r"^projects/([^/]+)/locations/([^/]+)$")
MODEL_RE = re.compile(r"^(projects/[^/]+/locations/[^/]+)/models/([^/@]+)(?:@([^/@]+))?$")
DEFAULT_ALIAS = "default"

# Fields a caller may send at upload but the service owns.
_OUTPUT_ONLY = (
    "name",
    "version_id",
    "version_create_time",
    "version_update_time",
    "create_time",
    "update_time",
    "deployed_models",
    "etag",
    "model_source_info",
    "metadata_artifact",
    "supported_export_formats",
    "supported_deployment_resources_types",
    "supported_input_storage_formats",
    "supported_output_storage_formats",
    "training_pipeline",
    "original_model_info",
    "satisfies_pzs",
    "satisfies_pzi",
    "checkpoints",
    "data_stats",
)
_MODEL_SCOPE_FIELDS = {"display_name", "description", "labels"}
_VERSION_SCOPE_FIELDS = {"version_description", "labels"}
DEDICATED_RESOURCES = 1
SOURCE_CUSTOM = 2


@dataclass
class ModelRecord:
    """One registered model: model-level fields plus its versions keyed by version ID."""

    name: str
    display_name: str
    description: str
    labels: dict[str, str]
    create_time: Message
    update_time: Message
    versions: dict[str, Message] = field(default_factory=dict)  # version-level Model; .labels = version labels
    next_version: int = 1

    def alias_holder(self, alias: str) -> str | None:
        for vid, ver in self.versions.items():
            if alias in ver.version_aliases:
                return vid
        return None


def parse_parent(parent: str) -> str:
    if not PARENT_RE.match(parent):
        raise invalid(f"Invalid parent '{parent}': expected projects/{{project}}/locations/{{location}}.")
    return parent


def split_model_name(name: str) -> tuple[str, str, str | None]:
    """-> (parent, model_id, version spec or None)."""
    m = MODEL_RE.match(name)
    if not m:
        raise invalid(f"Invalid Model resource name '{name}'.")
    return m.group(1), m.group(2), m.group(3)


def _set_alias_list(ver: Message, aliases: list[str]) -> None:
    del ver.version_aliases[:]
    ver.version_aliases.extend(aliases)


class ModelService:
    def __init__(self, operations: Operations, on_version_created: Callable[[str, str], str]) -> None:
        self.models: dict[str, ModelRecord] = {}
        self.operations = operations
        self._on_version_created = on_version_created

    # ---- lookups -------------------------------------------------------------------------
    def _record(self, parent: str, model_id: str) -> ModelRecord:
        rec = self.models.get(f"{parent}/models/{model_id}")
        if rec is None:
            raise not_found(f'The Model "{parent}/models/{model_id}" does not exist.')
        return rec

    def _resolve(self, name: str) -> tuple[ModelRecord, str, bool]:
        """-> (record, version ID, whether the caller named a version)."""
        parent, model_id, spec = split_model_name(name)
        rec = self._record(parent, model_id)
        if spec is None or spec == "-":
            holder = rec.alias_holder(DEFAULT_ALIAS)
            assert holder is not None, "a model always has a default version"
            return rec, holder, False
        if spec.isdigit():
            if spec not in rec.versions:
                raise not_found(f'The Model version "{rec.name}@{spec}" does not exist.')
            return rec, spec, True
        holder = rec.alias_holder(spec)
        if holder is None:
            raise not_found(f'The Model version alias "{rec.name}@{spec}" does not exist.')
        return rec, holder, True

    @staticmethod
    def _etag(rec: ModelRecord, ver: Message) -> str:
        basis = repr(
            (
                rec.display_name,
                rec.description,
                sorted(rec.labels.items()),
                sorted(ver.labels.items()),
                ver.version_description,
            )
        )
        return base64.b64encode(hashlib.sha256(basis.encode()).digest()[:15]).decode()

    def render(self, rec: ModelRecord, version_id: str, versioned_name: bool) -> Message:
        ver = rec.versions[version_id]
        out = protos.copy(ver)
        out.name = f"{rec.name}@{version_id}" if versioned_name else rec.name
        out.display_name = rec.display_name
        out.description = rec.description
        out.labels.clear()
        out.labels.update({**rec.labels, **dict(ver.labels)})
        out.create_time.CopyFrom(rec.create_time)
        out.update_time.CopyFrom(rec.update_time)
        out.etag = self._etag(rec, ver)
        return out

    # ---- UploadModel ---------------------------------------------------------------------
    def upload(self, parent: str, req: Message) -> Message:
        parse_parent(parent)
        if not req.HasField("model"):
            raise invalid("Model is required.")
        incoming = protos.copy(req.model)
        validate_display_name(incoming.display_name)
        validate_labels(incoming.labels)
        aliases = validate_aliases(incoming.version_aliases)
        for fname in _OUTPUT_ONLY:
            incoming.ClearField(fname)
        ts = protos.now()

        if req.parent_model:
            p_parent, p_id, p_spec = split_model_name(req.parent_model)
            if p_spec is not None:
                raise invalid(f"parent_model '{req.parent_model}' must not name a version.")
            if p_parent != parent:
                raise invalid(f"parent_model '{req.parent_model}' is not under '{parent}'.")
            if req.model_id and req.model_id != p_id:
                raise invalid("model_id must match the ID of parent_model when both are given.")
            rec = self._record(p_parent, p_id)
            version_labels = dict(incoming.labels)
        else:
            model_id = req.model_id or protos.new_numeric_id()
            if req.model_id:
                validate_model_id(model_id)
            name = f"{parent}/models/{model_id}"
            if name in self.models:
                raise already_exists(f'Model "{name}" already exists.')
            rec = ModelRecord(
                name=name,
                display_name=incoming.display_name,
                description=incoming.description,
                labels=dict(incoming.labels),
                create_time=ts,
                update_time=protos.copy(ts),
            )
            version_labels = {}
            if DEFAULT_ALIAS not in aliases:
                aliases.append(DEFAULT_ALIAS)

        version_id = str(rec.next_version)
        ver = incoming
        ver.ClearField("display_name")
        ver.ClearField("description")
        ver.labels.clear()
        ver.labels.update(version_labels)
        ver.version_id = version_id
        ver.version_create_time.CopyFrom(ts)
        ver.version_update_time.CopyFrom(ts)
        ver.model_source_info.source_type = SOURCE_CUSTOM
        if ver.container_spec.image_uri:
            ver.supported_deployment_resources_types.append(DEDICATED_RESOURCES)
        for other in rec.versions.values():  # an alias lives on one version: move it here
            kept = [a for a in other.version_aliases if a not in aliases]
            if len(kept) != len(other.version_aliases):
                _set_alias_list(other, kept)
                other.version_update_time.CopyFrom(ts)
        _set_alias_list(ver, aliases)
        ver.metadata_artifact = self._on_version_created(f"{rec.name}@{version_id}", rec.display_name)
        rec.versions[version_id] = ver
        rec.next_version += 1
        rec.update_time.CopyFrom(ts)
        self.models[rec.name] = rec

        meta = protos.UploadModelOperationMetadata()
        meta.generic_metadata.create_time.CopyFrom(ts)
        meta.generic_metadata.update_time.CopyFrom(ts)
        resp = protos.UploadModelResponse(model=rec.name, model_version_id=version_id)
        return self.operations.record(rec.name, meta, resp)

    # ---- reads ---------------------------------------------------------------------------
    def get(self, name: str) -> Message:
        rec, vid, versioned = self._resolve(name)
        return self.render(rec, vid, versioned)

    @staticmethod
    def _field(model: Message, path: tuple[str, ...], allowed: set[str]) -> Any:
        head = path[0]
        if head not in allowed:
            raise invalid(f"Unsupported filter field '{'.'.join(path)}'.")
        if head == "labels":
            labels = dict(model.labels)
            return labels if len(path) == 1 else labels.get(".".join(path[1:]))
        if len(path) != 1:
            raise invalid(f"Unsupported filter field '{'.'.join(path)}'.")
        if head == "model":
            return model.name.split("/")[-1].split("@")[0]
        if head == "base_model_name":
            return model.base_model_source.genie_source.base_model_uri or None
        return getattr(model, head)

    @staticmethod
    def _sort_value(model: Message, fld: str) -> Any:
        if fld in ("create_time", "update_time"):
            ts = getattr(model, "version_" + fld) if "@" in model.name else getattr(model, fld)
            return (ts.seconds, ts.nanos)
        return getattr(model, fld)

    def list(self, parent: str, flt: str, page_size: int, page_token: str, order_by: str) -> Message:
        parse_parent(parent)
        node = parse_filter(flt)
        keys = parse_order_by(order_by, ("display_name", "create_time", "update_time"))
        allowed = {"model", "display_name", "labels", "base_model_name"}
        views = []
        for rec in self.models.values():
            if rec.name.startswith(parent + "/models/"):
                view = self.render(rec, rec.alias_holder(DEFAULT_ALIAS) or "", False)
                if matches(node, view, lambda m, p: self._field(m, p, allowed)):
                    views.append(view)
        views = sort_items(views, keys, self._sort_value)
        page, token = paginate(views, page_size, page_token, {"p": parent, "f": flt, "o": order_by})
        resp = protos.ListModelsResponse(next_page_token=token)
        resp.models.extend(page)
        return resp

    def list_versions(self, name: str, flt: str, page_size: int, page_token: str, order_by: str) -> Message:
        parent, model_id, spec = split_model_name(name)
        if spec is not None:
            raise invalid(f"ListModelVersions takes a model name without a version: '{name}'.")
        rec = self._record(parent, model_id)
        node = parse_filter(flt)
        keys = parse_order_by(order_by, ("create_time", "update_time"))
        views = [self.render(rec, vid, True) for vid in sorted(rec.versions, key=int)]
        views = [v for v in views if matches(node, v, lambda m, p: self._field(m, p, {"labels"}))]
        views = sort_items(views, keys, self._sort_value)
        page, token = paginate(views, page_size, page_token, {"n": name, "f": flt, "o": order_by})
        resp = protos.ListModelVersionsResponse(next_page_token=token)
        resp.models.extend(page)
        return resp

    # ---- MergeVersionAliases -------------------------------------------------------------
    def merge_aliases(self, name: str, changes: list[str]) -> Message:
        _, _, spec = split_model_name(name)
        if spec is None or not spec.isdigit():
            raise invalid(f"MergeVersionAliases needs a model version name with a version ID: '{name}'.")
        rec, vid, _ = self._resolve(name)
        if not changes:
            raise invalid("version_aliases must not be empty.")
        adds: list[str] = []
        removes: list[str] = []
        for item in changes:
            alias = item.removeprefix("-")
            validate_alias(alias)
            (removes if item.startswith("-") else adds).append(alias)
        cancelled = set(adds) & set(removes)  # documented: an add and a remove cancel out
        adds = [a for a in adds if a not in cancelled]
        removes = [r for r in removes if r not in cancelled]
        ver = rec.versions[vid]
        if DEFAULT_ALIAS in removes and DEFAULT_ALIAS in ver.version_aliases:
            raise precondition(
                f"Cannot remove the '{DEFAULT_ALIAS}' alias from {rec.name}@{vid}: a model must always "
                "have a default version. Move it by adding 'default' to another version."
            )
        ts = protos.now()
        for alias in adds:
            holder = rec.alias_holder(alias)
            if holder is not None and holder != vid:
                other = rec.versions[holder]
                _set_alias_list(other, [a for a in other.version_aliases if a != alias])
                other.version_update_time.CopyFrom(ts)
        aliases = [a for a in ver.version_aliases if a not in removes]
        aliases += [a for a in adds if a not in aliases]
        _set_alias_list(ver, aliases)
        ver.version_update_time.CopyFrom(ts)
        rec.update_time.CopyFrom(ts)
        return self.render(rec, vid, True)

    # ---- UpdateModel ---------------------------------------------------------------------
    def update(self, name: str, body: Message, mask_paths: list[str]) -> Message:
        if not mask_paths:
            raise invalid("update_mask is required.")
        rec, vid, versioned = self._resolve(name)
        scope_fields = _VERSION_SCOPE_FIELDS if versioned else _MODEL_SCOPE_FIELDS
        known = _VERSION_SCOPE_FIELDS | _MODEL_SCOPE_FIELDS
        for path in mask_paths:
            if path not in known:
                raise invalid(f"Update of field '{path}' is not supported; it is immutable or output only.")
            if path not in scope_fields:
                scope = "model version" if versioned else "model"
                raise precondition(
                    f"Field '{path}' cannot be updated in a {scope} update. Model fields (display_name, "
                    "description) need a model name without a version; version_description needs a "
                    "model version name."
                )
        ver = rec.versions[vid]
        if body.etag:
            current = [self._etag(rec, v) for v in rec.versions.values()] if not versioned else [self._etag(rec, ver)]
            if body.etag not in current:
                raise ApiError(
                    "ABORTED",
                    "The etag in the request does not match the Model's current etag.",
                )
        ts = protos.now()
        if "labels" in mask_paths:
            validate_labels(body.labels)
        if versioned:
            if "labels" in mask_paths:
                ver.labels.clear()
                ver.labels.update(dict(body.labels))
            if "version_description" in mask_paths:
                ver.version_description = body.version_description
            ver.version_update_time.CopyFrom(ts)
        else:
            if "display_name" in mask_paths:
                validate_display_name(body.display_name)
                rec.display_name = body.display_name
            if "description" in mask_paths:
                rec.description = body.description
            if "labels" in mask_paths:
                rec.labels = dict(body.labels)
        merged = {**rec.labels, **dict(ver.labels)}
        validate_labels(merged)
        rec.update_time.CopyFrom(ts)
        return self.render(rec, vid, versioned)

    # ---- deletes -------------------------------------------------------------------------
    def delete_version(self, name: str) -> Message:
        _, _, spec = split_model_name(name)
        if spec is None or spec == "-":
            raise invalid(f"DeleteModelVersion needs a model version name: '{name}'.")
        rec, vid, _ = self._resolve(name)
        if len(rec.versions) == 1:
            raise precondition("Deleting the only version in the Model is not allowed. Use DeleteModel instead.")
        if DEFAULT_ALIAS in rec.versions[vid].version_aliases:
            raise precondition(
                f"Model version {rec.name}@{vid} holds the '{DEFAULT_ALIAS}' alias and cannot be deleted. "
                "Move the default alias to another version first."
            )
        del rec.versions[vid]
        rec.update_time.CopyFrom(protos.now())
        return self.operations.record(f"{rec.name}", self._delete_metadata())

    def delete(self, name: str) -> Message:
        parent, model_id, spec = split_model_name(name)
        if spec is not None:
            raise invalid(f"DeleteModel takes a model name without a version: '{name}'. Use DeleteModelVersion.")
        rec = self._record(parent, model_id)
        del self.models[rec.name]
        return self.operations.record(rec.name, self._delete_metadata())

    @staticmethod
    def _delete_metadata() -> Message:
        meta = protos.DeleteOperationMetadata()
        ts = protos.now()
        meta.generic_metadata.create_time.CopyFrom(ts)
        meta.generic_metadata.update_time.CopyFrom(ts)
        return meta

    # ---- persistence ---------------------------------------------------------------------
    def dump(self) -> list[dict[str, Any]]:
        return [
            {
                "name": r.name,
                "display_name": r.display_name,
                "description": r.description,
                "labels": r.labels,
                "create_time": r.create_time.ToJsonString(),
                "update_time": r.update_time.ToJsonString(),
                "next_version": r.next_version,
                "versions": {vid: protos.to_dict(v) for vid, v in r.versions.items()},
            }
            for r in self.models.values()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            ct, ut = protos.Timestamp(), protos.Timestamp()
            ct.FromJsonString(row["create_time"])
            ut.FromJsonString(row["update_time"])
            rec = ModelRecord(
                name=row["name"],
                display_name=row["display_name"],
                description=row["description"],
                labels=dict(row["labels"]),
                create_time=ct,
                update_time=ut,
                next_version=row["next_version"],
            )
            for vid, raw in row["versions"].items():
                ver = protos.Model()
                json_format.ParseDict(raw, ver)
                rec.versions[vid] = ver
            self.models[rec.name] = rec


__all__ = ["ApiError", "ModelRecord", "ModelService", "split_model_name"]
