"""The Ray executor on a real local Ray instance (CPU)."""

from __future__ import annotations

import os

import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.errors import FusionbenchError
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores


def _ray():
    try:
        import ray
    except ImportError:
        if os.environ.get("FUSIONBENCH_REQUIRE_RAY") == "1":
            pytest.fail("ray is not installed and FUSIONBENCH_REQUIRE_RAY=1", pytrace=False)
        pytest.skip("ray is not installed (pip install 'fusionbench[ray]')")
    return ray


def _short_dir() -> str:
    """Ray's AF_UNIX socket paths must stay under 108 bytes: pytest's tmp paths are too long."""
    import tempfile

    return tempfile.mkdtemp(prefix="fbray-", dir="/tmp")


DISABLED = "fixture-broken-import,fixture-raising,fixture-conflict"


@pytest.fixture(scope="module")
def ray_cluster(plugin_site):
    """One real local Ray instance for the module (start-up costs seconds). Its workers see the
    fixture plugins; FB_FIXTURE_KILL makes only the fixture-killer model kill its worker."""
    import shutil

    ray = _ray()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no ~/.ray/auth_token for a throwaway cluster
    folder = _short_dir()
    env = {"PYTHONPATH": str(plugin_site), "FUSIONBENCH_DISABLE_PLUGINS": DISABLED, "FB_FIXTURE_KILL": "1"}
    ray.init(
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=folder,
        runtime_env={"env_vars": env},
    )
    yield ray
    ray.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def local_ray(ray_cluster, good_fixture_only):
    return ray_cluster


def test_ray_runs_give_the_same_numbers_as_inline(local_ray, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite", seeds=[0, 1])
    summary = run_plan(
        registry,
        plan,
        RunOptions(results_dir=tmp_path / "ray-results", executor="ray", executor_options={"gpus_per_run": 0}),
    )
    assert summary.counts == {"ok": 4}
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "inline", executor="inline"))
    a = read_scores(tmp_path / "ray-results").sort_values(["run_key", "image_id"])["value"].to_numpy()
    b = read_scores(tmp_path / "inline").sort_values(["run_key", "image_id"])["value"].to_numpy()
    assert (a == b).all()
    assert set(latest_runs(tmp_path / "ray-results")["executor"]) == {"ray"}
    assert any((tmp_path / "ray-results" / "previews").rglob("*.png"))  # previews came back too


def test_gpu_runs_are_refused_on_a_cluster_without_gpus(local_ray, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(registry, "fixture-suite")
    with pytest.raises(FusionbenchError, match="ask for 1 GPU each but the Ray cluster has 0 GPUs"):
        run_plan(
            registry, plan, RunOptions(results_dir=tmp_path / "r", executor="ray", executor_options={"gpus_per_run": 1})
        )


def test_a_killed_ray_worker_fails_only_its_run(local_ray, tmp_path, monkeypatch):
    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-killer", "fixture-lms")]
    plan = plan_suite(registry, "fixture-suite", models=models)
    summary = run_plan(
        registry,
        plan,
        RunOptions(results_dir=tmp_path / "r", executor="ray", retries=0, executor_options={"gpus_per_run": 0}),
    )
    assert summary.counts == {"ok": 1, "crashed": 1}
    assert set(read_scores(tmp_path / "r")["model"]) == {"fixture-lms"}
