"""Charts and comparison panels are drawn from real results."""

from __future__ import annotations

from PIL import Image

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import read_scores
from fusionbench.results.render.plots import write_plots


def test_plots_and_comparison_panel(good_fixture_only, tmp_path):
    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.05]")]
    run_plan(
        registry,
        plan_suite(registry, "fixture-suite", models=models),
        RunOptions(results_dir=tmp_path / "r", executor="inline"),
    )
    scores = read_scores(tmp_path / "r")
    written = write_plots(scores, tmp_path / "r", "fixture-suite", tmp_path / "plots")
    names = sorted(p.name for p in written)
    assert names == [
        "fixture-suite-fixture-scenes-comparison.png",
        "fixture-suite-fixture-scenes-fixture-mae-vs-time.png",
    ]
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


def test_an_outlier_does_not_squash_the_axis():
    from fusionbench.results.render.plots import robust_limits

    means = [3.5, 3.6, 3.8, 3.9, 5.1, 7.2, 11.5, 76.9]  # ERGAS of the synthetic gf2 board, HPM-R last
    stds = [0.2, 0.3, 0.3, 0.2, 0.2, 2.5, 8.1, 136.1]
    lo, hi = robust_limits(means, stds)
    assert hi < 30 and lo < 3.5 and lo > 0  # 76.9 is drawn as an arrow at the edge, not on the scale
    assert robust_limits([1.0, 1.1, 1.2, 1.3], [0.1] * 4) is None  # nothing to clip: matplotlib's limits


def test_the_panel_shows_the_inputs_the_top_ranked_and_the_named_methods(good_fixture_only, tmp_path):

    from fusionbench.results.leaderboard import build_leaderboard
    from fusionbench.results.render.plots import _panel_sources, panel_methods

    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.5]", "fixture-noisy[sigma=0.05]")]
    run_plan(
        registry,
        plan_suite(registry, "fixture-suite", models=models),
        RunOptions(results_dir=tmp_path / "r", executor="inline"),
    )
    scores = read_scores(tmp_path / "r")
    board = build_leaderboard(scores)
    order = board.methods_for("fixture-scenes")
    assert panel_methods(board, "fixture-scenes", top=1) == order[:1]
    assert panel_methods(board, "fixture-scenes", top=1, named=[order[-1], "no-such"]) == [order[0], order[-1]]
    run_key = scores["run_key"].iloc[0]
    from fusionbench.results.previews import preview_dir

    folder = preview_dir(tmp_path / "r", "fixture-suite", run_key)
    image_id = sorted(scores["image_id"])[0]
    sources = [name for name, _ in _panel_sources(folder, image_id, folder / f"{image_id}.png")]
    assert sources == ["PAN", "LMS"]  # the low-resolution MS is left out; grey sources first
