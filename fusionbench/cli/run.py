"""``fusionbench run``: plan a suite, run what is pending, print the leaderboard.

The command's options become one :class:`RunArgs`; planning, executing and reporting are
separate functions so each stays readable and testable.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from fusionbench import settings
from fusionbench.errors import FusionbenchError, OptionError

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
    save_outputs: Path | None = None
    save_outputs_format: str = "h5"
    save_outputs_tif: bool = False
    allow_download: bool = False

    @property
    def seed_list(self) -> list[int] | None:
        """``--seeds`` as integers (None: the suite's seeds); see :func:`parse_seeds`."""
        return parse_seeds(self.seeds)

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
@click.option(
    "--models",
    "-m",
    multiple=True,
    help="models to run: NAME, NAME[k=v,...] or a pattern; repeatable or comma-separated",
)
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
@click.option(
    "--retries",
    type=int,
    default=1,
    show_default=True,
    help="re-attempts of runs whose worker crashed (not of model errors)",
)
@click.option("--force", is_flag=True, help="redo runs that already finished")
@click.option("--plan", "plan_only", is_flag=True, help="print the run matrix (done / pending / skipped) and exit")
@results_option
@data_root_option
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
@click.option("--show-skipped", is_flag=True, help="list every skipped model/dataset pair with its reason")
@click.option(
    "--save-outputs",
    type=click.Path(path_type=Path),
    help="keep every fused image under DIR/<suite>/<dataset>/<method>/ (native units; `fusionbench score` reads them back)",
)
@click.option(
    "--save-outputs-format",
    type=click.Choice(["h5", "mat"]),
    default="h5",
    show_default=True,
    help="pansharpening/MHIF: one .h5 stack per run, or one .mat per item (key 'sr', H×W×C) like the toolbox",
)
@click.option("--save-outputs-tif", is_flag=True, help="IVF/MIF: a float32 .tif beside each 8-bit PNG")
@click.option(
    "--allow-download",
    is_flag=True,
    help="download missing checkpoints the planned models declare (as `fusionbench weights fetch`)",
)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Run a suite: every compatible model on every dataset, scored with the suite's metrics."""
    args = RunArgs(**options)
    check_options(args)
    loaded = registry(ctx, disabled=["mlflow"]) if args.no_mlflow else registry(ctx)
    out = console()
    print_registry_problems(out, loaded)
    check_dataset_selection(loaded, args)
    plan = _plan(loaded, args)
    if args.allow_download and not args.plan_only:
        _download_missing(loaded, plan, args, out)
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}")
    from fusionbench.engine.runner import pending_jobs

    from .render import plan_table, print_skips

    results_warnings: list[str] = []
    jobs, n_done = pending_jobs(plan, args.results, args.force, results_warnings)
    for warning in results_warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if args.plan_only:
        out.print(plan_table(plan, {j.run.run_key for j in jobs}))
        print_skips(out, plan, verbose=True)
        return
    print_skips(out, plan, verbose=args.show_skipped)
    if not plan.runs:
        why = "see the skip reasons above" if plan.skipped else "no model of the suite does its tasks"
        raise FusionbenchError(f"suite {args.suite_name!r} expands to no runnable run ({why})")
    out.print(
        f"suite [bold]{escape(args.suite_name)}[/]: {len(plan.runs)} runs, {n_done} already done, "
        f"{len(jobs)} to run -> {escape(str(args.results))}"
    )
    if args.save_outputs and n_done:
        out.print(
            f"[yellow]note:[/] {n_done} finished runs are skipped and their outputs are not written again; "
            "--force redoes them (as new attempts)"
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
        seeds=args.seed_list,
        max_items=args.max_items,
        data_root=args.root,
        machine=_machine(args.executor, args.device_list),
    )


MAX_SEED = 2**32 - 1
"""Seeds are handed to numpy and torch generators, which take unsigned 32-bit (numpy) values."""


def parse_seeds(text: str | None) -> list[int] | None:
    """``--seeds 0,1,2`` as integers in ``[0, MAX_SEED]``; None when the option is not given.

    Why strict: a seed is part of every run key, so ``1,,2`` must not silently mean ``1,2`` and
    ``1e23`` must not fail an hour into a sweep; each is refused before anything runs."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise OptionError(f"--seeds: no seed given ({text!r}); expected comma-separated integers such as 0,1,2")
    seeds = []
    for part in parts:
        if not part:
            raise OptionError(
                f"--seeds {text!r}: empty seed between commas; expected comma-separated integers such as 0,1,2"
            )
        try:
            seed = int(part)
        except ValueError:
            raise OptionError(
                f"--seeds: {part!r} is not an integer; expected comma-separated integers such as 0,1,2"
            ) from None
        if not 0 <= seed <= MAX_SEED:
            raise OptionError(f"--seeds: {seed} is out of range; seeds are integers from 0 to {MAX_SEED}")
        seeds.append(seed)
    return seeds


def check_options(args: RunArgs) -> None:
    """Refuse option values that cannot mean anything, before the registry loads or anything
    runs: each becomes one ``error:`` line and exit status 2 (the CLI's usage-error status).

    Why each matters: ``--workers -1`` used to wait forever for workers that never start,
    ``--retries -1`` ran nothing and reported success, and a non-positive or NaN ``--timeout``
    killed every run (or none); an empty ``-m`` silently selected every model."""
    for option, value in (("--workers", args.workers), ("--max-items", args.max_items)):
        if value is not None and value < 1:
            raise OptionError(f"{option} must be a positive integer, got {value}")
    if args.retries < 0:
        raise OptionError(f"--retries must be 0 or more, got {args.retries}")
    if args.timeout_s is not None and not (math.isfinite(args.timeout_s) and args.timeout_s > 0):
        raise OptionError(f"--timeout must be a positive number of seconds, got {args.timeout_s:g}")
    for option, values in (
        ("-m/--models", args.models),
        ("-d/--datasets", args.datasets),
        ("-s/--samplers", args.samplers),
    ):
        if values and not split_selection(values):
            raise OptionError(
                f"{option}: empty selection {', '.join(repr(v) for v in values)}; name at least one, or leave the option out"
            )
    if args.devices is not None and not [d for d in args.devices.split(",") if d.strip()]:
        raise OptionError(f"--devices: no device given ({args.devices!r}); expected GPU ids such as 0,1, or cpu")
    parse_seeds(args.seeds)


def check_dataset_selection(loaded: Any, args: RunArgs) -> None:
    """Each ``-d`` name or pattern must match a dataset the suite can run (its tasks and
    protocols); otherwise the plan is empty and the user would be told to read skip reasons that
    do not exist. Unknown names get the registry's close-match suggestions."""
    from fusionbench.engine.planner import Selection

    try:
        suite = loaded.get("suite", args.suite_name).spec
    except FusionbenchError:
        return  # the planner reports an unknown suite, with suggestions
    kinds = {(entry.task, entry.protocol) for entry in suite.entries}
    in_suite = [d.name for d in loaded.all("dataset") if (d.spec.task, d.spec.protocol) in kinds]
    for text in split_selection(args.datasets):
        pattern = Selection.parse(text).pattern
        if any(fnmatch.fnmatchcase(name, pattern) for name in in_suite):
            continue
        if not any(ch in pattern for ch in "*?[") and pattern not in loaded.datasets:
            loaded.get("dataset", pattern)  # raises: no such dataset, did you mean ...
        raise OptionError(
            f"-d/--datasets: {pattern!r} matches no dataset of suite {suite.name!r} "
            f"(its tasks/protocols: {', '.join(sorted(f'{t}/{p}' for t, p in kinds))}); "
            f"`fusionbench list datasets` shows each dataset's task and protocol"
        )


def _download_missing(loaded: Any, plan: Any, args: RunArgs, out: Any) -> int:
    """Fetch the missing checkpoints of the planned models (only with ``--allow-download``)."""
    from fusionbench.weights import download_dir

    from .weights import fetch_declared

    lookups = dict.fromkeys(run.model.lookup for run in plan.runs)
    return fetch_declared(
        [loaded.get("model", name) for name in lookups], download_dir(args.results_dir), out, only_missing=True
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
        save_outputs=args.save_outputs,
        save_outputs_format=args.save_outputs_format,
        save_outputs_tif=args.save_outputs_tif,
    )
    listener = RichListener(out)
    try:
        with listener, _sigterm_as_interrupt():
            summary = run_plan(loaded, plan, options, listener.as_listener())
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        out.print(
            f"[red]{'terminated' if terminated else 'interrupted'}[/]: finished runs are saved; rerun the same command to resume"
        )
        sys.exit(128 + signal.SIGTERM if terminated else 130)
    return summary, listener.failures


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled exactly like Ctrl-C (the running runs are recorded as
    ``interrupted``, observers close their runs), but the command exits with 143."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM is what schedulers (SLURM, Kubernetes) and ``kill`` send; by default it ends the
    coordinator at once, leaving no record of the runs in progress and MLflow runs "RUNNING"
    for ever. While runs execute it raises :class:`Terminated` instead."""

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(out: Any, args: RunArgs, summary: Any, failures: list[Any], loaded: Any) -> None:
    from fusionbench.results.labels import SpecCatalog

    from .render import print_leaderboard

    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    retried = f"; {summary.retried} crashed runs retried" if summary.retried else ""
    elsewhere = f"; {summary.claimed_elsewhere} being run by another session" if summary.claimed_elsewhere else ""
    out.print(f"done in {summary.wall_s:.1f} s: {counts}; {summary.skipped_done} already done{retried}{elsewhere}")
    for error in summary.observer_errors:
        out.print(f"[yellow]plugin hook error:[/] {escape(error)}")
    for record in failures:  # one line each, however long (the terminal wraps it; grep finds it whole)
        out.print(
            f"[red]{record.status}[/] {escape(record.label)}: "
            f"{escape(record.outcome.error_type)}: {escape(record.outcome.error_message)}",
            soft_wrap=True,
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
