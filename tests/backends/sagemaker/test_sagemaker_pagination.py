"""boto3's own paginators (and JMESPath over their pages) work against the emulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code

# One worker runs this directory, so one emulator process serves every test.
pytestmark = pytest.mark.xdist_group("sagemaker-backend")


def test_list_model_packages_paginator_walks_every_version_once(sm: Any, unique: Any) -> None:
    group = unique("pages")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arns = [sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"] for _ in range(7)]
    sm.update_model_package(ModelPackageArn=arns[4], ModelApprovalStatus="Approved")
    paginator = sm.get_paginator("list_model_packages")
    pages = list(paginator.paginate(ModelPackageGroupName=group, PaginationConfig={"PageSize": 3}))
    assert [len(p["ModelPackageSummaryList"]) for p in pages] == [3, 3, 1]
    listed = [s["ModelPackageArn"] for p in pages for s in p["ModelPackageSummaryList"]]
    assert listed == arns
    iterator = paginator.paginate(ModelPackageGroupName=group, SortOrder="Descending", PaginationConfig={"PageSize": 2})
    approved = list(iterator.search("ModelPackageSummaryList[?ModelApprovalStatus=='Approved'].ModelPackageArn"))
    assert approved == [arns[4]]
    capped = paginator.paginate(ModelPackageGroupName=group, PaginationConfig={"MaxItems": 4, "PageSize": 3})
    assert len(capped.build_full_result()["ModelPackageSummaryList"]) == 4


def test_group_and_search_paginators(sm: Any, unique: Any) -> None:
    stem = unique("pg")
    names = [f"{stem}-{i}" for i in range(5)]
    for name in names:
        sm.create_model_package_group(ModelPackageGroupName=name)
    groups = sm.get_paginator("list_model_package_groups").paginate(
        NameContains=stem, SortBy="Name", PaginationConfig={"PageSize": 2}).build_full_result()
    assert [g["ModelPackageGroupName"] for g in groups["ModelPackageGroupSummaryList"]] == names
    found = sm.get_paginator("search").paginate(
        Resource="ModelPackageGroup",
        SearchExpression={"Filters": [{"Name": "ModelPackageGroupName", "Operator": "Contains", "Value": stem}]},
        PaginationConfig={"PageSize": 2}).build_full_result()
    assert sorted(r["ModelPackageGroup"]["ModelPackageGroupName"] for r in found["Results"]) == names


def test_pages_stay_consistent_while_versions_are_added(sm: Any, unique: Any) -> None:
    group = unique("live")
    sm.create_model_package_group(ModelPackageGroupName=group)
    arns = [sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"] for _ in range(4)]
    first = sm.list_model_packages(ModelPackageGroupName=group, MaxResults=2)
    arns.append(sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"])
    rest = sm.list_model_packages(ModelPackageGroupName=group, MaxResults=10, NextToken=first["NextToken"])
    listed = [s["ModelPackageArn"] for s in first["ModelPackageSummaryList"] + rest["ModelPackageSummaryList"]]
    assert listed == arns


def test_garbage_token_is_a_validation_error(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.list_model_package_groups(NextToken="not-a-token")
    assert error_code(exc) == "ValidationException"


def test_creation_time_window_filters(sm: Any, unique: Any) -> None:
    import datetime as dt

    group = unique("window")
    sm.create_model_package_group(ModelPackageGroupName=group)
    first = sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"]
    cut = sm.describe_model_package(ModelPackageName=first)["CreationTime"] + dt.timedelta(milliseconds=1)
    time.sleep(0.01)
    second = sm.create_model_package(ModelPackageGroupName=group)["ModelPackageArn"]
    after = sm.list_model_packages(ModelPackageGroupName=group, CreationTimeAfter=cut)["ModelPackageSummaryList"]
    before = sm.list_model_packages(ModelPackageGroupName=group, CreationTimeBefore=cut)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in after] == [second]
    assert [p["ModelPackageArn"] for p in before] == [first]
    groups = sm.list_model_package_groups(NameContains=group, CreationTimeBefore=cut)["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == [group]
