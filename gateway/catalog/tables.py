"""Tables of the catalog cache (Alembic revision 0005): a copy of every registry's catalog.

Rows hold the common-schema object as JSON (``native`` dropped) plus the few columns queries
need: the registry and name for scoping, and for lineage the URIs a version points at, so
"which versions were copied from / derived from this one" is an indexed lookup instead of a
scan of every registry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class CatalogModelRow(Base):
    __tablename__ = "catalog_models"

    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)  # type: ignore[type-arg]


class CatalogVersionRow(Base):
    __tablename__ = "catalog_versions"

    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(512), primary_key=True)
    version: Mapped[str] = mapped_column(String(128), primary_key=True)
    ordinal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)  # type: ignore[type-arg]


class CatalogLineageRef(Base):
    """One version pointing at another object: a parent (``relation``) or ``migrated_from``."""

    __tablename__ = "catalog_lineage_refs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64), nullable=False)
    model: Mapped[str] = mapped_column(String(512), nullable=False)
    version: Mapped[str] = mapped_column(String(128), nullable=False)
    target: Mapped[str] = mapped_column(Text, nullable=False)
    relation: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        Index("ix_catalog_lineage_refs_target", "target"),
        Index("ix_catalog_lineage_refs_source", "registry", "model", "version"),
    )


class CatalogSource(Base):
    """How fresh one registry's copy is: the last full refresh that worked, and the last try."""

    __tablename__ = "catalog_sources"

    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
