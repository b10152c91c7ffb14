"""What a catalog search asks for, and the gateway-side filter every result goes through.

Pure: no I/O. Filters an adapter declares in ``Capabilities.search_filters`` are pushed down
to save work, but the gateway re-applies every filter here to every result, so a backend whose
search is looser than ours (prefix vs substring, case rules) can never add a wrong result.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from mapping.schema import ApprovalStatus, Model, ModelQuery, ModelVersion, Stage

# The filter names an adapter may list in ``Capabilities.search_filters`` (model listing only:
# no backend searches versions across models natively).
PUSHABLE_FILTERS = ("text", "name_prefix", "tags")


class CatalogQuery(BaseModel):
    """A search over models (model-level fields) or versions (all fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = None
    registries: tuple[str, ...] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    name_prefix: str | None = None
    alias: str | None = None
    updated_since: datetime | None = None
    # Version-level filters (``/v1/versions`` only).
    stage: Stage | None = None
    approval: ApprovalStatus | None = None
    framework: str | None = None

    def fingerprint(self) -> str:
        """Identifies the query inside a cursor, so a cursor is never replayed on another search."""
        data = self.model_dump(mode="json")
        if data["registries"] is not None:
            data["registries"] = sorted(data["registries"])
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def pushdown(query: CatalogQuery, supported: list[str], *, versions: bool = False) -> ModelQuery:
    """The part of ``query`` an adapter's ``list_models`` can apply itself.

    For a version search only the model-name prefix applies to models (text and tags are
    matched against versions, so they cannot narrow the model listing).
    """
    allowed = set(supported)
    if versions:
        return ModelQuery(name_prefix=query.name_prefix if "name_prefix" in allowed else None)
    return ModelQuery(
        text=query.text if "text" in allowed else None,
        name_prefix=query.name_prefix if "name_prefix" in allowed else None,
        tags=dict(query.tags) if "tags" in allowed else {},
    )


def model_matches(model: Model, query: CatalogQuery) -> bool:
    """Model-level filters: registry, prefix, tags, alias, updated since, free text."""
    if query.registries is not None and model.registry not in query.registries:
        return False
    if query.name_prefix and not model.name.startswith(query.name_prefix):
        return False
    if any(model.tags.get(k) != v for k, v in query.tags.items()):
        return False
    if query.alias is not None and query.alias not in model.aliases:
        return False
    if query.updated_since is not None and not _since(model.updated_at or model.created_at, query.updated_since):
        return False
    return _text_matches(query.text, [model.name, model.description or "", *model.tags.keys(), *model.tags.values()])


def version_matches(version: ModelVersion, query: CatalogQuery) -> bool:
    """Every filter, against the version (its model's name for the prefix and the text)."""
    if query.registries is not None and version.registry not in query.registries:
        return False
    if query.name_prefix and not version.model.startswith(query.name_prefix):
        return False
    if any(version.tags.get(k) != v for k, v in query.tags.items()):
        return False
    if query.alias is not None and query.alias not in version.aliases:
        return False
    if query.stage is not None and version.stage != query.stage:
        return False
    if query.approval is not None and version.approval.status != query.approval:
        return False
    if query.framework is not None and (version.artifact.framework or "").lower() != query.framework.lower():
        return False
    if query.updated_since is not None and not _since(version.updated_at or version.created_at, query.updated_since):
        return False
    words = [version.model, version.version, version.description or "", *version.tags.keys(), *version.tags.values()]
    return _text_matches(query.text, words)


def _text_matches(text: str | None, words: list[str]) -> bool:
    """Case-insensitive substring over the joined fields; every whitespace-separated term must occur."""
    if not text:
        return True
    haystack = " ".join(words).lower()
    return all(term in haystack for term in text.lower().split())


def _since(moment: datetime | None, since: datetime) -> bool:
    """Unknown times never match a time filter: we cannot claim they were updated since."""
    if moment is None:
        return False
    return as_utc(moment) >= as_utc(since)


def as_utc(moment: datetime) -> datetime:
    """Backends mix naive (meaning UTC) and aware timestamps; compare them as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
