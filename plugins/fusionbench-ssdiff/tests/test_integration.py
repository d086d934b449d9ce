"""SSDiff through the platform: ``fusionbench run --suite full-res`` (CLI) and the reduced-res
suite (``run_plan``) self-train once on synthetic-qb-rr's train split and share the cached
checkpoint; ``fusionbench train ssdiff`` writes the joint + L-BAF stages. Budgets are shrunk
(the code path, not the learning; that is ``test_learning.py``)."""

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
from fusionbench.results.reader import latest_runs, read_scores
from fusionbench_ssdiff import presets
from fusionbench_ssdiff.testing import open_dataset


@pytest.fixture
def small_budget(monkeypatch):
    """The tiny preset with 8 training patches, 3 joint and 2 + 2 L-BAF iterations."""
    tiny = presets.PRESETS["tiny"]
    small = dataclasses.replace(
        tiny,
        train_items=8,
        training=tiny.training.with_overrides(iterations=3, log_every=1, lr_milestones=(), ema_start=0),
        lbaf=dataclasses.replace(tiny.lbaf, iterations=2, ema_start=0),
    )
    monkeypatch.setitem(presets.PRESETS, "tiny", small)
    return small


def test_hook_module_is_import_light():
    code = "import sys, fusionbench_ssdiff.plugin; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_full_res_cli_and_reduced_res_suite_share_one_checkpoint_trained_on_the_rr_twin(
    small_budget, registry, tmp_path
):
    results = tmp_path / "results"
    out = CliRunner().invoke(
        cli,
        [
            "run",
            "--suite",
            "full-res",
            "-m",
            "ssdiff",
            "-d",
            "synthetic-qb-fr",
            "-s",
            "ddim[steps=2]",
            "--max-items",
            "1",
            "--executor",
            "inline",
            "--results",
            str(results),
            "--no-mlflow",
        ],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    runs = latest_runs(results)
    assert list(runs["status"]) == ["ok"], runs.to_dict("records")
    assert int(runs.iloc[0]["nfe"]) == 2  # 121 tiles of a 256² image, each sampled with 2 DDIM steps
    assert {"qnr", "d-lambda", "d-s", "hqnr"} <= set(read_scores(results, "full-res")["metric"])

    cache = results / "cache" / "ssdiff"
    cached = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(cached) == 1
    key = json.loads((cached[0] / "cache_key.json").read_text())
    assert key["train_sha256"] == open_dataset(registry, "synthetic-qb-rr").content_sha256("train")
    config = json.loads((cached[0] / "config.json").read_text())
    assert config["model"]["dataset"] == "synthetic-qb-rr" and [s["branch"] for s in config["stages"]] == [
        "joint",
        "spatial",
        "spectral",
    ]

    plan = plan_suite(
        registry,
        "reduced-res",
        models=[Selection.parse("ssdiff")],
        datasets=[Selection.parse("synthetic-qb-rr")],
        max_items=1,
    )
    assert len(plan.runs) == 1 and plan.runs[0].sampler.name == "ddim"
    assert run_plan(registry, plan, RunOptions(results_dir=results, executor="inline")).counts == {"ok": 1}
    assert int(latest_runs(results, "reduced-res").iloc[0]["nfe"]) == 10  # the default: DDIM, 10 steps
    assert {"sam", "ergas"} <= set(read_scores(results, "reduced-res")["metric"])
    assert [p for p in cache.iterdir() if not p.name.startswith(".")] == cached  # reused, not retrained


def test_full_resolution_without_a_training_twin_fails_with_advice(small_budget, tmp_path):
    from fusionbench.registry import load_registry

    registry = load_registry(disabled=["mlflow"])  # a registry of this test only: it is modified below
    plan = plan_suite(
        registry,
        "full-res",
        models=[Selection.parse("ssdiff")],
        datasets=[Selection.parse("synthetic-qb-fr")],
        max_items=1,
    )
    entry = registry.get("dataset", "synthetic-qb-fr")
    object.__setattr__(entry, "spec", dataclasses.replace(entry.spec, train_from=""))
    summary = run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    assert summary.counts == {"failed": 1}
    message = latest_runs(tmp_path / "results").iloc[0]["error_message"]
    assert "no usable train split" in message and "ssdiff[checkpoint=PATH]" in message


def test_train_command_writes_the_stages_and_resumes(small_budget, tmp_path):
    out = tmp_path / "ckpt"
    args = [
        "train",
        "ssdiff",
        "--dataset",
        "synthetic-qb-rr",
        "--out",
        str(out),
        "--no-mlflow",
        "--quiet",
        "--device",
        "cpu",
    ]
    result = CliRunner().invoke(cli, [*args, "--iterations", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"ssdiff[checkpoint={out}]" in result.output
    config = json.loads((out / "config.json").read_text())
    assert [(s["branch"], s["iterations"]) for s in config["stages"]] == [("joint", 2), ("spatial", 2), ("spectral", 2)]
    assert config["step"] == 6 and config["model"]["network"]["channels"] == 4
    assert sorted(p.name for p in (out / "stages").iterdir()) == ["00-joint", "01-spatial", "02-spectral"]
    # a larger joint budget resumes the joint stage from step 2 and redoes the fine-tuning after it
    result = CliRunner().invoke(cli, [*args, "--iterations", "3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "stages" / "00-joint" / "config.json").read_text())["step"] == 3
    assert json.loads((out / "config.json").read_text())["step"] == 7
