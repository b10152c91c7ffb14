"""The catalog cache in the store: registry snapshots, write-through updates, freshness.

A full refresh replaces one registry's rows in one transaction, so readers see either the old
copy or the new one. Writes made through the gateway are applied from the mutation's
``after`` snapshot at once (no registry call) and the touched model is re-read later by the
refresher, which fixes what a snapshot cannot carry (a model's ``latest_version`` after a new
version, say).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from gateway.catalog.tables import CatalogLineageRef, CatalogModelRow, CatalogSource, CatalogVersionRow
from gateway.store import Store
from mapping.schema import Model, ModelVersion, MrgUri


@dataclass(frozen=True)
class Freshness:
    registry: str
    refreshed_at: datetime | None
    attempted_at: datetime
    error: str | None


@dataclass(frozen=True)
class Referrer:
    """A cached version that points at some URI (as a parent, or as its migration source)."""

    registry: str
    model: str
    version: str
    relation: str


def canonical_uri(uri: str) -> str:
    """One spelling per object, so ``mrg://r/a%2Fb`` and ``mrg://r/a/b`` refer to the same version."""
    try:
        return MrgUri.parse(uri).render()
    except ValueError:
        return uri


def lineage_refs(version: ModelVersion) -> list[tuple[str, str]]:
    """(target URI, relation) for every object a version says it came from."""
    refs = [(canonical_uri(p.uri), p.relation) for p in version.lineage.parents]
    if version.lineage.migrated_from is not None:
        refs.append((canonical_uri(version.lineage.migrated_from.uri), "migrated_from"))
    return refs


class CatalogCache:
    def __init__(self, store: Store) -> None:
        import gateway.catalog.tables  # noqa: F401 - the tables exist through revision 0005

        self.store = store

    # -- writes -------------------------------------------------------------------------------
    def replace_registry(self, registry: str, models: Iterable[Model], versions: Iterable[ModelVersion],
                         at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        with self.store.session() as s:
            for table in (CatalogModelRow, CatalogVersionRow, CatalogLineageRef):
                s.execute(delete(table).where(table.registry_name == registry))
            for model in models:
                s.add(CatalogModelRow(registry_name=registry, name=model.name, data=_dump(model)))
            for version in versions:
                self._add_version(s, version)
            s.merge(CatalogSource(registry_name=registry, refreshed_at=at, attempted_at=at, error=None))

    def record_failure(self, registry: str, message: str, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        with self.store.session() as s:
            row = s.get(CatalogSource, registry)
            if row is None:
                s.add(CatalogSource(registry_name=registry, refreshed_at=None, attempted_at=at, error=message[:2000]))
            else:
                row.attempted_at, row.error = at, message[:2000]

    def put_model(self, model: Model, versions: Iterable[ModelVersion] | None = None) -> None:
        """Store a model; with ``versions``, replace all of its versions too. Aliases are
        copied onto the cached versions, since moving an alias changes two versions at once."""
        with self.store.session() as s:
            s.merge(CatalogModelRow(registry_name=model.registry, name=model.name, data=_dump(model)))
            if versions is not None:
                self._delete_versions(s, model.registry, model.name)
                s.flush()
                for version in versions:
                    self._add_version(s, version)
                return
            rows = s.execute(select(CatalogVersionRow).where(
                CatalogVersionRow.registry_name == model.registry, CatalogVersionRow.model == model.name)).scalars()
            for row in rows:
                aliases = sorted(a for a, v in model.aliases.items() if v == row.version)
                if sorted(row.data.get("aliases", [])) != aliases:
                    row.data = {**row.data, "aliases": aliases}

    def put_version(self, version: ModelVersion) -> None:
        with self.store.session() as s:
            self._delete_version(s, version.registry, version.model, version.version)
            s.flush()
            self._add_version(s, version)

    def delete_model(self, registry: str, name: str) -> None:
        with self.store.session() as s:
            s.execute(delete(CatalogModelRow).where(CatalogModelRow.registry_name == registry, CatalogModelRow.name == name))
            self._delete_versions(s, registry, name)

    def delete_version(self, registry: str, model: str, version: str) -> None:
        with self.store.session() as s:
            self._delete_version(s, registry, model, version)

    # -- reads --------------------------------------------------------------------------------
    def freshness(self) -> dict[str, Freshness]:
        with self.store.session() as s:
            return {r.registry_name: Freshness(r.registry_name, r.refreshed_at, r.attempted_at, r.error)
                    for r in s.execute(select(CatalogSource)).scalars()}

    def models(self, registries: Iterable[str], name_prefix: str | None = None) -> list[Model]:
        stmt = select(CatalogModelRow.data).where(CatalogModelRow.registry_name.in_(list(registries)))
        if name_prefix:
            stmt = stmt.where(CatalogModelRow.name.startswith(name_prefix, autoescape=True))
        with self.store.session() as s:
            return [Model.model_validate(d) for d in s.execute(stmt).scalars()]

    def versions(self, registries: Iterable[str], name_prefix: str | None = None) -> list[ModelVersion]:
        stmt = select(CatalogVersionRow.data).where(CatalogVersionRow.registry_name.in_(list(registries)))
        if name_prefix:
            stmt = stmt.where(CatalogVersionRow.model.startswith(name_prefix, autoescape=True))
        with self.store.session() as s:
            return [ModelVersion.model_validate(d) for d in s.execute(stmt).scalars()]

    def version(self, registry: str, model: str, version: str) -> ModelVersion | None:
        with self.store.session() as s:
            row = s.get(CatalogVersionRow, (registry, model, version))
            return ModelVersion.model_validate(row.data) if row is not None else None

    def referrers(self, uri: str) -> list[Referrer]:
        """Cached versions whose parents or ``migrated_from`` name ``uri``."""
        stmt = select(CatalogLineageRef).where(CatalogLineageRef.target == canonical_uri(uri))
        with self.store.session() as s:
            return [Referrer(r.registry_name, r.model, r.version, r.relation) for r in s.execute(stmt).scalars()]

    # -- helpers ------------------------------------------------------------------------------
    def _add_version(self, s: Any, version: ModelVersion) -> None:
        s.add(CatalogVersionRow(registry_name=version.registry, model=version.model, version=version.version,
                                ordinal=version.ordinal, data=_dump(version)))
        for target, relation in lineage_refs(version):
            s.add(CatalogLineageRef(registry_name=version.registry, model=version.model, version=version.version,
                                    target=target, relation=relation[:64]))

    def _delete_version(self, s: Any, registry: str, model: str, version: str) -> None:
        for table in (CatalogVersionRow, CatalogLineageRef):
            s.execute(delete(table).where(table.registry_name == registry, table.model == model, table.version == version))

    def _delete_versions(self, s: Any, registry: str, model: str) -> None:
        for table in (CatalogVersionRow, CatalogLineageRef):
            s.execute(delete(table).where(table.registry_name == registry, table.model == model))


def _dump(obj: Model | ModelVersion) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude={"native"})
