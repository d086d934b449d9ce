"""What the terminal shows: labels printed literally (never as markup), tables that keep the
method column readable at 80 columns, and the skip summary that stays short."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pandas as pd
from rich.console import Console

from fusionbench.cli.render import components_table, info_panel, plugins_table, rich_board_tables
from fusionbench.results.leaderboard import build_leaderboard
from fusionbench.results.render.text import board_grid

METRICS = [("sam", False), ("ergas", False), ("q2n", True), ("q-avg", True), ("scc", True), ("psnr", True)]


def _scores(methods: list[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for index, (model, params) in enumerate(methods):
        for metric, higher in METRICS:
            for image in range(3):
                rows.append(
                    {
                        "suite": "s", "dataset": "synthetic-gf2-rr", "model": model, "model_params_json": params,
                        "sampler": None, "sampler_params_json": None, "metric": metric, "higher_is_better": higher,
                        "data_sha256": "h", "metric_version": "1", "metric_params_json": "{}", "card_json": "{}",
                        "base_seed": 0, "run_key": f"k{index}", "image_id": f"i{image}",
                        "value": 30.123456 + index + image if metric == "psnr" else 0.1 * (index + 1) + 0.01 * image,
                        "dataset_synthetic": True,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def _render(*renderables, width: int = 80) -> str:
    out = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    for renderable in renderables:
        out.print(renderable)
    return out.file.getvalue()


def test_labels_with_brackets_print_literally_and_the_method_column_survives_80_columns():
    methods = [
        ("c-gsa", '{"clusters":3}'),
        ("c-gsa", '{"clusters":7}'),
        ("evil[/", "{}"),
        ("a-rather-long-method-name-variant", "{}"),
    ]
    board = build_leaderboard(_scores(methods))
    tables = rich_board_tables(board_grid(board, "synthetic-gf2-rr"), "s", 80)
    assert len(tables) > 1  # six "mean ± std" columns do not fit in 80 columns: split, not squeezed
    text = _render(*tables)
    for label in ("c-gsa[clusters=3]", "c-gsa[clusters=7]", "evil[/", "a-rather-long-method-name-variant"):
        assert label in text, text
    assert max(len(line) for line in text.splitlines()) <= 80
    for metric, _ in METRICS:
        assert metric in text


def test_print_leaderboard_says_what_the_rank_means(tmp_path, monkeypatch):
    import fusionbench.cli.render as render

    scores = _scores([("a", "{}"), ("b[/x", "{}")])
    monkeypatch.setattr("fusionbench.results.reader.read_scores", lambda *a, **k: scores)
    out = Console(file=io.StringIO(), width=80, color_system=None)
    assert render.print_leaderboard(out, tmp_path, "s")
    text = out.file.getvalue()
    assert "# = position by average rank" in text and "b[/x" in text


def test_plugin_and_component_text_is_never_parsed_as_markup():
    status = SimpleNamespace(
        name="p[/", dist="d[/b]", version="1", state="broken", short_error="boom [/red] [bold]", components={}
    )
    registry = SimpleNamespace(statuses=[status], all=lambda kind: [])
    assert "boom [/red] [bold]" in _render(plugins_table(registry), width=200)
    from fusionbench.specs import ModelSpec

    spec = ModelSpec(
        name="m[/]",
        version="1",
        tasks=frozenset({"pansharpening"}),
        factory="x:y",
        description="uses [/path] and [bold]",
    )
    entry = SimpleNamespace(spec=spec, plugin="p", dist="d", dist_version="1", name="m[/]")
    assert "uses [/path] and [bold]" in _render(components_table("models", [entry]), width=300)
    text = _render(info_panel(entry, SimpleNamespace(all=lambda kind: [])), width=200)
    assert "uses [/path] and [bold]" in text and "m[/]" in text


def test_publishing_unchanged_results_twice_writes_identical_files(good_fixture_only, tmp_path):
    from click.testing import CliRunner

    from fusionbench.cli import cli
    from fusionbench.engine.planner import Selection, plan_suite
    from fusionbench.engine.runner import RunOptions, run_plan
    from fusionbench.registry import load_registry

    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.5]", "fixture-noisy[sigma=0.05]")]
    run_plan(
        registry,
        plan_suite(registry, "fixture-suite", models=models),
        RunOptions(results_dir=tmp_path / "r", executor="inline"),
    )
    for name in ("a", "b"):
        result = CliRunner().invoke(
            cli,
            [
                "leaderboard",
                "publish",
                "--suite",
                "fixture-suite",
                "--results",
                str(tmp_path / "r"),
                "--dir",
                str(tmp_path / name),
            ],
        )
        assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert {f.suffix for f in files} == {".parquet", ".md", ".csv", ".html", ".png"}
    for relative in files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative
