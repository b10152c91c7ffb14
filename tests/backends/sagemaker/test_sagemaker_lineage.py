"""ML Lineage entities, associations between them, and query_lineage traversal."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")


def build_chain(sm: Any, unique: Any) -> dict[str, str]:
    """dataset -> training action -> model artifact -> endpoint context."""
    dataset = sm.create_artifact(ArtifactName=unique("data"), ArtifactType="DataSet",
                                 Source={"SourceUri": f"s3://data/{unique('d')}.csv"},
                                 Properties={"digest": "sha256:abc"})["ArtifactArn"]
    train = sm.create_action(ActionName=unique("train"), ActionType="TrainingJob",
                             Source={"SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t"},
                             Status="Completed")["ActionArn"]
    model = sm.create_artifact(ArtifactType="Model", Source={"SourceUri": f"s3://models/{unique('m')}"})["ArtifactArn"]
    endpoint = sm.create_context(ContextName=unique("endpoint"), ContextType="Endpoint",
                                 Source={"SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"})["ContextArn"]
    sm.add_association(SourceArn=dataset, DestinationArn=train, AssociationType="ContributedTo")
    sm.add_association(SourceArn=train, DestinationArn=model, AssociationType="Produced")
    sm.add_association(SourceArn=model, DestinationArn=endpoint, AssociationType="AssociatedWith")
    return {"dataset": dataset, "train": train, "model": model, "endpoint": endpoint}


def test_entities_describe_back(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    artifact = sm.describe_artifact(ArtifactArn=chain["dataset"])
    assert artifact["ArtifactType"] == "DataSet" and artifact["Properties"] == {"digest": "sha256:abc"}
    context = sm.describe_context(ContextName=chain["endpoint"].rsplit("/", 1)[1])
    assert context["ContextArn"] == chain["endpoint"] and context["ContextType"] == "Endpoint"
    assert sm.describe_action(ActionName=chain["train"])["Status"] == "Completed"


def test_list_associations_filters(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    out = sm.list_associations(SourceArn=chain["train"])["AssociationSummaries"]
    assert [(a["DestinationArn"], a["AssociationType"], a["DestinationType"]) for a in out] == [
        (chain["model"], "Produced", "Model")]
    into_model = sm.list_associations(DestinationArn=chain["model"], AssociationType="Produced")
    assert [a["SourceArn"] for a in into_model["AssociationSummaries"]] == [chain["train"]]


def test_query_lineage_directions_and_filters(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    down = sm.query_lineage(StartArns=[chain["dataset"]], Direction="Descendants", IncludeEdges=True, MaxResults=50)
    assert [v["Arn"] for v in down["Vertices"]] == [chain["train"], chain["model"], chain["endpoint"]]
    assert {"SourceArn": chain["train"], "DestinationArn": chain["model"], "AssociationType": "Produced"} in down["Edges"]
    up = sm.query_lineage(StartArns=[chain["endpoint"]], Direction="Ascendants",
                          Filters={"Types": ["DataSet"]}, IncludeEdges=False)
    assert up["Vertices"] == [{"Arn": chain["dataset"], "Type": "DataSet", "LineageType": "Artifact"}]
    assert up["Edges"] == []
    shallow = sm.query_lineage(StartArns=[chain["model"]], Direction="Both", MaxDepth=1)
    assert {v["Arn"] for v in shallow["Vertices"]} == {chain["train"], chain["endpoint"]}


def test_deleting_an_entity_removes_its_associations(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    sm.delete_artifact(ArtifactArn=chain["model"])
    with pytest.raises(ClientError) as exc:
        sm.describe_artifact(ArtifactArn=chain["model"])
    assert error_code(exc) == "ResourceNotFound"
    assert sm.list_associations(SourceArn=chain["train"])["AssociationSummaries"] == []


def test_association_to_a_missing_entity_is_resource_not_found(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    ghost = "arn:aws:sagemaker:us-east-1:123456789012:artifact/" + "0" * 32
    with pytest.raises(ClientError) as exc:
        sm.add_association(SourceArn=chain["dataset"], DestinationArn=ghost)
    assert error_code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        sm.query_lineage(StartArns=[ghost])
    assert error_code(exc) == "ResourceNotFound"


def test_lineage_entities_are_taggable(sm: Any, unique: Any) -> None:
    chain = build_chain(sm, unique)
    sm.add_tags(ResourceArn=chain["endpoint"], Tags=[{"Key": "env", "Value": "prod"}])
    assert sm.list_tags(ResourceArn=chain["endpoint"])["Tags"] == [{"Key": "env", "Value": "prod"}]
