"""The high-level ``google.cloud.aiplatform`` SDK against the emulator: the calls users write."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc

IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"


def _upload(aiplatform: Any, model_id: str | None = None, **kw: Any) -> Any:
    kw.setdefault("display_name", model_id or "hl-model")
    kw.setdefault("artifact_uri", "gs://bucket/models/hl/")
    kw.setdefault("serving_container_image_uri", IMAGE)
    return aiplatform.Model.upload(model_id=model_id, sync=True, **kw)


def test_upload_versions_aliases_and_lookup_by_alias(highlevel: Any, uid: str) -> None:
    aiplatform = highlevel
    first = _upload(aiplatform, uid, labels={"team": "fraud"})
    assert first.version_id == "1"
    assert first.version_aliases == ["default"]
    second = _upload(
        aiplatform,
        parent_model=first.resource_name,
        version_aliases=["challenger"],
        is_default_version=False,
    )
    assert second.version_id == "2"
    assert second.version_aliases == ["challenger"]

    by_alias = aiplatform.Model(f"{uid}@challenger")
    assert by_alias.version_id == "2"
    assert aiplatform.Model(uid, version="1").version_id == "1"
    assert aiplatform.Model(uid).version_id == "1"  # default did not move
    assert aiplatform.Model(first.resource_name).labels == {"team": "fraud"}


def test_model_registry_list_add_remove_delete(highlevel: Any, uid: str) -> None:
    aiplatform = highlevel
    base = _upload(aiplatform, uid)
    _upload(aiplatform, parent_model=base.resource_name, is_default_version=False)
    registry = aiplatform.models.ModelRegistry(base)

    versions = registry.list_versions()
    assert [v.version_id for v in versions] == ["1", "2"]
    assert versions[0].version_aliases == ["default"]

    registry.add_version_aliases(["prod"], version="2")
    assert aiplatform.Model(f"{uid}@prod").version_id == "2"
    info = registry.get_version_info("2")
    assert "prod" in info.version_aliases
    registry.remove_version_aliases(["prod"], version="2")
    with pytest.raises(gexc.NotFound):
        aiplatform.Model(f"{uid}@prod")

    with pytest.raises(gexc.BadRequest):  # the default holder cannot be deleted
        registry.delete_version("1")
    registry.delete_version("2")
    assert [v.version_id for v in registry.list_versions()] == ["1"]


def test_model_list_filter_and_update(highlevel: Any, uid: str) -> None:
    aiplatform = highlevel
    tag = uid.replace("-", "_")
    model = _upload(aiplatform, uid, labels={"suite": tag})
    found = aiplatform.Model.list(filter=f'labels.suite="{tag}"')
    assert [m.name for m in found] == [uid]

    model.update(description="updated", labels={"suite": tag, "owner": "ml"})
    again = aiplatform.Model(uid)
    assert again.description == "updated"
    assert again.labels == {"suite": tag, "owner": "ml"}
    registry = aiplatform.models.ModelRegistry(model)
    registry.update_version("1", version_description="first version")
    assert aiplatform.Model(uid, version="1").version_description == "first version"


def test_delete_and_not_found(highlevel: Any, uid: str) -> None:
    aiplatform = highlevel
    model = _upload(aiplatform, uid)
    model.delete()
    with pytest.raises(gexc.NotFound):
        aiplatform.Model(uid)


def test_invalid_labels_from_sdk_raise_invalid_argument_family(highlevel: Any, uid: str) -> None:
    with pytest.raises(gexc.BadRequest):
        _upload(highlevel, uid, labels={"Team": "Fraud Detection/EU"})
