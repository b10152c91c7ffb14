"""Models: create, read, update, list, delete — the same behaviour on every backend."""

from __future__ import annotations

import pytest

from adapters.base import AlreadyExists, Capabilities, InvalidInput, NotFound, RegistryAdapter
from mapping.schema import ModelQuery, VersionSpec
from tests.conformance.conftest import require


def test_created_model_reads_back(adapter: RegistryAdapter, model_name: str) -> None:
    created = adapter.create_model(model_name, description="fraud models", tags={"team": "risk"})
    try:
        got = adapter.get_model(model_name)
        assert (created.name, got.name) == (model_name, model_name)
        assert got.description == "fraud models"
        assert got.tags == {"team": "risk"}
        assert got.registry == adapter.name
        assert got.uri == f"mrg://{adapter.name}/{model_name}"
    finally:
        adapter.delete_model(model_name)


def test_duplicate_model_is_already_exists(adapter: RegistryAdapter, model: str) -> None:
    with pytest.raises(AlreadyExists):
        adapter.create_model(model)


def test_missing_model_is_not_found(adapter: RegistryAdapter, backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as info:
        adapter.get_model(backend.model_name())
    assert info.value.registry == adapter.name


def test_update_model_sets_and_removes_tags(adapter: RegistryAdapter, model: str, caps: Capabilities) -> None:
    require(caps.model_tags, "model_tags")
    adapter.update_model(model, description="new words", tags={"tier": "gold", "cost": "low"})
    updated = adapter.update_model(model, remove_tags=["cost"])
    assert updated.description == "new words"
    assert updated.tags == {"suite": "conformance", "tier": "gold"}
    assert adapter.get_model(model).tags == updated.tags


def test_list_models_finds_by_prefix_and_tag(adapter: RegistryAdapter, model: str) -> None:
    by_prefix = [m.name for m in adapter.iter_models(ModelQuery(name_prefix=model))]
    assert model in by_prefix
    # A filter the backend cannot push down may return more; it must never drop a match.
    by_tag = [m.name for m in adapter.iter_models(ModelQuery(tags={"suite": "conformance"}))]
    assert model in by_tag


def test_list_models_pages_without_loss(adapter: RegistryAdapter, backend) -> None:  # type: ignore[no-untyped-def]
    names = [backend.model_name() for _ in range(3)]
    for name in names:
        adapter.create_model(name)
    try:
        seen: list[str] = []
        token = None
        for _ in range(1000):
            page = adapter.list_models(None, page_size=2, page_token=token)
            assert len(page.items) <= 2
            seen += [m.name for m in page.items]
            token = page.next_token
            if not token:
                break
        assert set(names) <= set(seen)
        assert len(seen) == len(set(seen)), "paging repeated a model"
    finally:
        for name in names:
            adapter.delete_model(name)


def test_reserved_tag_prefix_is_refused(adapter: RegistryAdapter, model_name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        adapter.create_model(model_name, tags={"mrg.approval": "forged"})
    assert "mrg." in info.value.message


def test_delete_model_removes_it_and_its_versions(
    adapter: RegistryAdapter, model_name: str, caps: Capabilities
) -> None:
    require(caps.delete_model, "delete_model")
    adapter.create_model(model_name)
    adapter.create_version(model_name, VersionSpec(description="one"))
    adapter.delete_model(model_name)
    with pytest.raises(NotFound):
        adapter.get_model(model_name)
