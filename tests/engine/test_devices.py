"""Device detection: CUDA_VISIBLE_DEVICES is a filter, not a promise; device errors fail a run
with their traceback instead of crashing workers (and being retried as crashes)."""

from __future__ import annotations

import pytest
import torch

from fusionbench.engine.devices import visible_gpus
from fusionbench.engine.execution import WorkerConfig, execute_run
from fusionbench.engine.executors.inline import inline_device
from fusionbench.engine.executors.local import make_slots
from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.errors import FusionbenchError
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_cuda_visible_devices_without_cuda_means_cpu_slots(no_cuda, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert visible_gpus() == []
    slots = make_slots(None, 2)
    assert [s.device for s in slots] == ["cpu", "cpu"] and [s.label for s in slots] == ["cpu0", "cpu1"]
    assert inline_device(None) == "cpu"


def test_visible_gpus_are_the_cuda_visible_devices_entries_cuda_can_use(two_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert visible_gpus() == ["2", "3"]
    assert [(s.device, s.env["CUDA_VISIBLE_DEVICES"], s.label) for s in make_slots(None, None)] == [
        ("cuda:0", "2", "gpu2"),
        ("cuda:0", "3", "gpu3"),
    ]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,-1,1")  # CUDA stops at the invalid entry
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert visible_gpus() == ["0"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert visible_gpus() == ["0", "1"]


def test_inline_uses_the_index_among_visible_devices(two_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert inline_device(None) == "cuda:0"  # the first visible device, not cuda:2
    assert inline_device(["3"]) == "cuda:1"
    assert inline_device(["cpu"]) == "cpu"
    with pytest.raises(FusionbenchError, match="GPU '5' is not visible"):
        inline_device(["5"])


def test_explicit_gpus_without_cuda_are_refused_clearly(no_cuda):
    with pytest.raises(FusionbenchError, match="torch sees no CUDA device"):
        inline_device(["0"])
    with pytest.raises(FusionbenchError, match="torch sees no CUDA device"):
        make_slots(["0", "1"], None)


def test_a_device_error_fails_the_run_with_its_traceback(good_fixture_only, tmp_path):
    """cuda:99 exists nowhere (and CUDA not at all on a CPU build): a failed run, not an exception."""
    registry = load_registry(disabled=["mlflow"])
    run = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")]).runs[0]
    outcome = execute_run(run, 1, registry, WorkerConfig(results_dir=str(tmp_path), device="cuda:99"))
    assert outcome.status == "failed"
    assert outcome.traceback and outcome.error_type
    assert outcome.scores_path is None and outcome.finished_at is not None


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_cuda_visible_devices_on_this_machine_never_crashes_a_run(good_fixture_only, tmp_path, monkeypatch, executor):
    """On a CPU-only machine CUDA_VISIBLE_DEVICES=0 used to start GPU workers that died at once
    ('crashed: worker exited with code 1', retried, cause lost) and crash the inline executor."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    summary = run_plan(
        registry, plan, RunOptions(results_dir=tmp_path / "r", executor=executor, executor_options={"workers": 1})
    )
    assert summary.counts == {"ok": 1} and summary.retried == 0
    device = latest_runs(tmp_path / "r")["device"].iloc[0]
    assert device == ("cuda:0" if torch.cuda.is_available() else "cpu")
