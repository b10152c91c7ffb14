"""The pure parts of the catalog: the gateway-side filter, pushdown and keyset cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.catalog.paging import decode_cursor, encode_cursor, model_key, paginate
from gateway.catalog.query import CatalogQuery, model_matches, pushdown, version_matches
from mapping.errors import InvalidInput
from mapping.schema import Approval, ApprovalStatus, Artifact, Model, ModelVersion, Stage

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _version(**kw: object) -> ModelVersion:
    base: dict[str, object] = {"registry": "r", "model": "fraud", "version": "1", "ordinal": 1}
    return ModelVersion.model_validate(base | kw)


def test_version_filters_each_exclude_what_does_not_match() -> None:
    v = _version(stage=Stage.PRODUCTION, approval=Approval(status=ApprovalStatus.APPROVED),
                 artifact=Artifact(framework="XGBoost"), aliases=["champion"], tags={"team": "risk"},
                 updated_at=NOW, description="Card fraud")
    assert version_matches(v, CatalogQuery(stage=Stage.PRODUCTION, approval=ApprovalStatus.APPROVED,
                                           framework="xgboost", alias="champion", tags={"team": "risk"},
                                           text="CARD fraud", updated_since=NOW - timedelta(seconds=1)))
    for miss in [CatalogQuery(stage=Stage.STAGING), CatalogQuery(approval=ApprovalStatus.PENDING),
                 CatalogQuery(framework="torch"), CatalogQuery(alias="canary"), CatalogQuery(tags={"team": "x"}),
                 CatalogQuery(text="churn"), CatalogQuery(updated_since=NOW + timedelta(seconds=1)),
                 CatalogQuery(registries=("other",)), CatalogQuery(name_prefix="frx")]:
        assert not version_matches(v, miss), miss


def test_unknown_and_naive_times() -> None:
    """No time: never 'updated since'. Naive times are UTC, compared with aware ones."""
    assert not model_matches(Model(registry="r", name="m"), CatalogQuery(updated_since=NOW))
    naive = Model(registry="r", name="m", updated_at=datetime(2026, 11, 2))
    assert model_matches(naive, CatalogQuery(updated_since=NOW))


def test_pushdown_sends_only_declared_filters() -> None:
    q = CatalogQuery(text="t", name_prefix="p", tags={"k": "v"}, alias="a")
    assert pushdown(q, []).model_dump() == {"text": None, "name_prefix": None, "tags": {}}
    assert pushdown(q, ["tags", "name_prefix"]).model_dump() == {"text": None, "name_prefix": "p", "tags": {"k": "v"}}
    # In a version search, tags and text describe versions: only the model prefix narrows models.
    assert pushdown(q, ["text", "tags", "name_prefix"], versions=True).model_dump() == {
        "text": None, "name_prefix": "p", "tags": {}}


def test_keyset_pages_cover_everything_once() -> None:
    models = [Model(registry=r, name=n) for n in "cab" for r in ("y", "x")]
    seen, cursor = [], None
    while True:
        window = paginate(models, model_key, 4, cursor, "fp")
        seen += [(m.name, m.registry) for m in window.items]
        if window.next_cursor is None:
            break
        cursor = window.next_cursor
    assert seen == sorted((m.name, m.registry) for m in models)


@pytest.mark.parametrize("cursor", ["", "e30", encode_cursor(("a",), "other"), "eyJrIjogW3RydWVdLCAiZiI6ICJmcCJ9"])
def test_foreign_or_forged_cursors_are_refused(cursor: str) -> None:
    if not cursor:
        assert decode_cursor(cursor, "fp") is None
        return
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, "fp")


def test_a_forged_cursor_mixing_types_cannot_crash_the_sort() -> None:
    models = [Model(registry="r", name="a")]
    window = paginate(models, model_key, 10, encode_cursor((1, 2), "fp"), "fp")
    assert [m.name for m in window.items] == ["a"]


def test_catalog_settings_come_from_the_config_section_or_defaults() -> None:
    from types import SimpleNamespace

    from gateway.catalog.config import CatalogConfig, catalog_config

    assert catalog_config(SimpleNamespace()) == CatalogConfig()
    configured = catalog_config(SimpleNamespace(catalog={"deadline_seconds": 3, "cache": {"enabled": True}}))
    assert configured.deadline_seconds == 3 and configured.cache.enabled and configured.cache.refresh_seconds == 300
    with pytest.raises(ValueError):
        catalog_config(SimpleNamespace(catalog={"cache": {"enabld": True}}))
