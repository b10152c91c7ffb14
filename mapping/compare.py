"""Field-by-field comparison of versions: the one definition of "nothing was lost".

Round-trip tests, migration verify and pilot read-back all ask the same question — does this
version carry the same common fields as that one? — so they share this function. Fields are
the names of :data:`mapping.fidelity.VERSION_FIELDS`; timestamps and backend ids are not
compared because each registry assigns its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from mapping.fidelity import VERSION_FIELDS
from mapping.schema import ArtifactFile, ModelVersion, VersionSpec

# Fields a registry fills by itself when the writer gives none: SageMaker's CreatedBy, the Hub's
# commit author and Azure ML's creator are whoever made the call. A source that has no value (an
# MLflow version registered without a user) loses nothing when its copy names the copier.
_FILLED_BY_THE_BACKEND = frozenset({"created_by"})


class FieldDiff(BaseModel):
    field: str
    expected: Any
    actual: Any


def field_value(obj: ModelVersion | VersionSpec, field: str) -> Any:
    """The comparable value of one field, normalised (sorted lists, empty == None)."""
    if field == "aliases":
        return sorted(getattr(obj, "aliases", []) or [])
    if field.startswith("lineage."):
        value = getattr(obj.lineage, field.split(".", 1)[1])
        if isinstance(value, list):
            return sorted((v.model_dump(mode="json") for v in value), key=repr)
        return value.model_dump(mode="json") if value is not None else None
    if field == "approval":
        approval = obj.approval.model_dump(mode="json")
        approval.pop("at", None)  # when a registry records approval time, it is its own clock
        return approval
    if field in ("artifact.files", "artifact.sha256"):
        files = obj.artifact.files if isinstance(obj, ModelVersion) else []
        return _files(files, with_digest=field == "artifact.sha256")
    value = getattr(obj, field)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if value in ("", {}, []):
        return None
    return value


def _files(files: Iterable[ArtifactFile], *, with_digest: bool) -> list[tuple[str, int | None, str | None]] | None:
    out = sorted((f.path, f.size, f.sha256 if with_digest else None) for f in files)
    return out or None


def diff_versions(
    expected: ModelVersion | VersionSpec, actual: ModelVersion, fields: Iterable[str] = VERSION_FIELDS
) -> list[FieldDiff]:
    diffs: list[FieldDiff] = []
    for field in fields:
        if isinstance(expected, VersionSpec) and field in ("aliases", "artifact.files", "artifact.sha256"):
            continue  # a spec does not carry these; they are checked against the source version
        want, got = field_value(expected, field), field_value(actual, field)
        if field in _FILLED_BY_THE_BACKEND and want is None:
            continue  # nothing to carry: the registry records its own value (the principal that wrote it)
        if want != got:
            diffs.append(FieldDiff(field=field, expected=want, actual=got))
    return diffs
