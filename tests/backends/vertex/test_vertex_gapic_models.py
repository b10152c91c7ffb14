"""ModelService through the low-level GAPIC client (REST transport), as Vertex documents it."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc


def test_upload_returns_lro_with_model_and_version(model_client: Any, parent: str, uid: str, upload: Any) -> None:
    result = upload(uid, labels={"team": "fraud"}, description="first")
    assert result.model == f"{parent}/models/{uid}"
    assert result.model_version_id == "1"
    got = model_client.get_model(name=result.model)
    assert got.version_id == "1"
    assert list(got.version_aliases) == ["default"]
    assert got.labels == {"team": "fraud"}
    assert got.description == "first"
    assert got.metadata_artifact.startswith(f"{parent}/metadataStores/default/artifacts/")
    assert got.create_time and got.version_create_time
    assert got.model_source_info.source_type.name == "CUSTOM"


def test_new_versions_under_parent_model_and_alias_lookup(
    model_client: Any, parent: str, uid: str, upload: Any
) -> None:
    name = upload(uid).model
    second = upload(parent_model=name, version_aliases=["challenger"], version_description="v2")
    third = upload(parent_model=name, version_aliases=["default", "champion"])
    assert (second.model_version_id, third.model_version_id) == ("2", "3")

    assert model_client.get_model(name=f"{name}@2").version_description == "v2"
    by_alias = model_client.get_model(name=f"{name}@challenger")
    assert by_alias.version_id == "2"
    assert by_alias.name == f"{name}@2"
    # "default" moved with the third upload: the bare name now resolves to version 3.
    assert model_client.get_model(name=name).version_id == "3"
    assert list(model_client.get_model(name=f"{name}@1").version_aliases) == []


def test_get_unknown_model_version_and_alias_raise_not_found(
    model_client: Any, parent: str, uid: str, upload: Any
) -> None:
    name = upload(uid).model
    for missing in (f"{parent}/models/nope-{uid}", f"{name}@9", f"{name}@ghost"):
        with pytest.raises(gexc.NotFound):
            model_client.get_model(name=missing)


def test_duplicate_model_id_is_already_exists(uid: str, upload: Any) -> None:
    upload(uid)
    with pytest.raises(gexc.Conflict) as info:
        upload(uid)
    assert info.value.code == 409


def test_invalid_model_id_and_missing_display_name_rejected(upload: Any, uid: str) -> None:
    with pytest.raises(gexc.BadRequest):
        upload("9starts-with-digit")
    with pytest.raises(gexc.BadRequest):
        upload(uid, display_name="")


def test_list_models_filter_order_and_paging(model_client: Any, parent: str, upload: Any, uid: str) -> None:
    tag = uid.replace("-", "_")
    for i, team in enumerate(["fraud", "risk", "fraud"]):
        upload(
            f"{uid}-{i}",
            display_name=f"{uid}-disp-{2 - i}",
            labels={"suite": tag, "team": team},
        )

    def names(**req: Any) -> list[str]:
        return [m.name.rsplit("/", 1)[-1] for m in model_client.list_models(request={"parent": parent, **req})]

    assert names(filter=f'labels.suite="{tag}" AND labels.team="fraud"') == [
        f"{uid}-0",
        f"{uid}-2",
    ]
    assert names(filter=f"labels.suite={tag} AND labels.team!=fraud") == [f"{uid}-1"]
    assert names(filter=f'display_name="{uid}-disp-0"') == [f"{uid}-2"]
    assert names(filter=f'displayName="{uid}-disp-0"') == [f"{uid}-2"]
    assert names(filter=f"model={uid}-1") == [f"{uid}-1"]
    assert names(filter=f"labels.suite={tag}", order_by="display_name") == [
        f"{uid}-2",
        f"{uid}-1",
        f"{uid}-0",
    ]
    assert names(filter=f"labels.suite={tag}", order_by="create_time desc") == [
        f"{uid}-2",
        f"{uid}-1",
        f"{uid}-0",
    ]
    assert names(filter=f"labels:suite AND labels.suite={tag}") == [
        f"{uid}-0",
        f"{uid}-1",
        f"{uid}-2",
    ]

    first = model_client.list_models(request={"parent": parent, "filter": f"labels.suite={tag}", "page_size": 2})
    page = next(iter(first.pages))
    assert len(page.models) == 2 and page.next_page_token
    assert [m.name for m in first] == [f"{parent}/models/{uid}-{i}" for i in range(3)]  # pager follows tokens


def test_list_models_rejects_unknown_filter_field_and_order(model_client: Any, parent: str) -> None:
    with pytest.raises(gexc.BadRequest):
        list(model_client.list_models(request={"parent": parent, "filter": "artifact_uri=x"}))
    with pytest.raises(gexc.BadRequest):
        list(model_client.list_models(request={"parent": parent, "order_by": "artifact_uri"}))


def test_list_versions_with_label_filter(model_client: Any, upload: Any, uid: str) -> None:
    name = upload(uid).model
    upload(parent_model=name, labels={"stage": "canary"})
    upload(parent_model=name)
    versions = list(model_client.list_model_versions(name=name))
    assert [v.version_id for v in versions] == ["1", "2", "3"]
    assert versions[1].name == f"{name}@2"
    canary = list(model_client.list_model_versions(request={"name": name, "filter": 'labels.stage="canary"'}))
    assert [v.version_id for v in canary] == ["2"]
    newest_first = list(model_client.list_model_versions(request={"name": name, "order_by": "create_time desc"}))
    assert [v.version_id for v in newest_first] == ["3", "2", "1"]


def test_merge_version_aliases_add_move_remove(model_client: Any, upload: Any, uid: str) -> None:
    name = upload(uid).model
    upload(parent_model=name)
    v1 = model_client.merge_version_aliases(name=f"{name}@1", version_aliases=["prod", "blue"])
    assert set(v1.version_aliases) == {"default", "prod", "blue"}
    v2 = model_client.merge_version_aliases(name=f"{name}@2", version_aliases=["prod"])
    assert "prod" in v2.version_aliases
    assert "prod" not in model_client.get_model(name=f"{name}@1").version_aliases
    v1 = model_client.merge_version_aliases(name=f"{name}@1", version_aliases=["-blue"])
    assert list(v1.version_aliases) == ["default"]
    # an add and a remove of the same alias cancel out
    v1 = model_client.merge_version_aliases(name=f"{name}@1", version_aliases=["green", "-green"])
    assert list(v1.version_aliases) == ["default"]
    # moving "default" is how the default version changes
    model_client.merge_version_aliases(name=f"{name}@2", version_aliases=["default"])
    assert model_client.get_model(name=name).version_id == "2"


def test_merge_aliases_default_rule_and_validation(model_client: Any, upload: Any, uid: str) -> None:
    name = upload(uid).model
    with pytest.raises(gexc.BadRequest) as info:
        model_client.merge_version_aliases(name=f"{name}@1", version_aliases=["-default"])
    assert "default" in info.value.message
    # REST clients raise by HTTP status (400 -> BadRequest, the base of FailedPrecondition);
    # the google.rpc status in the body says which one it was.
    assert info.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    for bad in (["123"], ["Prod"], ["x"], ["ends-"]):
        with pytest.raises(gexc.BadRequest) as bad_info:
            model_client.merge_version_aliases(name=f"{name}@1", version_aliases=bad)
        assert bad_info.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert list(model_client.get_model(name=name).version_aliases) == ["default"]


def test_update_model_scope_and_version_scope(model_client: Any, upload: Any, uid: str) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import field_mask_pb2

    name = upload(uid, labels={"team": "fraud"}).model
    upload(parent_model=name)
    updated = model_client.update_model(
        model=aiplatform_v1.Model(name=name, display_name="renamed", description="d2", labels={"team": "risk"}),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name", "description", "labels"]),
    )
    assert (updated.display_name, updated.description, updated.labels["team"]) == (
        "renamed",
        "d2",
        "risk",
    )
    v2 = model_client.update_model(
        model=aiplatform_v1.Model(name=f"{name}@2", version_description="vd", labels={"stage": "canary"}),
        update_mask=field_mask_pb2.FieldMask(paths=["version_description", "labels"]),
    )
    assert v2.version_description == "vd"
    assert v2.labels == {
        "team": "risk",
        "stage": "canary",
    }  # model and version labels merged
    assert model_client.get_model(name=f"{name}@1").labels == {"team": "risk"}
    # a model field on a version name, or a version field on the model, is a precondition error
    with pytest.raises(gexc.BadRequest):
        model_client.update_model(
            model=aiplatform_v1.Model(name=f"{name}@2", display_name="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        )
    with pytest.raises(gexc.BadRequest):
        model_client.update_model(
            model=aiplatform_v1.Model(name=name, version_description="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["version_description"]),
        )


def test_update_with_stale_etag_is_aborted(model_client: Any, upload: Any, uid: str) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import field_mask_pb2

    name = upload(uid).model
    stale = model_client.get_model(name=name)
    model_client.update_model(
        model=aiplatform_v1.Model(name=name, description="changed"),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]),
    )
    stale.description = "lost update"
    with pytest.raises(gexc.Conflict):
        model_client.update_model(model=stale, update_mask=field_mask_pb2.FieldMask(paths=["description"]))


@pytest.mark.parametrize(
    "labels",
    [
        {"Team": "x"},  # upper-case key
        {"team": "Fraud Detection"},  # space and capitals in the value
        {"k" * 64: "v"},  # key longer than 63
        {"team": "v" * 64},  # value longer than 63
        {f"k{i}": "v" for i in range(65)},  # more than 64 labels
        {"1team": "x"},  # key must start with a letter
    ],
)
def test_invalid_labels_rejected(upload: Any, uid: str, labels: dict[str, str]) -> None:
    with pytest.raises(gexc.BadRequest):
        upload(uid, labels=labels)


def test_labels_accept_international_lowercase_and_limits(model_client: Any, upload: Any, uid: str) -> None:
    labels = {"équipe": "détection", "k" * 63: "v" * 63, "empty": ""}
    labels.update({f"l{i}": "x" for i in range(64 - len(labels))})
    name = upload(uid, labels=labels).model
    assert model_client.get_model(name=name).labels == labels


def test_delete_version_refuses_default_holder_and_only_version(model_client: Any, upload: Any, uid: str) -> None:
    name = upload(uid).model
    with pytest.raises(gexc.BadRequest):
        model_client.delete_model_version(name=f"{name}@1").result(timeout=30)
    upload(parent_model=name)
    with pytest.raises(gexc.BadRequest) as info:
        model_client.delete_model_version(name=f"{name}@1").result(timeout=30)
    assert "default" in info.value.message
    # REST clients raise by HTTP status (400 -> BadRequest, the base of FailedPrecondition);
    # the google.rpc status in the body says which one it was.
    assert info.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    model_client.delete_model_version(name=f"{name}@2").result(timeout=30)
    with pytest.raises(gexc.NotFound):
        model_client.get_model(name=f"{name}@2")
    assert [v.version_id for v in model_client.list_model_versions(name=name)] == ["1"]


def test_delete_model_is_an_lro_and_removes_every_version(model_client: Any, upload: Any, uid: str) -> None:
    name = upload(uid).model
    upload(parent_model=name)
    op = model_client.delete_model(name=name)
    op.result(timeout=30)
    assert op.done()
    with pytest.raises(gexc.NotFound):
        model_client.get_model(name=name)
    with pytest.raises(gexc.NotFound):
        model_client.delete_model(name=name)


def test_unknown_body_field_is_invalid_argument(vertex_emulator: Any, parent: str) -> None:
    import requests

    resp = requests.post(
        f"{vertex_emulator.endpoint}/v1/{parent}/models:upload",
        json={"model": {"displayName": "x", "notAField": 1}},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_path_is_404_status_not_5xx(vertex_emulator: Any) -> None:
    import requests

    resp = requests.get(f"{vertex_emulator.endpoint}/v1/projects/p/locations/l/nothingHere", timeout=10)
    assert resp.status_code == 404
    assert resp.json()["error"] == {
        "code": 404,
        "message": resp.json()["error"]["message"],
        "status": "NOT_FOUND",
    }


def test_v1beta1_client_reaches_the_same_registry(vertex_emulator: Any, parent: str, uid: str, upload: Any) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1beta1

    client = aiplatform_v1beta1.ModelServiceClient(
        transport="rest",
        client_options={"api_endpoint": vertex_emulator.endpoint},
        credentials=AnonymousCredentials(),
    )
    name = upload(uid).model
    req = aiplatform_v1beta1.UploadModelRequest(
        parent=parent, parent_model=name, model=aiplatform_v1beta1.Model(display_name=uid, version_aliases=["beta"])
    )
    assert client.upload_model(request=req).result(timeout=30).model_version_id == "2"
    assert client.get_model(name=f"{name}@beta").version_id == "2"


def test_async_rest_client_reads_and_lists(vertex_emulator: Any, uid: str, upload: Any) -> None:
    import asyncio

    pytest.importorskip("aiohttp", reason="the rest_asyncio transport needs aiohttp")
    from google.auth.aio.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1

    name = upload(uid, version_aliases=["prod"]).model

    async def run() -> tuple[str, list[str]]:
        client = aiplatform_v1.ModelServiceAsyncClient(
            transport="rest_asyncio",
            client_options={"api_endpoint": vertex_emulator.endpoint},
            credentials=AnonymousCredentials(),
        )
        try:
            got = await client.get_model(name=f"{name}@prod")
            versions = [v.version_id async for v in await client.list_model_versions(name=name)]
            return got.version_id, versions
        finally:
            await client.transport.close()

    assert asyncio.run(run()) == ("1", ["1"])
