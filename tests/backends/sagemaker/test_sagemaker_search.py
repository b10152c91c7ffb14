"""Search over model packages and groups: tag and metadata filters, sort, pages."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")


def make_group(sm: Any, name: str, tags: dict[str, str], versions: int = 0, **package: Any) -> list[str]:
    sm.create_model_package_group(ModelPackageGroupName=name,
                                  Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return [sm.create_model_package(ModelPackageGroupName=name, **package)["ModelPackageArn"] for _ in range(versions)]


def test_search_groups_by_tag(sm: Any, unique: Any) -> None:
    marker = unique("proj")
    fraud, churn = unique("fraud"), unique("churn")
    make_group(sm, fraud, {"project": marker, "domain": "fraud"})
    make_group(sm, churn, {"project": marker, "domain": "churn"})
    result = sm.search(Resource="ModelPackageGroup", SearchExpression={"Filters": [
        {"Name": "Tags.project", "Operator": "Equals", "Value": marker},
        {"Name": "Tags.domain", "Value": "fraud"},  # Operator defaults to Equals
    ]})
    records = [r["ModelPackageGroup"] for r in result["Results"]]
    assert [r["ModelPackageGroupName"] for r in records] == [fraud]
    assert {"Key": "domain", "Value": "fraud"} in records[0]["Tags"]


def test_search_packages_inherit_group_tags_and_filter_metadata(sm: Any, unique: Any) -> None:
    marker = unique("m")
    group = unique("g")
    arns = make_group(sm, group, {"marker": marker}, versions=2,
                      CustomerMetadataProperties={"mrg.stage": "prod"})
    sm.update_model_package(ModelPackageArn=arns[0], ModelApprovalStatus="Approved")
    found = sm.search(Resource="ModelPackage", SearchExpression={"Filters": [
        {"Name": "Tags.marker", "Value": marker},
        {"Name": "ModelApprovalStatus", "Operator": "Equals", "Value": "Approved"},
        {"Name": "CustomerMetadataProperties.mrg.stage", "Value": "prod"},
    ]})["Results"]
    assert [r["ModelPackage"]["ModelPackageArn"] for r in found] == [arns[0]]
    assert {"Key": "marker", "Value": marker} in found[0]["ModelPackage"]["Tags"]


def test_search_sort_pages_and_or_expressions(sm: Any, unique: Any) -> None:
    marker = unique("p")
    groups = [unique(f"s{i}") for i in range(5)]
    for name in groups:
        make_group(sm, name, {"marker": marker})
    expression = {"Filters": [{"Name": "Tags.marker", "Value": marker}]}
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"NextToken": token} if token else {}
        page = sm.search(Resource="ModelPackageGroup", SearchExpression=expression, SortBy="CreationTime",
                         SortOrder="Ascending", MaxResults=2, **kwargs)
        assert len(page["Results"]) <= 2
        seen += [r["ModelPackageGroup"]["ModelPackageGroupName"] for r in page["Results"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == groups
    either = sm.search(Resource="ModelPackageGroup", SearchExpression={"Operator": "Or", "Filters": [
        {"Name": "ModelPackageGroupName", "Value": groups[0]},
        {"Name": "ModelPackageGroupName", "Value": groups[3]},
    ]}, SortBy="ModelPackageGroupName", SortOrder="Ascending")["Results"]
    assert [r["ModelPackageGroup"]["ModelPackageGroupName"] for r in either] == sorted([groups[0], groups[3]])


def test_search_numeric_and_existence_operators(sm: Any, unique: Any) -> None:
    group = unique("num")
    arns = make_group(sm, group, {}, versions=3)
    sm.update_model_package(ModelPackageArn=arns[2], ModelLifeCycle={"Stage": "Staging", "StageStatus": "Active"})
    base = [{"Name": "ModelPackageGroupName", "Value": group}]
    newer = sm.search(Resource="ModelPackage", SearchExpression={"Filters": base + [
        {"Name": "ModelPackageVersion", "Operator": "GreaterThanOrEqualTo", "Value": "2"}]})["Results"]
    assert sorted(r["ModelPackage"]["ModelPackageVersion"] for r in newer) == [2, 3]
    staged = sm.search(Resource="ModelPackage", SearchExpression={"Filters": base + [
        {"Name": "ModelLifeCycle.Stage", "Operator": "Exists"}]})["Results"]
    assert [r["ModelPackage"]["ModelPackageVersion"] for r in staged] == [3]
    picked = sm.search(Resource="ModelPackage", SearchExpression={"Filters": base + [
        {"Name": "ModelPackageVersion", "Operator": "In", "Value": "1,3"}]})["Results"]
    assert sorted(r["ModelPackage"]["ModelPackageVersion"] for r in picked) == [1, 3]


def test_search_rejects_unknown_properties(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.search(Resource="ModelPackage", SearchExpression={"Filters": [{"Name": "NoSuchThing", "Value": "x"}]})
    assert error_code(exc) == "ValidationException"
