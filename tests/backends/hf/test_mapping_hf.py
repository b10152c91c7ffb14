"""Pure HF mapping rules the adapter relies on (no server)."""

from __future__ import annotations

import pytest

from mapping import hf as mh
from mapping.errors import InvalidInput
from mapping.schema import DatasetRef, Lineage, ParentRef, VersionSpec


def test_only_hub_parents_and_datasets_go_to_the_card() -> None:
    spec = VersionSpec(
        metrics={"auc": 0.9},
        lineage=Lineage(
            parents=[ParentRef(uri="hf://org/base", relation="quantize"),
                     ParentRef(uri="mrg://mlflow/fraud/versions/3", relation="fine-tune")],
            datasets=[DatasetRef(uri="https://huggingface.co/datasets/org/data"), DatasetRef(uri="s3://b/k")],
        ),
    )
    meta = mh.card_metadata("me/model", spec, "4")
    assert meta["base_model"] == "org/base" and meta["base_model_relation"] == "quantized"
    assert meta["datasets"] == ["org/data"]
    assert mh.metrics_from_model_index(meta["model-index"]) == {"auc": 0.9}
    assert meta["mrg"] == {"version": "4", "stage": "NONE", "approval": "NONE"}
    back = mh.lineage_from_card(meta)
    assert back.parents == [ParentRef(uri="hf://org/base", relation="quantize")]


def test_card_render_and_split_round_trip() -> None:
    text = mh.render_card({"base_model": ["a/b", "c/d"], "license": "mit"}, "# Title\n\nbody\n")
    meta, body = mh.split_card(text)
    assert meta == {"base_model": ["a/b", "c/d"], "license": "mit"} and body == "# Title\n\nbody\n"
    assert mh.lineage_from_card(meta).parents[1] == ParentRef(uri="hf://c/d", relation="derived")
    assert mh.split_card("no front matter") == ({}, "no front matter")


def test_metric_names_seen_on_two_datasets_stay_distinct() -> None:
    index = [{"name": "m", "results": [
        {"dataset": {"name": "dev", "type": "d"}, "metrics": [{"type": "acc", "value": 0.8}]},
        {"dataset": {"name": "test", "type": "d"}, "metrics": [{"type": "acc", "value": "0.7"},
                                                              {"type": "bleu", "value": "n/a"}]},
    ]}]
    assert mh.metrics_from_model_index(index) == {"acc": 0.8, "acc@test": 0.7}


@pytest.mark.parametrize("name", ["plain", "a/b/c", "me/-x", "me/a--b", "me/x.git", ""])
def test_model_names_must_be_repo_ids(name: str) -> None:
    with pytest.raises(InvalidInput):
        mh.check_model_name(name)


def test_tags_name_versions_and_branches_name_aliases() -> None:
    assert mh.version_from_tag("v12") == "12" and mh.version_from_tag("v1.0-rc1") == "1.0-rc1"
    assert mh.version_from_tag("very-good") is None and mh.version_from_tag("release") is None
    assert mh.alias_from_branch("alias/champion") == "champion" and mh.alias_from_branch("main") is None
    with pytest.raises(InvalidInput):
        mh.check_alias("no/slash")
