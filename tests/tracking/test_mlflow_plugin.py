"""MLflow logging into a real sqlite store, checked through MlflowClient.search_runs."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from fusionbench.planner import plan_suite
from fusionbench.plugins import load_registry
from fusionbench.results.reader import read_scores
from fusionbench.runner import RunOptions, run_plan


def test_parent_run_per_session_and_nested_run_per_runspec(good_fixture_only, mlflow_store, tmp_path):
    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite")
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))

    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.get_experiment_by_name("fusionbench-fixture-suite")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("fusionbench.kind") == "session"]
    children = [r for r in runs if r.data.tags.get("fusionbench.kind") == "run"]
    assert len(parents) == 1 and len(children) == 2
    parent_id = parents[0].info.run_id
    assert all(c.data.tags["mlflow.parentRunId"] == parent_id for c in children)
    assert parents[0].data.metrics["runs_ok"] == 2
    nested = client.search_runs([experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    assert len(nested) == 2

    scores = read_scores(tmp_path / "results")
    keys = {r.run_key: r for r in plan.runs}
    for child in children:
        key = child.data.tags["fusionbench.run_key"]
        assert key in keys
        assert child.data.tags["fusionbench.data_sha256"] == keys[key].data_sha256
        assert child.info.status == "FINISHED"
        mean = scores[scores["run_key"] == key]["value"].mean()
        assert child.data.metrics["fixture-mae"] == pytest.approx(mean, rel=1e-12)
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"scores", "run_spec.json"} <= artifacts


def test_no_mlflow_means_nothing_is_logged(good_fixture_only, mlflow_store, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    run_plan(registry, plan_suite(registry, "fixture-suite"), RunOptions(results_dir=tmp_path / "r", executor="inline"))
    assert MlflowClient(tracking_uri=mlflow_store).get_experiment_by_name("fusionbench-fixture-suite") is None


def test_failed_runs_are_logged_as_failed(good_fixture_only, mlflow_store, tmp_path):
    from fusionbench.planner import Selection

    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-nan")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "r", executor="inline"))
    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.get_experiment_by_name("fusionbench-fixture-suite")
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.`fusionbench.kind` = 'run'")
    assert len(runs) == 1
    assert runs[0].info.status == "FAILED"
    assert runs[0].data.tags["fusionbench.status"] == "invalid_output"
