"""DDIF through the platform: registration, the reduced-res suite (self-training on the train
split, cached), and ``fusionbench train``. Budgets are shrunk so this stays a few seconds; the
real learning test is ``test_learning.py``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores
from fusionbench_ddif import presets


@pytest.fixture
def small_budget(monkeypatch):
    """The tiny preset with 4 training patches and 3 iterations for every task (the code path, not
    the learning; the per-task budgets are dropped, else MHIF would train its 4,800)."""
    tiny = presets.PRESETS["tiny"]
    small = dataclasses.replace(
        tiny, train_items=4, training=tiny.training.with_overrides(iterations=3, log_every=1), task_training={}
    )
    monkeypatch.setitem(presets.PRESETS, "tiny", small)
    return small


def test_plugin_registers_ddif_with_presets_and_its_default_sampler():
    registry = load_registry(disabled=["mlflow"])
    spec = registry.get("model", "ddif").spec
    assert spec.tasks == frozenset({"pansharpening", "mhif"})
    assert spec.params["preset"].default == "tiny"
    assert set(spec.params["preset"].choices) == {"tiny", "paper", "release"}
    assert spec.needs_sampler and spec.default_sampler == "ddim" and dict(spec.default_sampler_params) == {"steps": 25}


def test_hook_module_is_import_light():
    code = "import sys, fusionbench_ddif.plugin; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("suite, dataset", [("reduced-res", "synthetic-wv3-rr"), ("mhif", "synthetic-cave-x4")])
def test_suite_trains_once_and_scores(small_budget, tmp_path, suite, dataset):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(
        registry,
        suite,
        models=[Selection.parse("ddif")],
        datasets=[Selection.parse(dataset)],
        max_items=1,
    )
    assert len(plan.runs) == 1
    run = plan.runs[0]
    assert run.sampler is not None and run.sampler.name == "ddim" and run.sampler.params["steps"] == 25
    assert dict(run.model.params) == {"preset": "tiny", "checkpoint": "", "precision": "fp32", "train_iterations": 0}
    options = RunOptions(results_dir=tmp_path / "results", executor="inline", cache_dir=tmp_path / "cache")
    summary = run_plan(registry, plan, options)
    assert summary.counts == {"ok": 1}, latest_runs(tmp_path / "results").to_dict("records")
    runs = latest_runs(tmp_path / "results")
    assert int(runs.iloc[0]["nfe"]) == 25
    scores = read_scores(tmp_path / "results", suite)
    assert {"sam", "ergas"} <= set(scores["metric"])
    cached = [p for p in (tmp_path / "cache" / "ddif").iterdir() if not p.name.startswith(".")]
    assert len(cached) == 1 and (cached[0] / "ema.safetensors").is_file()
    key = json.loads((cached[0] / "cache_key.json").read_text())
    assert key["preset"]["name"] == "tiny" and key["seed"] == 0 and key["train_sha256"]
    assert key["preset"]["training"]["iterations"] == 3  # the shrunk budget, whatever the task


def test_full_resolution_trains_on_the_reduced_twin_and_shares_its_checkpoint(small_budget, tmp_path):
    """A full-resolution set has no reference to learn from: the tiny preset trains on its
    ``train_from`` twin (synthetic-wv3-rr), so the reduced- and full-resolution runs of the same
    model share one cached checkpoint."""
    registry = load_registry(disabled=["mlflow"])
    options = RunOptions(results_dir=tmp_path / "results", executor="inline", cache_dir=tmp_path / "cache")
    for suite, dataset in (("full-res", "synthetic-wv3-fr"), ("reduced-res", "synthetic-wv3-rr")):
        plan = plan_suite(
            registry, suite, models=[Selection.parse("ddif")], datasets=[Selection.parse(dataset)], max_items=1
        )
        assert len(plan.runs) == 1, plan.skipped
        summary = run_plan(registry, plan, options)
        assert summary.counts == {"ok": 1}, latest_runs(tmp_path / "results").to_dict("records")
    assert {"qnr", "d-lambda", "d-s", "hqnr"} <= set(read_scores(tmp_path / "results", "full-res")["metric"])
    cached = [p for p in (tmp_path / "cache" / "ddif").iterdir() if not p.name.startswith(".")]
    assert len(cached) == 1


def test_full_resolution_without_a_training_twin_fails_with_advice(small_budget, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(
        registry,
        "full-res",
        models=[Selection.parse("ddif")],
        datasets=[Selection.parse("synthetic-wv3-fr")],
        max_items=1,
    )
    entry = registry.get("dataset", "synthetic-wv3-fr")
    object.__setattr__(entry, "spec", dataclasses.replace(entry.spec, train_from=""))  # a registry of this test only
    summary = run_plan(
        registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline", cache_dir=tmp_path / "cache")
    )
    assert summary.counts == {"failed": 1}
    message = latest_runs(tmp_path / "results").iloc[0]["error_message"]
    assert "train" in message and "checkpoint" in message


def test_train_command_writes_a_checkpoint(small_budget, tmp_path):
    out = tmp_path / "ckpt"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "ddif",
            "--preset",
            "tiny",
            "--dataset",
            "synthetic-wv3-rr",
            "--iterations",
            "2",
            "--out",
            str(out),
            "--no-mlflow",
            "--quiet",
            "--device",
            "cpu",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "checkpoint: " + str(out) in result.output
    assert f"ddif[preset=tiny,checkpoint={out}]" in result.output
    config = json.loads((out / "config.json").read_text())
    assert (
        config["step"] == 2
        and config["model"]["task"] == "pansharpening"
        and config["model"]["network"]["channels"] == 8
    )
    # resuming to a larger budget continues from step 2
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "ddif",
            "--dataset",
            "synthetic-wv3-rr",
            "--iterations",
            "3",
            "--out",
            str(out),
            "--no-mlflow",
            "--quiet",
            "--device",
            "cpu",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["step"] == 3
