"""The local executor: real worker processes; a killed worker fails its run only."""

from __future__ import annotations

import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores

MODELS = [Selection.parse(m) for m in ("fixture-lms", "fixture-killer", "fixture-noisy")]


def _sweep(tmp_path, **executor_options):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", models=MODELS, seeds=[0, 1])
    options = RunOptions(
        results_dir=tmp_path / "results",
        executor="local",
        executor_options={"workers": 2, **executor_options},
    )
    return plan, run_plan(registry, plan, options)


def test_killed_worker_fails_only_its_run_and_a_rerun_completes(good_fixture_only, tmp_path, monkeypatch):
    monkeypatch.setenv("FB_FIXTURE_KILL", "1")  # the killer model SIGKILLs its worker mid-run
    plan, summary = _sweep(tmp_path)
    assert summary.counts == {"ok": 4, "crashed": 2}
    assert summary.retried == 2  # a crash is retried once on a fresh worker (it crashes again here)
    runs = latest_runs(tmp_path / "results")
    assert set(runs[runs["status"] == "crashed"]["attempt"]) == {2}
    crashed = runs[runs["status"] == "crashed"]
    assert set(crashed["label"].str.split("@").str[0]) == {"fixture-killer"}
    assert all("SIGKILL" in m for m in crashed["error_message"])
    scores = read_scores(tmp_path / "results")
    assert set(scores["model"]) == {"fixture-lms", "fixture-noisy"}
    assert len(scores) == 4 * 3
    before = scores.sort_values(["run_key", "image_id"]).reset_index(drop=True)

    monkeypatch.delenv("FB_FIXTURE_KILL")
    _, rerun = _sweep(tmp_path)
    assert rerun.counts == {"ok": 2} and rerun.skipped_done == 4
    after = read_scores(tmp_path / "results")
    assert len(after) == 6 * 3  # nothing duplicated
    survived = (
        after[after["run_key"].isin(before["run_key"])].sort_values(["run_key", "image_id"]).reset_index(drop=True)
    )
    assert (survived["value"].to_numpy() == before["value"].to_numpy()).all()
    final = latest_runs(tmp_path / "results")
    assert set(final["status"]) == {"ok"}
    assert set(final[final["label"].str.startswith("fixture-killer")]["attempt"]) == {3}


def test_local_and_inline_give_identical_numbers(good_fixture_only, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy")])
    run_plan(
        registry, plan, RunOptions(results_dir=tmp_path / "local", executor="local", executor_options={"workers": 1})
    )
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "inline", executor="inline"))
    a = read_scores(tmp_path / "local").sort_values("image_id")["value"].to_numpy()
    b = read_scores(tmp_path / "inline").sort_values("image_id")["value"].to_numpy()
    assert (a == b).all()


@pytest.mark.parametrize("timeout_s", [0.001])
def test_timeout_kills_the_run_and_records_it(good_fixture_only, tmp_path, timeout_s):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    summary = run_plan(
        registry,
        plan,
        RunOptions(
            results_dir=tmp_path / "r", executor="local", executor_options={"workers": 1, "timeout_s": timeout_s}
        ),
    )
    assert summary.counts == {"timeout": 1}
    runs = latest_runs(tmp_path / "r")
    assert "exceeded" in runs["error_message"].iloc[0]


def test_a_device_selection_plugin_chooses_the_slot(good_fixture_only, tmp_path):
    from fusionbench import hookimpl
    from fusionbench.engine.executors.base import Job, JobStarted, WorkerConfig
    from fusionbench.engine.executors.local import LocalExecutor

    class LastSlot:
        @hookimpl
        def fusionbench_select_device(self, run, free_devices):
            return free_devices[-1]

    registry = load_registry(disabled=["mlflow"], extra_plugins=[("last-slot", LastSlot())])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    started = []
    executor = LocalExecutor(workers=2, registry=registry)
    jobs = [Job(plan.runs[0], 1)]
    executor.run(
        jobs,
        WorkerConfig(results_dir=str(tmp_path)),
        lambda e: started.append(e) if isinstance(e, JobStarted) else None,
    )
    assert [e.device for e in started] == ["cpu0"]  # one job -> one slot only; now with two jobs:
    from dataclasses import replace

    started.clear()
    two = [Job(plan.runs[0], 1), Job(replace(plan.runs[0], seed=5), 1)]
    executor.run(
        two, WorkerConfig(results_dir=str(tmp_path)), lambda e: started.append(e) if isinstance(e, JobStarted) else None
    )
    assert started[0].device == "cpu1"


def test_a_run_killed_for_its_time_limit_keeps_its_start_time_and_duration(good_fixture_only, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-slow")])  # 1 s per image
    summary = run_plan(
        registry,
        plan,
        RunOptions(results_dir=tmp_path / "r", executor="local", executor_options={"workers": 1, "timeout_s": 1.5}),
    )
    assert summary.counts == {"timeout": 1}
    run = latest_runs(tmp_path / "r").iloc[0]
    assert run["wall_s"] >= 1.5
    elapsed = (run["finished_at"] - run["started_at"]).total_seconds()
    assert elapsed >= 1.5 and abs(elapsed - run["wall_s"]) < 1.0


def test_an_interrupted_run_keeps_its_start_time_and_duration(good_fixture_only, tmp_path):
    """Ctrl-C while a run is in a worker: its record says when it started and how long it ran."""
    from fusionbench.engine.executors.base import Job, JobFinished, JobProgress, WorkerConfig
    from fusionbench.engine.executors.local import LocalExecutor

    registry = load_registry(disabled=["mlflow"])
    run = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-slow")]).runs[0]
    finished = []

    def emit(event):
        if isinstance(event, JobProgress):  # after the first image (1 s): the user presses Ctrl-C
            raise KeyboardInterrupt
        if isinstance(event, JobFinished):
            finished.append(event.outcome)

    with pytest.raises(KeyboardInterrupt):
        LocalExecutor(workers=1).run([Job(run, 1)], WorkerConfig(results_dir=str(tmp_path)), emit)
    (outcome,) = finished
    assert outcome.status == "interrupted"
    assert outcome.wall_s >= 1.0
    assert (outcome.finished_at - outcome.started_at).total_seconds() >= 1.0


def test_a_worker_that_cannot_run_a_job_fails_it_with_the_cause_instead_of_crashing(tmp_path):
    """An exception in the worker itself (here: a job it cannot even read) is reported with its
    traceback as a failed run, not as 'worker exited with code 1' that would be retried."""
    from types import SimpleNamespace

    from fusionbench.engine.executors.base import Job, JobFinished, WorkerConfig
    from fusionbench.engine.executors.local import LocalExecutor

    unreadable = SimpleNamespace(to_json=lambda: "{}", label="broken-job", run_key="k", suite="s", task="t")
    finished = []
    LocalExecutor(workers=1).run(
        [Job(unreadable, 1)],
        WorkerConfig(results_dir=str(tmp_path)),
        lambda e: finished.append(e.outcome) if isinstance(e, JobFinished) else None,
    )
    (outcome,) = finished
    assert outcome.status == "failed" and outcome.error_type == "WorkerError"
    assert "KeyError" in outcome.error_message and "broken-job" in outcome.error_message
    assert "Traceback" in outcome.traceback
