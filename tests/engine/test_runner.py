"""The coordinator with the inline executor: results on disk, resume, --force, bad outputs."""

from __future__ import annotations

import json

import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs, read_scores


@pytest.fixture
def registry(good_fixture_only):
    return load_registry(disabled=["mlflow"])


def _run(registry, tmp_path, force=False, **plan_kwargs):
    plan = plan_suite(registry, "fixture-suite", **plan_kwargs)
    options = RunOptions(results_dir=tmp_path / "results", executor="inline", force=force)
    return plan, run_plan(registry, plan, options)


def test_inline_run_writes_long_scores_with_provenance(registry, tmp_path):
    plan, summary = _run(registry, tmp_path)
    assert summary.counts == {"ok": 2}
    scores = read_scores(tmp_path / "results", "fixture-suite")
    assert len(scores) == 2 * 3  # 2 models x 3 images x 1 metric
    row = scores[scores["model"] == "fixture-noisy"].iloc[0]
    assert row["data_sha256"] == plan.runs[0].data_sha256
    assert row["model_dist"] == "fb-fixture-plugins" and row["model_dist_version"] == "0.0.1"
    assert json.loads(row["model_params_json"]) == {"sigma": 0.1}
    assert row["fusionbench_version"] == "0.1.0"
    assert row["device"] == "cpu" and row["run_wall_s"] > 0 and row["image_wall_s"] > 0
    assert row["metric"] == "fixture-mae" and row["higher_is_better"] == False  # noqa: E712
    assert scores["seed"].nunique() == 6  # a seed per (run, image)
    # the exact numbers: LMS model's MAE against the fixture reference
    import numpy as np
    from fb_fixture.components import FixtureDataset

    items = list(FixtureDataset().items("test"))
    expected = np.mean([np.abs(i.inputs["lms"] - i.reference).mean() for i in items])
    got = scores[scores["model"] == "fixture-lms"]["value"].mean()
    assert got == pytest.approx(expected, rel=1e-12)


def test_rerun_skips_finished_runs_and_force_redoes_them(registry, tmp_path):
    _run(registry, tmp_path)
    _, again = _run(registry, tmp_path)
    assert again.counts == {} and again.skipped_done == 2
    _, forced = _run(registry, tmp_path, force=True)
    assert forced.counts == {"ok": 2}
    runs = latest_runs(tmp_path / "results")
    assert set(runs["attempt"]) == {2}
    # the leaderboard reader sees one attempt per run, never duplicates
    assert len(read_scores(tmp_path / "results")) == 2 * 3


def test_same_seed_same_numbers(registry, tmp_path):
    _run(registry, tmp_path / "a", models=[Selection.parse("fixture-noisy")])
    _run(registry, tmp_path / "b", models=[Selection.parse("fixture-noisy")])
    a = read_scores(tmp_path / "a" / "results").sort_values("image_id")["value"].to_numpy()
    b = read_scores(tmp_path / "b" / "results").sort_values("image_id")["value"].to_numpy()
    assert (a == b).all()
    _run(registry, tmp_path / "c", models=[Selection.parse("fixture-noisy")], seeds=[7])
    c = read_scores(tmp_path / "c" / "results").sort_values("image_id")["value"].to_numpy()
    assert not (a == c).all()


def test_non_finite_output_is_recorded_as_invalid_not_scored(registry, tmp_path):
    _, summary = _run(registry, tmp_path, models=[Selection.parse("fixture-nan"), Selection.parse("fixture-lms")])
    assert summary.counts == {"invalid_output": 1, "ok": 1}
    runs = latest_runs(tmp_path / "results").set_index("label")
    bad = runs.loc[[label for label in runs.index if label.startswith("fixture-nan")][0]]
    assert bad["error_type"] == "InvalidModelOutput"
    assert "non-finite" in bad["error_message"] and "fixture-scenes/img0" in bad["error_message"]
    assert set(read_scores(tmp_path / "results")["model"]) == {"fixture-lms"}
    # a rerun retries the invalid run (attempt 2) and skips the good one
    _, again = _run(registry, tmp_path, models=[Selection.parse("fixture-nan"), Selection.parse("fixture-lms")])
    assert again.counts == {"invalid_output": 1} and again.skipped_done == 1


def test_an_observer_that_raises_never_fails_the_benchmark(good_fixture_only, tmp_path):
    from fusionbench import hookimpl

    class Exploding:
        @hookimpl
        def fusionbench_run_finished(self, run, record, scores_path, session):
            raise RuntimeError("logger down")

    registry = load_registry(disabled=["mlflow"], extra_plugins=[("exploding", Exploding())])
    plan, summary = _run(registry, tmp_path)
    assert summary.counts == {"ok": 2}
    assert any("logger down" in e for e in summary.observer_errors)
    runs = latest_runs(tmp_path / "results")
    assert all("logger down" in e for e in runs["observer_errors_json"])


def test_a_model_that_raises_fails_its_run_with_the_error_and_traceback(registry, tmp_path):
    _, summary = _run(registry, tmp_path, models=[Selection.parse("fixture-raise"), Selection.parse("fixture-lms")])
    assert summary.counts == {"failed": 1, "ok": 1}
    runs = latest_runs(tmp_path / "results")
    failed = runs[runs["status"] == "failed"].iloc[0]
    assert failed["error_type"] == "ValueError"
    assert "always fails" in failed["error_message"]
    assert "components.py" in failed["traceback"]


def test_results_folder_turning_read_only_stops_cleanly_and_keeps_what_was_written(registry, tmp_path, readonly_dir):
    from fusionbench.errors import ResultsError

    results = tmp_path / "results"
    _run(registry, tmp_path, models=[Selection.parse("fixture-lms")])
    before = read_scores(results)
    plan = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy")])
    with pytest.raises(ResultsError, match="not writable"):
        run_plan(registry, plan, RunOptions(results_dir=readonly_dir / "results", executor="inline"))
    # the earlier results are untouched and a rerun into a writable folder finishes the rest
    assert read_scores(results).equals(before)
    _, summary = _run(registry, tmp_path, models=[Selection.parse("fixture-lms"), Selection.parse("fixture-noisy")])
    assert summary.counts == {"ok": 1} and summary.skipped_done == 1


def _same_model_from(dist: str):
    from fusionbench import ModelSpec, hookimpl

    class Provider:
        __fusionbench_dist__ = dist
        __fusionbench_dist_version__ = "1.0"

        @hookimpl
        def fusionbench_register_models(self):
            return [
                ModelSpec(
                    name="twin",
                    version="1",
                    tasks=frozenset({"pansharpening"}),
                    factory="fb_fixture.components:NoisyModel",
                )
            ]

    return Provider()


@pytest.mark.parametrize("dists", [("dist-a", "dist-b"), ("same-dist", "same-dist")])
def test_two_plugins_registering_the_same_name_and_version_do_not_share_results(good_fixture_only, tmp_path, dists):
    """Picking the other side of a conflict is a different run, never 'already done' with the
    first plugin's numbers."""
    registry = load_registry(
        disabled=["mlflow"],
        extra_plugins=[("provider-a", _same_model_from(dists[0])), ("provider-b", _same_model_from(dists[1]))],
    )
    assert [c.name for c in registry.conflicts] == ["twin"]
    first = plan_suite(registry, "fixture-suite", models=[Selection.parse("provider-a:twin")])
    second = plan_suite(registry, "fixture-suite", models=[Selection.parse("provider-b:twin")])
    assert first.runs[0].run_key != second.runs[0].run_key
    options = RunOptions(results_dir=tmp_path / "results", executor="inline")
    assert run_plan(registry, first, options).counts == {"ok": 1}
    again = run_plan(registry, second, options)
    assert again.counts == {"ok": 1} and again.skipped_done == 0
    scores = read_scores(tmp_path / "results")
    assert set(scores["model_dist"]) == set(dists)
    # the provider changes the key, not the numbers: same configuration, same per-image seeds
    by_key = {key: group.sort_values("image_id")["value"].to_numpy() for key, group in scores.groupby("run_key")}
    a, b = by_key.values()
    assert (a == b).all()
