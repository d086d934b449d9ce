"""A run fails (or crashes) loudly instead of recording wrong or empty scores, and fails before
the model's setup when its sampler cannot be built."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fusionbench import hookimpl
from fusionbench.engine.execution import execute_run
from fusionbench.engine.executors.base import WorkerConfig
from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.errors import PlanError
from fusionbench.registry import load_registry
from fusionbench.specs import ComponentChoice, MetricSpec, ModelSpec, SuiteEntry, SuiteSpec

from .conftest import FAST, fb, install_plugin

IVF = frozenset({"ivf"})
SETUP_CALLS: list[str] = []


class WideMetric:
    """Answers three numbers per image, as a per-band metric would."""

    def __call__(self, pred, ref, inputs, card):
        import torch

        return torch.zeros(pred.shape[0], 3, dtype=torch.float64)


class TrainingModel:
    """A diffusion model whose setup stands for hours of training."""

    def setup(self, context):
        SETUP_CALLS.append("trained")

    def fuse(self, batch, *, sampler=None, generator=None):
        return batch.inputs["ir"].clone()


class ExitingModel:
    def fuse(self, batch, *, sampler=None, generator=None):
        sys.exit(3)


class _Plugin:
    @hookimpl
    def fusionbench_register_metrics(self):
        return [MetricSpec("rel-wide", "1", IVF, WideMetric, requires_reference=False, higher_is_better=True)]

    @hookimpl
    def fusionbench_register_models(self):
        return [
            ModelSpec("rel-training", "1", IVF, TrainingModel, needs_sampler=True, default_sampler="ddim"),
            ModelSpec("rel-exit", "1", IVF, ExitingModel),
        ]

    @hookimpl
    def fusionbench_register_suites(self):
        entry = SuiteEntry("ivf", "none", datasets=("synthetic-ivf",), metrics=(ComponentChoice("en"),), max_items=1)
        return [
            SuiteSpec("rel-suite", "1", (entry,)),
            SuiteSpec(
                "rel-wide-suite", "1", (SuiteEntry(**{**entry.__dict__, "metrics": (ComponentChoice("rel-wide"),)}),)
            ),
            SuiteSpec(
                "rel-missing-metric",
                "1",
                (SuiteEntry(**{**entry.__dict__, "metrics": (ComponentChoice("no-such-metric"),)}),),
            ),
        ]


@pytest.fixture(scope="module")
def registry():
    return load_registry(extra_plugins=[("rel", _Plugin())])


def _execute(registry, suite: str, model: str, tmp_path: Path, **plan_options):
    plan = plan_suite(registry, suite, models=[Selection(model)], **plan_options)
    assert len(plan.runs) == 1, plan.skipped
    return execute_run(plan.runs[0], 1, registry, WorkerConfig(results_dir=str(tmp_path), previews=0))


def test_a_metric_answering_several_values_per_image_fails_the_run(registry, tmp_path):
    outcome = _execute(registry, "rel-wide-suite", "average", tmp_path)
    assert outcome.status == "failed" and outcome.error_type == "InvalidMetricOutput"
    assert "metric 'rel-wide' returned shape (1, 3) for one image" in outcome.error_message
    assert outcome.scores_path is None and not list(tmp_path.rglob("*.parquet"))


def test_a_suite_naming_a_missing_metric_is_a_plan_error(registry):
    with pytest.raises(PlanError, match="names metric 'no-such-metric', which is not available"):
        plan_suite(registry, "rel-missing-metric", models=[Selection("average")])


def test_a_run_without_metrics_fails_instead_of_counting_as_done(registry, tmp_path):
    from dataclasses import replace

    plan = plan_suite(registry, "rel-suite", models=[Selection("average")])
    outcome = execute_run(
        replace(plan.runs[0], metrics=()), 1, registry, WorkerConfig(results_dir=str(tmp_path), previews=0)
    )
    assert outcome.status == "failed" and "has no metric to score it with" in outcome.error_message


def test_an_invalid_sampler_fails_before_the_model_trains(registry, tmp_path):
    SETUP_CALLS.clear()
    outcome = _execute(registry, "rel-suite", "rel-training", tmp_path, samplers=[Selection.parse("ddim[steps=0]")])
    assert outcome.status == "failed" and "steps must be a positive integer" in outcome.error_message
    assert SETUP_CALLS == []


def test_sys_exit_in_a_model_is_recorded_as_a_crash(registry, tmp_path):
    outcome = _execute(registry, "rel-suite", "rel-exit", tmp_path)
    assert outcome.status == "crashed" and outcome.error_type == "SystemExit"
    assert "sys.exit(3)" in outcome.error_message


EXIT_PLUGIN = """
import sys
from fusionbench import ModelSpec, hookimpl

class Exiting:
    def fuse(self, batch, *, sampler=None, generator=None):
        sys.exit(0)

@hookimpl
def fusionbench_register_models():
    return [ModelSpec("rel-exit-cli", "1", frozenset({"ivf"}), Exiting)]
"""


def test_sys_exit_under_the_inline_executor_does_not_end_the_command(plugin_dir, tmp_path):
    install_plugin(plugin_dir, "rel-exit-cli", EXIT_PLUGIN)
    result = fb(
        "run",
        "--suite",
        "ivf",
        "-m",
        "rel-exit-cli",
        "-d",
        "synthetic-ivf",
        "--seeds",
        "0",
        "--retries",
        "0",
        *FAST,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "crashed" in result.stdout and "sys.exit(0)" in result.stdout
    from fusionbench.results.reader import latest_runs

    assert list(latest_runs(tmp_path / "fusionbench-results")["status"]) == ["crashed"]
