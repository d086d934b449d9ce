"""``fusionbench run``: plan a suite, run what is pending, print the leaderboard.

The command's options become one :class:`RunArgs`; planning, executing and reporting are
separate functions so each stays readable and testable.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import click
from rich.markup import escape

from fusionbench import settings
from fusionbench.errors import FusionbenchError

from .common import console, data_root_option, print_registry_problems, registry, results_option, split_selection


@dataclass(frozen=True)
class RunArgs:
    """Everything ``fusionbench run`` was asked to do, as given on the command line."""

    suite_name: str
    models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    samplers: tuple[str, ...] = ()
    seeds: str | None = None
    max_items: int | None = None
    executor: str = "local"
    devices: str | None = None
    workers: int | None = None
    timeout_s: float | None = None
    retries: int = 1
    force: bool = False
    plan_only: bool = False
    results_dir: Path | None = None
    data_root: Path | None = None
    no_mlflow: bool = False
    show_skipped: bool = False

    @property
    def device_list(self) -> list[str] | None:
        return self.devices.split(",") if self.devices else None

    @property
    def results(self) -> Path:
        return settings.results_dir(self.results_dir)

    @property
    def root(self) -> Path | None:
        return settings.data_root(self.data_root)


@click.command()
@click.option("--suite", "suite_name", required=True, help="suite to run (see `fusionbench list suites`)")
@click.option("--models", "-m", multiple=True, help="models to run: NAME, NAME[k=v,...] or a pattern; repeatable or comma-separated")
@click.option("--datasets", "-d", multiple=True, help="datasets to run (names or patterns)")
@click.option(
    "--samplers",
    "-s",
    multiple=True,
    help="sampler(s) for diffusion models instead of their default, e.g. 'ddim[steps=10]'; several: one run each",
)
@click.option("--seeds", help="comma-separated seeds (default: the suite's)")
@click.option("--max-items", type=int, help="score only the first N images of each dataset")
@click.option("--executor", default="local", show_default=True, help="inline | local | a plugin's executor")
@click.option("--devices", help="GPU ids for the local executor, e.g. 0,1 (default: all visible)")
@click.option("--workers", type=int, help="CPU worker processes when there is no GPU (default: CPU count)")
@click.option("--timeout", "timeout_s", type=float, help="per-run time limit in seconds (local executor)")
@click.option("--retries", type=int, default=1, show_default=True, help="re-attempts of runs whose worker crashed (not of model errors)")
@click.option("--force", is_flag=True, help="redo runs that already finished")
@click.option("--plan", "plan_only", is_flag=True, help="print the run matrix (done / pending / skipped) and exit")
@results_option
@data_root_option
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
@click.option("--show-skipped", is_flag=True, help="list every skipped model/dataset pair with its reason")
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Run a suite: every compatible model on every dataset, scored with the suite's metrics."""
    args = RunArgs(**options)
    loaded = registry(ctx, disabled=["mlflow"]) if args.no_mlflow else registry(ctx)
    out = console()
    print_registry_problems(out, loaded)
    plan = _plan(loaded, args)
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}")
    from fusionbench.engine.runner import pending_jobs

    from .render import plan_table, print_skips

    jobs, n_done = pending_jobs(plan, args.results, args.force)
    if args.plan_only:
        out.print(plan_table(plan, {j.run.run_key for j in jobs}))
        print_skips(out, plan, verbose=True)
        return
    print_skips(out, plan, verbose=args.show_skipped)
    if not plan.runs:
        raise FusionbenchError(f"suite {args.suite_name!r} expands to no runnable run (see the skip reasons above)")
    out.print(
        f"suite [bold]{escape(args.suite_name)}[/]: {len(plan.runs)} runs, {n_done} already done, "
        f"{len(jobs)} to run -> {escape(str(args.results))}"
    )
    summary, failures = _execute(loaded, plan, args, out)
    _report(out, args, summary, failures, loaded)
    if summary.n_failed:
        sys.exit(1)


def _plan(loaded: Any, args: RunArgs) -> Any:
    from fusionbench.engine.planner import Selection, plan_suite

    def selections(values: Sequence[str]) -> list[Any] | None:
        return [Selection.parse(v) for v in split_selection(values)] or None

    return plan_suite(
        loaded,
        args.suite_name,
        models=selections(args.models),
        datasets=selections(args.datasets),
        samplers=selections(args.samplers),
        seeds=[int(s) for s in args.seeds.split(",")] if args.seeds else None,
        max_items=args.max_items,
        data_root=args.root,
        machine=_machine(args.executor, args.device_list),
    )


def _execute(loaded: Any, plan: Any, args: RunArgs, out: Any) -> tuple[Any, list[Any]]:
    from fusionbench.engine.runner import RunOptions, run_plan, select_executor_options

    from .progress import RichListener

    options = RunOptions(
        results_dir=args.results,
        executor=args.executor,
        executor_options=select_executor_options(args.executor, args.device_list, args.workers, args.timeout_s),
        force=args.force,
        retries=args.retries,
        data_root=args.root,
        argv=tuple(sys.argv),
    )
    listener = RichListener(out)
    try:
        with listener:
            summary = run_plan(loaded, plan, options, listener.as_listener())
    except KeyboardInterrupt:
        out.print("[red]interrupted[/]: finished runs are saved; rerun the same command to resume")
        sys.exit(130)
    return summary, listener.failures


def _report(out: Any, args: RunArgs, summary: Any, failures: list[Any], loaded: Any) -> None:
    from fusionbench.results.labels import SpecCatalog

    from .render import print_leaderboard

    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    retried = f"; {summary.retried} crashed runs retried" if summary.retried else ""
    out.print(f"done in {summary.wall_s:.1f} s: {counts}; {summary.skipped_done} already done{retried}")
    for error in summary.observer_errors:
        out.print(f"[yellow]plugin hook error:[/] {escape(error)}")
    for record in failures:
        out.print(
            f"[red]{record.status}[/] {escape(record.label)}: "
            f"{escape(record.outcome.error_type)}: {escape(record.outcome.error_message)}"
        )
    print_leaderboard(out, args.results, args.suite_name, fmt="table", catalog=SpecCatalog.from_registry(loaded))


def _machine(executor: str, devices: Sequence[str] | None) -> Any:
    """What models' device requirements are checked against: this machine for the executors
    that run here (detected only if a model has a requirement); nothing for the others (a Ray
    cluster's GPUs are not visible from here)."""
    from fusionbench.engine.devices import Machine

    if executor in ("local", "inline"):
        return lambda: Machine.detect(devices)
    return Machine.unknown()
