"""Ranking, mean ± std over images and seeds, and refusal to rank incomparable rows."""

from __future__ import annotations

import pandas as pd
import pytest

from fusionbench.results.leaderboard import build_leaderboard


def _rows(model: str, values: list[float], seed: int = 0, **overrides) -> list[dict]:
    base = {
        "dataset": "d",
        "model": model,
        "model_params_json": "{}",
        "sampler": None,
        "sampler_params_json": None,
        "metric": "sam",
        "higher_is_better": False,
        "data_sha256": "h1",
        "metric_version": "1",
        "metric_params_json": '{"dim_cut":0}',
        "card_json": "{}",
        "base_seed": seed,
        "run_key": f"{model}{seed}",
    }
    return [{**base, "image_id": f"i{i}", "value": v, **overrides} for i, v in enumerate(values)]


def test_ranks_follow_the_metric_direction_and_aggregate_over_images_and_seeds():
    scores = pd.DataFrame(_rows("a", [1.0, 3.0]) + _rows("a", [2.0, 2.0], seed=1) + _rows("b", [5.0, 5.0]))
    board = build_leaderboard(scores)
    table = board.table.set_index("method")
    assert table.loc["a", "mean"] == pytest.approx(2.0)
    assert table.loc["a", "std"] == pytest.approx(
        pd.Series([1.0, 3.0, 2.0, 2.0]).std(ddof=1), abs=5e-5
    )  # published precision
    assert table.loc["a", "n_seeds"] == 2 and table.loc["a", "n_images"] == 2
    assert table.loc["a", "rank"] == 1 and table.loc["b", "rank"] == 2  # SAM: lower is better
    assert not board.problems
    higher = pd.DataFrame(
        _rows("a", [1.0], metric="q2n", higher_is_better=True) + _rows("b", [2.0], metric="q2n", higher_is_better=True)
    )
    assert build_leaderboard(higher).table.set_index("method").loc["b", "rank"] == 1


@pytest.mark.parametrize(
    "column, other",
    [
        ("data_sha256", "h2"),
        ("metric_version", "2"),
        ("metric_params_json", '{"dim_cut":30}'),
        ("card_json", '{"ratio":8}'),
    ],
)
def test_incomparable_rows_are_not_ranked_and_the_reason_names_the_constant(column, other):
    scores = pd.DataFrame(_rows("a", [1.0, 2.0]) + _rows("b", [3.0, 4.0], **{column: other}))
    board = build_leaderboard(scores)
    assert board.table["rank"].isna().all()
    assert len(board.problems) == 1 and column in board.problems[0] and "d/sam" in board.problems[0]


def test_a_nan_score_is_shown_counted_and_not_ranked_instead_of_crashing():
    import math

    from fusionbench.results.render.text import board_text

    nan = float("nan")
    scores = pd.DataFrame(_rows("a", [1.0, nan, 3.0]) + _rows("b", [5.0, 5.0, 5.0]) + _rows("c", [nan, nan, nan]))
    board = build_leaderboard(scores)
    table = board.table.set_index("method")
    assert table.loc["a", "n_nan"] == 1 and table.loc["a", "mean"] == pytest.approx(2.0)  # over the finite values
    assert (
        pd.isna(table.loc["a", "rank"]) and "1 NaN of 3" in table.loc["a", "flag"] and not table.loc["a", "comparable"]
    )
    assert table.loc["b", "rank"] == 1  # the only complete row is ranked
    assert math.isnan(table.loc["c", "mean"]) and table.loc["c", "n_nan"] == 3
    markdown = board_text(board, "s", "markdown")
    assert "NaN" in markdown and "1 NaN of 3" in markdown
    csv = board_text(board, "s", "csv").splitlines()
    assert "n_nan" in csv[0].split(",") and any(line.startswith("d,c,sam,NaN,NaN,3,3") for line in csv)


def test_runs_over_other_images_are_flagged_and_not_ranked_with_the_rest():
    from fusionbench.results.render.text import board_grid, board_text

    six = [2.0] * 6
    scores = pd.DataFrame(_rows("a", six) + _rows("b", [3.0] * 6) + _rows("one-item", [0.1]))
    board = build_leaderboard(scores)
    table = board.table.set_index("method")
    assert pd.isna(table.loc["one-item", "rank"]) and "other images (1 vs 6)" in table.loc["one-item", "flag"]
    assert table.loc["a", "rank"] == 1 and table.loc["b", "rank"] == 2
    assert any("one-item" in p and "different set" in p for p in board.problems)
    grid = board_grid(board, "d")
    row = next(r for r in grid.rows if r.method == "one-item")
    assert row.position == "-" and row.n_images == "1" and not row.cells[0].best
    assert "±" not in row.cells[0].text and pd.isna(table.loc["one-item", "std"])  # one image: no "± 0.0000"
    assert [r.method for r in grid.rows][:2] == ["a", "b"]
    header = board_text(board, "s", "csv").splitlines()[0].split(",")
    assert {"n_images", "comparable"} <= set(header)
    # same number of images but other ids is not comparable either
    other = pd.DataFrame(
        _rows("a", [1.0, 1.0])
        + _rows("b", [2.0, 2.0])
        + [{**r, "image_id": "x" + r["image_id"]} for r in _rows("c", [0.0, 0.0])]
    )
    assert pd.isna(build_leaderboard(other).table.set_index("method").loc["c", "rank"])


def _catalog():
    from fusionbench.results.labels import SpecCatalog
    from fusionbench.specs import ParamSpec

    class Spec:
        def __init__(self, name, params, default_sampler=None, default_sampler_params=None, url=""):
            self.name, self.params, self.url = name, params, url
            self.default_sampler, self.default_sampler_params = default_sampler, default_sampler_params or {}

    models = [
        Spec("c-gsa", {"clusters": ParamSpec(5, "int"), "seed": ParamSpec(0, "int")}, url="https://example.org/cgsa"),
        Spec("ddif", {"preset": ParamSpec("tiny"), "checkpoint": ParamSpec("", "path")}, "ddim", {"steps": 25}),
    ]
    samplers = [Spec("ddim", {"steps": ParamSpec(50, "int"), "eta": ParamSpec(0.0, "float")})]
    return SpecCatalog.from_specs(models, samplers)


def test_labels_keep_only_parameters_that_differ_from_the_defaults_and_never_collide():
    from fusionbench.results.labels import short_labels

    frame = pd.DataFrame(
        [
            {"model": "c-gsa", "model_params_json": '{"clusters":5,"seed":0}'},
            {"model": "c-gsa", "model_params_json": '{"clusters":7,"seed":0}'},
            {"model": "ddif", "model_params_json": '{"checkpoint":"","preset":"tiny"}', "sampler": "ddim",
             "sampler_params_json": '{"eta":0.0,"steps":25}'},
            {"model": "ddif", "model_params_json": '{"checkpoint":"","preset":"tiny"}', "sampler": "ddim",
             "sampler_params_json": '{"eta":0.0,"steps":10}'},
        ]
    )  # fmt: skip
    assert list(short_labels(frame, _catalog())) == ["c-gsa", "c-gsa[clusters=7]", "ddif+ddim", "ddif+ddim[steps=10]"]
    # without defaults (plugin not installed here): the parameters that vary between rows
    assert list(short_labels(frame)) == [
        "c-gsa[clusters=5]",
        "c-gsa[clusters=7]",
        "ddif+ddim[steps=25]",
        "ddif+ddim[steps=10]",
    ]
    # two specs that differ only in something a label does not show still get two labels
    versions = pd.DataFrame([{"model": "m", "model_params_json": "{}", "model_version": v} for v in ("1", "2")])
    labels = list(short_labels(versions))
    assert len(set(labels)) == 2 and all(label.startswith("m") for label in labels)
    weights = pd.DataFrame([{"model": "m", "model_params_json": "{}", "weights_sha256_json": f'["{w}"]'} for w in "ab"])
    assert len(set(short_labels(weights))) == 2


def test_the_board_carries_the_full_spec_and_source_link():
    rows = _rows("c-gsa", [1.0, 2.0], model_params_json='{"clusters":7,"seed":0}')
    table = build_leaderboard(pd.DataFrame(rows), _catalog()).table
    assert table["method"].tolist() == ["c-gsa[clusters=7]"]
    assert table["spec"].tolist() == ["c-gsa[clusters=7,seed=0]"] and table["url"].tolist() == [
        "https://example.org/cgsa"
    ]


def test_published_values_are_rounded_ties_are_broken_by_label_and_input_order_does_not_matter():
    from fusionbench.results.render.export import parquet_bytes
    from fusionbench.results.render.text import board_text

    rows = _rows("zeta", [1.00001, 1.00001]) + _rows("alpha", [1.00002, 1.00002]) + _rows("mid", [2.0, 2.0])
    board = build_leaderboard(pd.DataFrame(rows))
    table = board.table.set_index("method")
    assert table.loc["zeta", "mean"] == 1.0 and table.loc["alpha", "rank"] == table.loc["zeta", "rank"] == 1
    assert list(board.table["method"]) == ["alpha", "zeta", "mid"]
    shuffled = build_leaderboard(pd.DataFrame(rows).sample(frac=1.0, random_state=3))
    for fmt in ("markdown", "csv"):
        assert board_text(board, "s", fmt) == board_text(shuffled, "s", fmt)
    assert parquet_bytes(board, "s") == parquet_bytes(shuffled, "s")


def test_markdown_escapes_pipes_in_labels():
    from fusionbench.results.render.text import board_text

    board = build_leaderboard(pd.DataFrame(_rows("odd|name", [1.0])))
    line = next(line for line in board_text(board, "s", "markdown").splitlines() if "odd" in line)
    assert "odd\\|name" in line
    assert not any(
        line.startswith("# ") for line in board_text(board, "s", "markdown").splitlines()
    )  # no stray heading
    cells = line.replace("\\|", "").split("|")
    assert len(cells) == 2 + 4  # "#", method, n, one metric, and the row's borders
