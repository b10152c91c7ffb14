"""Planning a migration: which versions, under which target names, and where each field lands.

A plan writes nothing. It is what ``mrg migrate plan`` prints and what a run journals: every
source version in source order, its target model, the version id it will get where the target
lets us choose, and per common field whether the target keeps it natively, in the envelope, in
the sidecar, or cannot carry it (and why).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from adapters.base import Capabilities
from mapping.errors import InvalidInput
from mapping.fidelity import ALL_FIELDS, Placement
from mapping.schema import ApprovalStatus, ArtifactFile, ModelVersion, RegistryKind

_RANGE = re.compile(r"^(\d+)?-(\d+)?$")


class VersionSelector(BaseModel):
    """``all`` | ``latest`` | ``approved`` | ``3-7`` | ``5-`` | ``1,4,9`` (ids as the source names them)."""

    raw: str = "all"

    def select(self, versions: list[ModelVersion]) -> list[ModelVersion]:
        ordered = sorted(versions, key=lambda v: v.ordinal)
        raw = self.raw.strip().lower()
        if raw in ("", "all"):
            return ordered
        if raw == "latest":
            return ordered[-1:]
        if raw == "approved":
            return [v for v in ordered if v.approval.status == ApprovalStatus.APPROVED]
        match = _RANGE.match(raw)
        if match and (match.group(1) or match.group(2)):
            low = int(match.group(1) or 0)
            high = int(match.group(2)) if match.group(2) else None
            return [v for v in ordered if v.version.isdigit() and low <= int(v.version) and (high is None or int(v.version) <= high)]
        wanted = {part.strip() for part in self.raw.split(",") if part.strip()}
        if not wanted:
            raise InvalidInput(f"versions: {self.raw!r} is not all|latest|approved|<from>-<to>|<v1,v2,...>", field="versions")
        return [v for v in ordered if v.version in wanted]

    @classmethod
    def parse(cls, raw: str) -> VersionSelector:
        selector = cls(raw=raw)
        low = raw.strip().lower()
        if (low not in ("", "all", "latest", "approved") and not _RANGE.match(low)
                and not all(part.strip() for part in raw.split(","))):
            raise InvalidInput(f"versions: {raw!r} is not all|latest|approved|<from>-<to>|<v1,v2,...>", field="versions")
        return selector


def parse_endpoint(text: str) -> tuple[str, str]:
    """``registry[/model-glob]`` -> (registry, glob)."""
    registry, _, glob = text.partition("/")
    if not registry:
        raise InvalidInput(f"from: {text!r} must be <registry>[/<model glob>]", field="from")
    return registry, glob or "*"


def target_name(source_name: str, pattern: str | None, target_kind: RegistryKind, namespace: str | None = None) -> str:
    """Apply ``--rename``: ``{name}``, ``{owner}``, ``{basename}``, ``{flat}`` (``/`` -> ``--``).

    Without a pattern the name is kept, except that ``/`` (HF ``owner/name``) becomes ``--``
    for targets that forbid it, and a plain name goes under the target's default namespace
    (``Capabilities.default_namespace``) for targets that need one.
    """
    owner, _, basename = source_name.rpartition("/")
    if pattern:
        try:
            return pattern.format(name=source_name, owner=owner, basename=basename, flat=source_name.replace("/", "--"))
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidInput(f"rename: {pattern!r} may use {{name}}, {{owner}}, {{basename}}, {{flat}} ({exc})",
                               field="rename") from None
    if "/" in source_name and target_kind is not RegistryKind.HF:
        return source_name.replace("/", "--")
    if "/" not in source_name and target_kind is RegistryKind.HF and namespace:
        return f"{namespace}/{source_name}"
    return source_name


def matches_glob(name: str, glob: str) -> bool:
    return fnmatch.fnmatchcase(name, glob)


def version_digest(files: Iterable[ArtifactFile]) -> str:
    """One digest for a version's files: sha256 over the sorted (path, sha256) list."""
    lines = sorted(f"{f.path}\0{f.sha256 or ''}\n" for f in files)
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


class FieldPlan(BaseModel):
    field: str
    source: Placement
    target: Placement
    carried: bool
    note: str | None = None


class PlannedVersion(BaseModel):
    source_version: str
    ordinal: int
    target_version: str | None = Field(description="the id it will get; None where the target assigns ids")
    aliases: list[str] = Field(default_factory=list)
    stage: str
    approval: str


class PlannedModel(BaseModel):
    source: str
    target: str
    versions: list[PlannedVersion]


class MigrationPlan(BaseModel):
    source: str
    target: str
    source_kind: str
    target_kind: str
    selector: str
    models: list[PlannedModel]
    fields: list[FieldPlan]
    warnings: list[str] = Field(default_factory=list)

    @property
    def version_count(self) -> int:
        return sum(len(m.versions) for m in self.models)


def field_plans(source: Capabilities, target: Capabilities) -> list[FieldPlan]:
    plans = []
    for field in ALL_FIELDS:
        src = source.fidelity.get(field, Placement.UNSUPPORTED)
        dst = target.fidelity.get(field, Placement.UNSUPPORTED)
        note = None
        if src is Placement.UNSUPPORTED:
            note = f"the source ({source.kind.value}) does not hold it"
        elif dst is Placement.UNSUPPORTED:
            note = f"the target ({target.kind.value}) cannot hold it"
        plans.append(FieldPlan(field=field, source=src, target=dst, carried=note is None, note=note))
    return plans


def carried_version_fields(source: Capabilities, target: Capabilities) -> list[str]:
    """Version fields both ends hold: what a copy must reproduce exactly."""
    return [p.field for p in field_plans(source, target) if p.carried and not p.field.startswith("model.")]
