"""Model card (README.md) front matter: ``cardData``, Hub-derived tags, ``validate-yaml``.

The Hub turns card metadata into searchable tags (``base_model:…``, ``dataset:…``, ``license:…``);
``list_models(filter=...)`` and lineage lookups rely on that, so the emulator derives them too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BASE_MODEL_RELATIONS = {"adapter", "merge", "quantized", "finetune"}


class CardError(ValueError):
    pass


def front_matter(text: str) -> dict[str, Any] | None:
    """The YAML block of a README, or None when there is none. Raises CardError on bad YAML."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise CardError(f"Invalid YAML in README.md metadata: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CardError("README.md metadata must be a YAML mapping")
    return data


@lru_cache(maxsize=1024)
def _card_cached(content: bytes) -> dict[str, Any] | None:
    try:
        return front_matter(content.decode("utf-8", "replace"))
    except CardError:
        return None


def card_data(content: bytes) -> dict[str, Any] | None:
    """Metadata of a stored README (invalid YAML reads as no metadata, like an unparsable card)."""
    data = _card_cached(content)
    return dict(data) if data is not None else None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def derived_tags(data: dict[str, Any] | None) -> list[str]:
    """Tags the Hub shows for a repo, computed from its card metadata."""
    if not data:
        return []
    tags: list[str] = []
    library = data.get("library_name")
    if library:
        tags.append(str(library))
    tags += _as_list(data.get("tags"))
    pipeline = data.get("pipeline_tag")
    if pipeline:
        tags.append(str(pipeline))
    tags += [f"dataset:{d}" for d in _as_list(data.get("datasets"))]
    relation = data.get("base_model_relation")
    for base in _as_list(data.get("base_model")):
        tags.append(f"base_model:{base}")
        if relation in _BASE_MODEL_RELATIONS:
            tags.append(f"base_model:{relation}:{base}")
    tags += _as_list(data.get("language"))
    for lic in _as_list(data.get("license")):
        tags.append(f"license:{lic}")
    if data.get("model-index"):
        tags.append("model-index")
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag, None)
    return list(seen)


def validate(content: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a README the way ``/api/validate-yaml`` reports them."""
    try:
        data = front_matter(content)
    except CardError as exc:
        return [str(exc)], []
    if not data:
        return [], []
    errors: list[str] = []
    for key in ("tags", "datasets", "language"):
        value = data.get(key)
        if value is not None and not isinstance(value, (str, list)):
            errors.append(f'"{key}" must be a string or an array of strings')
    base = data.get("base_model")
    if base is not None and not isinstance(base, (str, list)):
        errors.append('"base_model" must be a string or an array of strings')
    relation = data.get("base_model_relation")
    if relation is not None and relation not in _BASE_MODEL_RELATIONS:
        errors.append(f'"base_model_relation" must be one of {sorted(_BASE_MODEL_RELATIONS)}')
    errors += _validate_model_index(data.get("model-index"))
    return errors, []


def _validate_model_index(index: Any) -> list[str]:
    if index is None:
        return []
    if not isinstance(index, list):
        return ['"model-index" must be an array']
    errors: list[str] = []
    for i, model in enumerate(index):
        if not isinstance(model, dict) or "name" not in model:
            errors.append(f'"model-index[{i}].name" is required')
            continue
        results = model.get("results", [])
        if not isinstance(results, list):
            errors.append(f'"model-index[{i}].results" must be an array')
            continue
        for j, result in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance(result, dict):
                errors.append(f'"{where}" must be an object')
                continue
            task = result.get("task")
            if not isinstance(task, dict) or "type" not in task:
                errors.append(f'"{where}.task.type" is required')
            dataset = result.get("dataset")
            if not isinstance(dataset, dict) or "type" not in dataset or "name" not in dataset:
                errors.append(f'"{where}.dataset.type" and "{where}.dataset.name" are required')
            metrics = result.get("metrics")
            if not isinstance(metrics, list):
                errors.append(f'"{where}.metrics" must be an array')
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    errors.append(f'"{where}.metrics[{k}]" needs "type" and "value"')
    return errors
