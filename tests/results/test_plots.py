"""Charts and comparison panels are drawn from real results."""

from __future__ import annotations

from PIL import Image

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.registry import load_registry
from fusionbench.results.render.plots import write_plots
from fusionbench.results.reader import read_scores
from fusionbench.engine.runner import RunOptions, run_plan


def test_plots_and_comparison_panel(good_fixture_only, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.05]")]
    run_plan(registry, plan_suite(registry, "fixture-suite", models=models), RunOptions(results_dir=tmp_path / "r", executor="inline"))
    scores = read_scores(tmp_path / "r")
    written = write_plots(scores, tmp_path / "r", "fixture-suite", tmp_path / "plots")
    names = sorted(p.name for p in written)
    assert names == ["fixture-suite-fixture-scenes-comparison.png", "fixture-suite-fixture-scenes-fixture-mae-vs-time.png"]
    for path in written:
        with Image.open(path) as picture:
            assert picture.size[0] > 300 and picture.size[1] > 150


def test_error_maps_share_a_scale_and_are_zero_for_a_perfect_fusion():
    import numpy as np

    from fusionbench.results.previews import error_map

    reference = np.full((4, 8, 8), 1000.0)
    assert error_map(reference, reference, 2047.0).max() == 0
    off = error_map(reference + 0.1 * 2047.0, reference, 2047.0)
    assert (off == 255).all()  # saturates at 10 % of the range
