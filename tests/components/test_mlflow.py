"""MLflow logging into a real sqlite store, checked through MlflowClient.search_runs."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores


def _nested_runs(client: MlflowClient) -> list:
    """The per-RunSpec (nested) MLflow runs of the fixture suite's experiment."""
    experiment = client.get_experiment_by_name("fusionbench-fixture-suite")
    return client.search_runs([experiment.experiment_id], filter_string="tags.`fusionbench.kind` = 'run'")


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
        assert child.data.tags["fusionbench.source"] == "model"
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
    from fusionbench.engine.planner import Selection

    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-nan")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "r", executor="inline"))
    client = MlflowClient(tracking_uri=mlflow_store)
    runs = _nested_runs(client)
    assert len(runs) == 1
    assert runs[0].info.status == "FAILED"
    assert runs[0].data.tags["fusionbench.status"] == "invalid_output"


def test_default_store_is_mlflow_db_in_the_working_directory(good_fixture_only, tmp_path, monkeypatch):
    """No MLFLOW_TRACKING_URI: MLflow's own default, sqlite mlflow.db where the command runs."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite")
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))

    db = tmp_path / "mlflow.db"
    assert db.exists()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("fusionbench-fixture-suite")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("fusionbench.kind") == "session"]
    children = [r for r in runs if r.data.tags.get("fusionbench.kind") == "run"]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert {c.data.tags["fusionbench.run_key"] for c in children} == {r.run_key for r in plan.runs}


def test_per_image_scores_artifact_holds_every_image_and_metric(good_fixture_only, mlflow_store, tmp_path):
    import pandas as pd

    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", datasets=[Selection.parse("fixture-scenes[n=4]")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    client = MlflowClient(tracking_uri=mlflow_store)
    children = _nested_runs(client)
    assert len(children) == 2
    for child in children:
        (artifact,) = client.list_artifacts(child.info.run_id, "scores")
        local = client.download_artifacts(child.info.run_id, artifact.path, str(tmp_path / child.info.run_id))
        scores = pd.read_parquet(local)
        key = child.data.tags["fusionbench.run_key"]
        run = next(r for r in plan.runs if r.run_key == key)
        assert len(scores) == 4 * len(run.metrics)  # images x metrics
        assert set(scores["image_id"]) == {f"img{i}" for i in range(4)}
        assert set(scores["run_key"]) == {key}
        assert child.data.metrics["fixture-mae"] == pytest.approx(scores["value"].mean(), rel=1e-12)


def test_nested_runs_last_as_long_as_their_run(good_fixture_only, mlflow_store, tmp_path):
    """The nested run starts when the run starts (not when it has finished), so MLflow's duration
    is the run's."""
    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-slow")])  # 1 s per image
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    wall_s = latest_runs(tmp_path / "results")["wall_s"].iloc[0]
    assert wall_s >= 3.0
    client = MlflowClient(tracking_uri=mlflow_store)
    (child,) = _nested_runs(client)
    duration_s = (child.info.end_time - child.info.start_time) / 1000
    assert duration_s >= wall_s * 0.95
    assert child.info.status == "FINISHED" and child.data.tags["fusionbench.attempt"] == "1"
    assert child.data.tags["fusionbench.status"] == "ok"


def test_runs_are_named_like_the_leaderboard_with_params_named_by_owner_and_a_preview(
    good_fixture_only, mlflow_store, tmp_path
):
    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy[sigma=0.05]")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    client = MlflowClient(tracking_uri=mlflow_store)
    (child,) = _nested_runs(client)
    assert child.info.run_name == "fixture-noisy[sigma=0.05] @ fixture-scenes s0"
    params = child.data.params
    assert params["run_seed"] == "0" and "seed" not in params
    assert params["dataset.n"] == "3" and params["model.sigma"] == "0.05"
    assert "fixture-mae" in child.data.metrics and "fixture-mae_std" in child.data.metrics
    previews = {a.path for a in client.list_artifacts(child.info.run_id, "previews")}
    assert any(p.endswith(".png") for p in previews)


def test_a_copied_store_keeps_its_artifacts(good_fixture_only, mlflow_template, tmp_path, monkeypatch):
    """Artifacts live in mlruns/ beside mlflow.db, recorded relative to it: copy both, it works."""
    import shutil

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(mlflow_template, tmp_path / "mlflow.db")  # MLflow's default store, already migrated
    registry = load_registry()
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    experiment = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}").get_experiment_by_name(
        "fusionbench-fixture-suite"
    )
    assert not experiment.artifact_location.startswith(("/", "file:")), experiment.artifact_location
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    shutil.copy(tmp_path / "mlflow.db", copy / "mlflow.db")
    shutil.copytree(tmp_path / "mlruns", copy / "mlruns")
    shutil.rmtree(tmp_path / "mlruns")
    monkeypatch.chdir(copy)
    client = MlflowClient(tracking_uri="sqlite:///mlflow.db")
    child = _nested_runs(client)[0]
    local = client.download_artifacts(child.info.run_id, "run_spec.json", str(tmp_path / "dl"))
    assert open(local).read().startswith("{")


def test_a_session_whose_process_died_is_marked_killed_by_the_next(good_fixture_only, mlflow_store, tmp_path):
    import socket
    import subprocess
    import sys

    from fusionbench.components.mlflow import HOST_TAG, PID_TAG

    client = MlflowClient(tracking_uri=mlflow_store)
    experiment_id = client.create_experiment("fusionbench-fixture-suite")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    stale = client.create_run(
        experiment_id, tags={"fusionbench.kind": "session", HOST_TAG: socket.gethostname(), PID_TAG: dead}
    )
    child = client.create_run(experiment_id, tags={"fusionbench.kind": "run", "mlflow.parentRunId": stale.info.run_id})
    alive = client.create_run(
        experiment_id,
        tags={"fusionbench.kind": "session", HOST_TAG: socket.gethostname(), PID_TAG: str(__import__("os").getpid())},
    )
    registry = load_registry()
    run_plan(registry, plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")]),
             RunOptions(results_dir=tmp_path / "results", executor="inline"))  # fmt: skip
    assert client.get_run(stale.info.run_id).info.status == "KILLED"
    assert client.get_run(child.info.run_id).info.status == "KILLED"
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"  # a live session is left alone
