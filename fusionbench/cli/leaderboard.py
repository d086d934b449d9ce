"""``fusionbench leaderboard show|export|publish|plots``: ranked tables from the results folder."""

from __future__ import annotations

from pathlib import Path

import click

from fusionbench import settings
from fusionbench.errors import FusionbenchError

from .common import console, results_option


@click.group()
def leaderboard() -> None:
    """Ranked tables built from the results folder."""


@leaderboard.command("show")
@click.option("--suite", "suite_name", help="only this suite")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv"]), default="table", show_default=True)
@results_option
def leaderboard_show(suite_name: str | None, fmt: str, results_dir: Path | None) -> None:
    """Mean ± std per method, dataset and metric; best in bold, arrows show direction."""
    from .render import print_leaderboard

    if not print_leaderboard(console(), settings.results_dir(results_dir), suite_name, fmt=fmt):
        raise FusionbenchError("no results found; run `fusionbench run --suite reduced-res` first")


@leaderboard.command("export")
@click.option("--suite", "suite_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv", "html", "parquet"]), required=True)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="file to write")
@results_option
def leaderboard_export(suite_name: str, fmt: str, out: Path, results_dir: Path | None) -> None:
    """Write one suite's leaderboard as Markdown, CSV, a self-contained HTML page, or Parquet."""
    from fusionbench.results.render.export import export_board

    export_board(settings.results_dir(results_dir), suite_name, fmt, out)
    click.echo(f"wrote {out}")


@leaderboard.command("publish")
@click.option("--suite", "suite_name", required=True)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("leaderboards"), show_default=True)
@results_option
def leaderboard_publish(suite_name: str, folder: Path, results_dir: Path | None) -> None:
    """Write <dir>/<suite>.{parquet,md,csv,html}: the published tables of a suite."""
    from fusionbench.results.render.export import export_board

    from fusionbench.results.render.plots import write_plots
    from fusionbench.results.reader import read_scores

    results = settings.results_dir(results_dir)
    for fmt, suffix in (("parquet", "parquet"), ("markdown", "md"), ("csv", "csv"), ("html", "html")):
        path = folder / f"{suite_name}.{suffix}"
        export_board(results, suite_name, fmt, path)
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
