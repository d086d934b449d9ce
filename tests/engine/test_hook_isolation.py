"""Runtime resolver hooks (device selection, weights) are called in isolation: a plugin that raises
is recorded on the run like an observer's error, warned about once, and the default decides."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from fusionbench import ModelSpec, hookimpl
from fusionbench.engine.executors.base import Job, JobStarted, WorkerConfig
from fusionbench.engine.executors.local import LocalExecutor
from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores


class RaisingSelector:
    @hookimpl
    def fusionbench_select_device(self, run, free_devices):
        raise RuntimeError("selector down")


class LastSlot:
    @hookimpl
    def fusionbench_select_device(self, run, free_devices):
        return free_devices[-1]


def test_a_raising_device_selector_is_recorded_and_the_sweep_goes_on(good_fixture_only, tmp_path, capfd):
    registry = load_registry(disabled=["mlflow"], extra_plugins=[("bad-selector", RaisingSelector())])
    plan = plan_suite(registry, "fixture-suite")  # 2 runs on 2 workers: the first is placed by the hook
    expected = "bad-selector.fusionbench_select_device: RuntimeError: selector down"
    for force in (False, True):  # twice: the error is recorded each time, printed once
        summary = run_plan(
            registry,
            plan,
            RunOptions(results_dir=tmp_path / "r", executor="local", force=force, executor_options={"workers": 2}),
        )
        assert summary.counts == {"ok": 2}
        assert summary.observer_errors == [expected]
        runs = latest_runs(tmp_path / "r")
        recorded = [json.loads(errors) for errors in runs["observer_errors_json"]]
        assert sorted(recorded) == [[], [expected]]  # on the run it was placing
        assert len(read_scores(tmp_path / "r")) == 2 * 3
    assert capfd.readouterr().err.count("warning: plugin 'bad-selector' raised in fusionbench_select_device") == 1


def test_after_a_raising_selector_the_next_plugin_decides(good_fixture_only, tmp_path):
    # pluggy asks the last registered first: the raising one, then LastSlot
    registry = load_registry(
        disabled=["mlflow"], extra_plugins=[("last-slot", LastSlot()), ("bad-selector", RaisingSelector())]
    )
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    started: list[JobStarted] = []
    jobs = [Job(plan.runs[0], 1), Job(replace(plan.runs[0], seed=5), 1)]
    LocalExecutor(workers=2, registry=registry).run(
        jobs,
        WorkerConfig(results_dir=str(tmp_path)),
        lambda e: started.append(e) if isinstance(e, JobStarted) else None,
    )
    assert started[0].device == "cpu1"
    assert started[0].hook_errors == ("bad-selector.fusionbench_select_device: RuntimeError: selector down",)


class RaisingResolver:
    @hookimpl
    def fusionbench_resolve_weights(self, uri, expected_sha256, cache_dir):
        raise OSError("resolver down")


class CheckpointModel:
    """Resolves its checkpoint in setup, as a model with released weights does."""

    def __init__(self, checkpoint: str):
        self.checkpoint = checkpoint

    def setup(self, context):
        found = context.resolve_weights(self.checkpoint, "")
        if found is None or Path(found) != Path(self.checkpoint):
            raise RuntimeError(f"checkpoint not resolved: {found!r}")

    def fuse(self, batch, *, sampler=None, generator=None):
        return batch.inputs["lms"].clone()


def _checkpoint_plugin(checkpoint: Path):
    class CheckpointPlugin:
        @hookimpl
        def fusionbench_register_models(self):
            return [
                ModelSpec(
                    name="fixture-ckpt",
                    version="1",
                    tasks=frozenset({"pansharpening"}),
                    factory=lambda: CheckpointModel(str(checkpoint)),
                )
            ]

    return CheckpointPlugin()


def test_a_raising_weights_resolver_is_recorded_and_the_builtin_resolver_answers(good_fixture_only, tmp_path, capfd):
    checkpoint = tmp_path / "weights.pt"
    checkpoint.write_bytes(b"weights")
    registry = load_registry(
        disabled=["mlflow"],
        extra_plugins=[("ckpt-model", _checkpoint_plugin(checkpoint)), ("bad-resolver", RaisingResolver())],
    )
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-ckpt")], seeds=[0, 1])
    summary = run_plan(registry, plan, RunOptions(results_dir=tmp_path / "r", executor="inline"))
    assert summary.counts == {"ok": 2}
    expected = "bad-resolver.fusionbench_resolve_weights: OSError: resolver down"
    assert summary.observer_errors == [expected, expected]
    runs = latest_runs(tmp_path / "r")
    assert all(json.loads(errors) == [expected] for errors in runs["observer_errors_json"])
    assert capfd.readouterr().err.count("warning: plugin 'bad-resolver' raised in fusionbench_resolve_weights") == 1


def test_an_observer_taking_a_subset_of_the_arguments_is_called(good_fixture_only, tmp_path):
    """pluggy lets an implementation declare only the arguments it uses; so must the isolated call."""
    seen = []

    class Partial:
        @hookimpl
        def fusionbench_run_finished(self, record):
            seen.append(record.status)

    registry = load_registry(disabled=["mlflow"], extra_plugins=[("partial", Partial())])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    summary = run_plan(registry, plan, RunOptions(results_dir=tmp_path / "r", executor="inline"))
    assert seen == ["ok"] and summary.observer_errors == []
