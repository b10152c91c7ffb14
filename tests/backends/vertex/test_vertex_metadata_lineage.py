"""ML Metadata lineage calls through MetadataServiceClient (REST), as a registry records lineage."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc


@pytest.fixture
def store(parent: str) -> str:
    return f"{parent}/metadataStores/default"


def _artifact(client: Any, store: str, aid: str, **fields: Any) -> Any:
    from google.cloud import aiplatform_v1

    fields.setdefault("schema_title", "system.Dataset")
    return client.create_artifact(parent=store, artifact=aiplatform_v1.Artifact(**fields), artifact_id=aid)


def test_default_store_exists(metadata_client: Any, store: str) -> None:
    assert metadata_client.get_metadata_store(name=store).name == store
    with pytest.raises(gexc.NotFound):
        metadata_client.get_metadata_store(name=store.replace("/default", "/other"))


def test_artifact_create_get_list_filter(metadata_client: Any, store: str, uid: str) -> None:
    a = _artifact(
        metadata_client,
        store,
        f"{uid}-data",
        display_name="train",
        uri="gs://b/train.csv",
        state=2,
        metadata={"rows": 1000, "split": "train"},
    )
    assert a.name == f"{store}/artifacts/{uid}-data"
    got = metadata_client.get_artifact(name=a.name)
    assert got.uri == "gs://b/train.csv" and got.state.name == "LIVE"
    assert got.metadata["rows"] == 1000.0  # Struct numbers travel as doubles
    _artifact(
        metadata_client,
        store,
        f"{uid}-model",
        schema_title="system.Model",
        uri=f"gs://b/{uid}",
    )

    def ids(flt: str) -> list[str]:
        return [
            x.name.rsplit("/", 1)[-1] for x in metadata_client.list_artifacts(request={"parent": store, "filter": flt})
        ]

    assert ids(f'schema_title="system.Model" AND uri="gs://b/{uid}"') == [f"{uid}-model"]
    assert ids('display_name="train" AND metadata.split.string_value="train" AND uri="gs://b/train.csv"') == [
        f"{uid}-data"
    ]
    assert f"{uid}-data" in ids("metadata.rows.number_value = 1000 AND state = LIVE")
    with pytest.raises(gexc.Conflict):
        _artifact(metadata_client, store, f"{uid}-data")
    with pytest.raises(gexc.BadRequest):
        _artifact(metadata_client, store, "UPPER")
    with pytest.raises(gexc.NotFound):
        metadata_client.get_artifact(name=f"{store}/artifacts/{uid}-none")


def test_events_contexts_and_lineage_subgraph(metadata_client: Any, store: str, uid: str) -> None:
    from google.cloud import aiplatform_v1

    data = _artifact(metadata_client, store, f"{uid}-ds")
    model = _artifact(metadata_client, store, f"{uid}-mdl", schema_title="system.Model")
    run = metadata_client.create_execution(
        parent=store,
        execution=aiplatform_v1.Execution(display_name="train", schema_title="system.Run", state=3),
        execution_id=f"{uid}-run",
    )
    Event = aiplatform_v1.Event
    metadata_client.add_execution_events(
        execution=run.name,
        events=[
            Event(artifact=data.name, type_=Event.Type.INPUT),
            Event(artifact=model.name, type_=Event.Type.OUTPUT),
        ],
    )
    # repeating an existing event is skipped, not duplicated
    metadata_client.add_execution_events(execution=run.name, events=[Event(artifact=data.name, type_=Event.Type.INPUT)])

    graph = metadata_client.query_artifact_lineage_subgraph(artifact=model.name)
    assert {a.name for a in graph.artifacts} == {data.name, model.name}
    assert [e.name for e in graph.executions] == [run.name]
    assert sorted((e.artifact, e.type_.name) for e in graph.events) == sorted(
        [(data.name, "INPUT"), (model.name, "OUTPUT")]
    )
    one_hop = metadata_client.query_artifact_lineage_subgraph(request={"artifact": model.name, "max_hops": 1})
    assert [a.name for a in one_hop.artifacts] == [model.name] and len(one_hop.executions) == 1
    # max_hops=0 is proto3's default and never reaches the wire, so it means "unset": the whole graph.
    zero = metadata_client.query_artifact_lineage_subgraph(request={"artifact": model.name, "max_hops": 0})
    assert {a.name for a in zero.artifacts} == {data.name, model.name}
    with pytest.raises(gexc.BadRequest):
        metadata_client.query_artifact_lineage_subgraph(request={"artifact": model.name, "max_hops": -1})
    io = metadata_client.query_execution_inputs_and_outputs(execution=run.name)
    assert {a.name for a in io.artifacts} == {data.name, model.name}

    ctx = metadata_client.create_context(
        parent=store,
        context=aiplatform_v1.Context(display_name="exp", schema_title="system.Experiment"),
        context_id=f"{uid}-exp",
    )
    metadata_client.add_context_artifacts_and_executions(
        context=ctx.name, artifacts=[model.name], executions=[run.name]
    )
    in_ctx = metadata_client.list_artifacts(request={"parent": store, "filter": f'in_context("{ctx.name}")'})
    assert [a.name for a in in_ctx] == [model.name]
    ctx_graph = metadata_client.query_context_lineage_subgraph(context=ctx.name)
    assert [e.name for e in ctx_graph.executions] == [run.name]
    listed = metadata_client.list_contexts(request={"parent": store, "filter": 'schema_title="system.Experiment"'})
    assert ctx.name in [c.name for c in listed]
    with pytest.raises(gexc.NotFound):
        metadata_client.add_execution_events(
            execution=run.name,
            events=[Event(artifact=f"{store}/artifacts/{uid}-ghost", type_=Event.Type.INPUT)],
        )


def test_update_artifact_metadata_with_mask(metadata_client: Any, store: str, uid: str) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import field_mask_pb2

    a = _artifact(metadata_client, store, f"{uid}-upd", metadata={"a": "1"}, display_name="before")
    updated = metadata_client.update_artifact(
        artifact=aiplatform_v1.Artifact(name=a.name, display_name="after", metadata={"b": "2"}),
        update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
    )
    assert updated.display_name == "before"
    assert dict(updated.metadata) == {"b": "2"}


def test_upload_links_model_to_its_metadata_artifact(
    model_client: Any, metadata_client: Any, upload: Any, uid: str
) -> None:
    name = upload(uid).model
    model = model_client.get_model(name=f"{name}@1")
    artifact = metadata_client.get_artifact(name=model.metadata_artifact)
    assert artifact.schema_title == "google.VertexModel"
    assert artifact.metadata["resourceName"] == f"{name}@1"


def test_highlevel_artifact_create(highlevel: Any, uid: str) -> None:
    art = highlevel.Artifact.create(
        schema_title="system.Dataset",
        uri="gs://b/d.csv",
        resource_id=f"{uid}-hl",
        display_name="dataset",
        metadata={"rows": 5},
    )
    assert art.uri == "gs://b/d.csv"
    assert highlevel.Artifact(f"{uid}-hl").metadata["rows"] == 5
