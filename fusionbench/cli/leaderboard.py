"""``fusionbench leaderboard show|export|publish|plots``: ranked tables from the results folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fusionbench import settings
from fusionbench.errors import FusionbenchError

if TYPE_CHECKING:
    from fusionbench.results.labels import SpecCatalog

from .common import console, registry, results_option
from .reported import leaderboard_reported, reported_for_cli


def _catalog(ctx: click.Context) -> SpecCatalog:
    """Parameter defaults and links of the installed components, for short method labels."""
    from fusionbench.results.labels import SpecCatalog

    return SpecCatalog.from_registry(registry(ctx))


methods_option = click.option(
    "--methods",
    "methods",
    multiple=True,
    help="methods (labels as in the table) always shown in the comparison panel, besides the top ranked",
)


@click.group()
def leaderboard() -> None:
    """Ranked tables built from the results folder."""


@leaderboard.command("show")
@click.option("--suite", "suite_name", help="only this suite")
@click.option("--dataset", "dataset", help="only this dataset (its published numbers are shown even before any run)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv"]), default="table", show_default=True)
@results_option
@click.pass_context
def leaderboard_show(
    ctx: click.Context, suite_name: str | None, dataset: str | None, fmt: str, results_dir: Path | None
) -> None:
    """Mean ± std per method, dataset and metric; best in bold, arrows show direction; published
    numbers of the same datasets below, in their own block (never ranked)."""
    from .render import print_leaderboard

    out = console()
    reported = reported_for_cli(out, registry(ctx))
    results = settings.results_dir(results_dir)
    if not print_leaderboard(
        out, results, suite_name, fmt=fmt, catalog=_catalog(ctx), dataset=dataset, reported=reported
    ):
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

    reported = reported_for_cli(console(), registry(ctx))
    export_board(settings.results_dir(results_dir), suite_name, fmt, out, _catalog(ctx), reported)
    click.echo(f"wrote {out}")


@leaderboard.command("publish")
@click.option("--suite", "suite_name", required=True)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("leaderboards"), show_default=True)
@click.option(
    "--plots/--no-plots",
    default=True,
    show_default=True,
    help="also write <dir>/<suite>-plots/ (quality-vs-time charts change with every rerun's timings)",
)
@methods_option
@results_option
@click.pass_context
def leaderboard_publish(
    ctx: click.Context, suite_name: str, folder: Path, plots: bool, methods: tuple[str, ...], results_dir: Path | None
) -> None:
    """Write <dir>/<suite>.{parquet,md,csv,html}, <dir>/<suite>-reported.csv (the published
    numbers of its datasets) and <dir>/<suite>-plots/: the published tables and charts of a suite
    (byte-identical when the results have not changed)."""
    from fusionbench.results.reader import read_scores
    from fusionbench.results.render.export import export_board, export_reported
    from fusionbench.results.render.plots import write_plots

    results = settings.results_dir(results_dir)
    catalog = _catalog(ctx)
    reported = reported_for_cli(console(), registry(ctx))
    for fmt, suffix in (("parquet", "parquet"), ("markdown", "md"), ("csv", "csv"), ("html", "html")):
        path = folder / f"{suite_name}.{suffix}"
        export_board(results, suite_name, fmt, path, catalog, reported)
        click.echo(f"wrote {path}")
    reported_csv = export_reported(results, suite_name, reported, folder / f"{suite_name}-reported.csv")
    if reported_csv is not None:
        click.echo(f"wrote {reported_csv}")
    if plots:
        written = write_plots(
            read_scores(results, suite_name),
            results,
            suite_name,
            folder / f"{suite_name}-plots",
            catalog=catalog,
            methods=methods,
        )
        click.echo(f"wrote {len(written)} plots to {folder / f'{suite_name}-plots'}")


@leaderboard.command("plots")
@click.option("--suite", "suite_name", required=True)
@click.option("--out", "folder", type=click.Path(path_type=Path), required=True, help="folder for the PNG files")
@methods_option
@results_option
@click.pass_context
def leaderboard_plots(
    ctx: click.Context, suite_name: str, folder: Path, methods: tuple[str, ...], results_dir: Path | None
) -> None:
    """Quality-vs-time and quality-vs-steps charts, and comparison panels with error maps."""
    from fusionbench.results.reader import read_scores
    from fusionbench.results.render.plots import write_plots

    results = settings.results_dir(results_dir)
    scores = read_scores(results, suite_name)
    if scores.empty:
        raise FusionbenchError(f"no finished runs of suite {suite_name!r} under {results}")
    for path in write_plots(scores, results, suite_name, folder, catalog=_catalog(ctx), methods=methods):
        click.echo(f"wrote {path}")


leaderboard.add_command(leaderboard_reported)
