"""Ranking, mean ± std over images and seeds, and refusal to rank incomparable rows."""

from __future__ import annotations

import pandas as pd
import pytest

from fusionbench.results.leaderboard import build_leaderboard


def _rows(model: str, values: list[float], seed: int = 0, **overrides) -> list[dict]:
    base = {
        "dataset": "d", "model": model, "model_params_json": "{}", "sampler": None, "sampler_params_json": None,
        "metric": "sam", "higher_is_better": False, "data_sha256": "h1", "metric_version": "1",
        "metric_params_json": '{"dim_cut":0}', "card_json": "{}", "base_seed": seed, "run_key": f"{model}{seed}",
    }
    return [{**base, "image_id": f"i{i}", "value": v, **overrides} for i, v in enumerate(values)]


def test_ranks_follow_the_metric_direction_and_aggregate_over_images_and_seeds():
    scores = pd.DataFrame(_rows("a", [1.0, 3.0]) + _rows("a", [2.0, 2.0], seed=1) + _rows("b", [5.0, 5.0]))
    board = build_leaderboard(scores)
    table = board.table.set_index("method")
    assert table.loc["a", "mean"] == pytest.approx(2.0)
    assert table.loc["a", "std"] == pytest.approx(pd.Series([1.0, 3.0, 2.0, 2.0]).std(ddof=1))
    assert table.loc["a", "n_seeds"] == 2 and table.loc["a", "n_images"] == 2
    assert table.loc["a", "rank"] == 1 and table.loc["b", "rank"] == 2  # SAM: lower is better
    assert not board.problems
    higher = pd.DataFrame(_rows("a", [1.0], metric="q2n", higher_is_better=True) + _rows("b", [2.0], metric="q2n", higher_is_better=True))
    assert build_leaderboard(higher).table.set_index("method").loc["b", "rank"] == 1


@pytest.mark.parametrize(
    "column, other",
    [("data_sha256", "h2"), ("metric_version", "2"), ("metric_params_json", '{"dim_cut":30}'), ("card_json", '{"ratio":8}')],
)
def test_incomparable_rows_are_not_ranked_and_the_reason_names_the_constant(column, other):
    scores = pd.DataFrame(_rows("a", [1.0, 2.0]) + _rows("b", [3.0, 4.0], **{column: other}))
    board = build_leaderboard(scores)
    assert board.table["rank"].isna().all()
    assert len(board.problems) == 1 and column in board.problems[0] and "d/sam" in board.problems[0]
