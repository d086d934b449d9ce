"""``fusionbench score``: score fused images saved elsewhere as a normal run of a suite.

The outputs are read, matched to the dataset's items and validated first (every problem is one
line naming the file and item, and nothing is written); then the run goes through the runner like
any other, so it resumes, is recorded, logged to MLflow and ranked. See
:mod:`fusionbench.engine.outputs_in` for the formats and the matching rules.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from fusionbench import settings

from .common import console, data_root_option, print_registry_problems, registry, results_option


@click.command()
@click.option("--suite", "suite_name", required=True, help="suite whose metrics score the outputs, e.g. reduced-res")
@click.option(
    "--dataset", "dataset", required=True, help="the dataset the outputs were fused from: NAME or NAME[k=v,...]"
)
@click.option("--name", "name", required=True, help='method label in leaderboards, e.g. "MyNet (ours)"')
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--key", help="variable holding the fused image in .mat/.h5 files (default: fused, sr, output, ... or the only one)"
)
@click.option("--scale", type=float, help="multiply the stored values by this, e.g. 2047 for outputs saved as DN/2047")
@click.option("--glob", "glob", help="only files matching this pattern; its '*' is the item id, e.g. '*_GFF.jpg'")
@click.option("--max-items", type=int, help="score only the first N items of the dataset (as `run --max-items`)")
@click.option("--force", is_flag=True, help="score again even if these outputs were already scored (a new attempt)")
@results_option
@data_root_option
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
@click.pass_context
def score(
    ctx: click.Context,
    suite_name: str,
    dataset: str,
    name: str,
    path: Path,
    key: str | None,
    scale: float | None,
    glob: str | None,
    max_items: int | None,
    force: bool,
    results_dir: Path | None,
    data_root: Path | None,
    no_mlflow: bool,
) -> None:
    """Score saved outputs (a folder of per-item files or one stack) on a dataset of a suite.

    \b
    fusionbench score --suite reduced-res --dataset wv3-rr --name "MyNet (ours)" results/mynet/
    fusionbench score --suite ivf-vifb --dataset vifb --name GFF --glob '*_GFF.jpg' vifb/fused/
    """
    from fusionbench.engine.outputs_in import OutputsExecutor, ScoreRequest, prepare_score
    from fusionbench.engine.runner import Listener, RunOptions, pending_jobs, run_plan

    from .render import print_leaderboard
    from .reported import reported_for_cli

    loaded = registry(ctx, disabled=["mlflow"]) if no_mlflow else registry(ctx)
    out = console()
    print_registry_problems(out, loaded)
    results = settings.results_dir(results_dir)
    request = ScoreRequest(
        suite=suite_name,
        dataset=dataset,
        name=name,
        path=path,
        key=key,
        scale=scale,
        glob=glob,
        data_root=settings.data_root(data_root),
        max_items=max_items,
    )
    prepared = prepare_score(loaded, request)
    run = prepared.run
    for warning in prepared.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}")
    out.print(f"{escape(str(path))}: {escape(prepared.outputs.description)}", soft_wrap=True)
    jobs, n_done = pending_jobs(prepared.plan, results, force)
    if not jobs:
        out.print(f"already scored (run {run.run_key}); --force scores again as a new attempt")
    records: list[Any] = []
    options = RunOptions(results_dir=results, executor="outputs", force=force, argv=tuple(sys.argv))
    summary = run_plan(
        loaded, prepared.plan, options, Listener(on_record=records.append), executor=OutputsExecutor(loaded, prepared)
    )
    for error in summary.observer_errors:
        out.print(f"[yellow]plugin hook error:[/] {escape(error)}")
    for record in records:
        if record.outcome.status != "ok":
            out.print(
                f"[red]{record.outcome.status}[/] {escape(record.label)}: {escape(record.outcome.error_type or '')}: "
                f"{escape(record.outcome.error_message or '')}"
            )
            sys.exit(1)
        out.print(
            f"scored {record.outcome.n_images_scored} items as [bold]{escape(name)}[/] (scored from outputs), "
            f"run {run.run_key} -> {escape(str(results))}"
        )
    print_leaderboard(
        out, results, suite_name, fmt="table", dataset=run.dataset.name, reported=reported_for_cli(out, loaded)
    )
