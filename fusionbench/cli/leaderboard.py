"""``fusionbench leaderboard show|export|publish|plots``: ranked tables from the results folder."""

from __future__ import annotations

from pathlib import Path

import click

from fusionbench import settings
from fusionbench.errors import FusionbenchError

from .common import console, registry, results_option
from .reported import leaderboard_reported


@click.group()
def leaderboard() -> None:
    """Ranked tables built from the results folder."""


@leaderboard.command("show")
@click.option("--suite", "suite_name", help="only this suite")
@click.option("--dataset", "dataset", help="only this dataset (its published numbers are shown even before any run)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv"]), default="table", show_default=True)
@results_option
@click.pass_context
def leaderboard_show(ctx: click.Context, suite_name: str | None, dataset: str | None, fmt: str, results_dir: Path | None) -> None:
    """Mean ± std per method, dataset and metric; best in bold, arrows show direction; published
    numbers of the same datasets below, in their own block (never ranked)."""
    from .render import print_leaderboard
    from .reported import reported_for_cli

    out = console()
    reported = reported_for_cli(out, registry(ctx))
    if not print_leaderboard(out, settings.results_dir(results_dir), suite_name, fmt=fmt, dataset=dataset, reported=reported):
        where = f" for dataset {dataset!r}" if dataset else ""
        raise FusionbenchError(f"no results found{where}; run `fusionbench run --suite reduced-res` first")


@leaderboard.command("export")
@click.option("--suite", "suite_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv", "html", "parquet"]), required=True)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="file to write")
@results_option
@click.pass_context
def leaderboard_export(ctx: click.Context, suite_name: str, fmt: str, out: Path, results_dir: Path | None) -> None:
    """Write one suite's leaderboard as Markdown, CSV, a self-contained HTML page, or Parquet."""
    from fusionbench.results.render.export import export_board

    from .reported import reported_for_cli

    reported = reported_for_cli(console(), registry(ctx))
    export_board(settings.results_dir(results_dir), suite_name, fmt, out, reported=reported)
    click.echo(f"wrote {out}")


@leaderboard.command("publish")
@click.option("--suite", "suite_name", required=True)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("leaderboards"), show_default=True)
@results_option
@click.pass_context
def leaderboard_publish(ctx: click.Context, suite_name: str, folder: Path, results_dir: Path | None) -> None:
    """Write <dir>/<suite>.{parquet,md,csv,html} (and <suite>-reported.csv: the published numbers
    of its datasets): the published tables of a suite."""
    from fusionbench.results.render.export import export_board, export_reported

    from fusionbench.results.render.plots import write_plots
    from fusionbench.results.reader import read_scores

    from .reported import reported_for_cli

    results = settings.results_dir(results_dir)
    reported = reported_for_cli(console(), registry(ctx))
    for fmt, suffix in (("parquet", "parquet"), ("markdown", "md"), ("csv", "csv"), ("html", "html")):
        path = folder / f"{suite_name}.{suffix}"
        export_board(results, suite_name, fmt, path, reported=reported)
        click.echo(f"wrote {path}")
    path = export_reported(results, suite_name, reported, folder / f"{suite_name}-reported.csv")
    if path is not None:
        click.echo(f"wrote {path}")
    plots = write_plots(read_scores(results, suite_name), results, suite_name, folder / f"{suite_name}-plots")
    click.echo(f"wrote {len(plots)} plots to {folder / f'{suite_name}-plots'}")


@leaderboard.command("plots")
@click.option("--suite", "suite_name", required=True)
@click.option("--out", "folder", type=click.Path(path_type=Path), required=True, help="folder for the PNG files")
@results_option
def leaderboard_plots(suite_name: str, folder: Path, results_dir: Path | None) -> None:
    """Quality-vs-time and quality-vs-steps charts, and comparison panels with error maps."""
    from fusionbench.results.render.plots import write_plots
    from fusionbench.results.reader import read_scores

    results = settings.results_dir(results_dir)
    scores = read_scores(results, suite_name)
    if scores.empty:
        raise FusionbenchError(f"no finished runs of suite {suite_name!r} under {results}")
    for path in write_plots(scores, results, suite_name, folder):
        click.echo(f"wrote {path}")


leaderboard.add_command(leaderboard_reported)
