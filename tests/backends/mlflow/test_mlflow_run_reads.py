"""How the MLflow adapter reads the runs behind versions: batched where it can, exact always.

A listing needs each version's run (metrics, params, datasets). Runs of one model mostly share an
experiment, so the adapter reads one run, then the others of its experiment with one
``search_runs``; runs scattered over experiments fall back to one ``get_run`` each. Either way
every version must read exactly as ``get_version`` reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from adapters.mlflow import MlflowAdapter


def _adapter(tmp_path: Path) -> MlflowAdapter:
    return MlflowAdapter("m", {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
                               "artifact_location": str(tmp_path / "artifacts")})


def _register(client: MlflowClient, model: str, experiments: list[str], deleted: frozenset[int] = frozenset()) -> None:
    client.create_registered_model(model)
    for i, experiment in enumerate(experiments):
        run = client.create_run(experiment)
        client.log_batch(run.info.run_id, metrics=[Metric("auc", 0.5 + i / 10, 0, 0)], params=[Param("i", str(i))])
        client.set_terminated(run.info.run_id)
        client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
        if i in deleted:
            client.delete_run(run.info.run_id)  # a deleted run still reads, as get_run reads it


@pytest.mark.parametrize("layout", ["one experiment", "two experiments", "every run its own experiment"])
def test_listed_versions_read_like_single_reads(tmp_path: Path, layout: str) -> None:
    adapter = _adapter(tmp_path)
    client = adapter.client
    pool = [client.create_experiment(f"exp-{i}") for i in range(6)]
    experiments = {"one experiment": [pool[0]] * 6, "two experiments": [pool[i % 2] for i in range(6)],
                   "every run its own experiment": pool}[layout]
    _register(client, "scorer", experiments, deleted=frozenset({2}))
    listed = list(adapter.iter_versions("scorer"))
    assert [v.version for v in listed] == ["1", "2", "3", "4", "5", "6"]
    for version in listed:
        assert version == adapter.get_version("scorer", version.version)
        assert version.metrics == {"auc": pytest.approx(0.5 + (int(version.version) - 1) / 10)}
        assert version.params == {"i": str(int(version.version) - 1)}


def test_a_version_whose_run_is_gone_still_lists(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path)
    client = adapter.client
    experiment = client.create_experiment("exp")
    _register(client, "scorer", [experiment] * 3)
    # A version can name a run id that no longer exists at all (another server's run, a purge).
    client.create_model_version("scorer", "runs:/0123456789abcdef0123456789abcdef/model",
                                run_id="0123456789abcdef0123456789abcdef")
    listed = {v.version: v for v in adapter.iter_versions("scorer")}
    assert set(listed) == {"1", "2", "3", "4"}
    assert listed["4"].metrics == {} and listed["2"].metrics == {"auc": pytest.approx(0.6)}
