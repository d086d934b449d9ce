"""The ``fusionbench`` command line.

Start-up imports click, rich and the plugin modules only (no torch, no mlflow): ``--help`` and
``plugins list`` stay well under a second. Heavy imports happen inside the commands that need them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from ..errors import FusionbenchError
from ..specs import KINDS

KIND_PLURALS = {f"{kind}s": kind for kind in KINDS}


def _console() -> Any:
    """A rich console; when output is piped, wide enough that tables are not folded."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=200)
    return console


def _registry(ctx: click.Context, **kwargs: Any) -> Any:
    from ..plugins import load_registry

    cached = ctx.find_root().meta.get("fusionbench.registry")
    if cached is not None and not kwargs:
        return cached
    registry = load_registry(**kwargs)
    if not kwargs:
        ctx.find_root().meta["fusionbench.registry"] = registry
    return registry


def split_selection(values: Sequence[str]) -> list[str]:
    """Split comma-separated selections, keeping commas inside ``name[a=1,b=2]`` brackets."""
    out: list[str] = []
    for value in values:
        depth, current = 0, ""
        for char in value:
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            if char == "," and depth == 0:
                if current.strip():
                    out.append(current.strip())
                current = ""
            else:
                current += char
        if current.strip():
            out.append(current.strip())
    return out


class FusionbenchGroup(click.Group):
    """Adds plugin commands lazily and turns FusionbenchError into a clean message."""

    def _plugin_commands(self, ctx: click.Context) -> None:
        if ctx.meta.get("fusionbench.plugin_commands"):
            return
        ctx.meta["fusionbench.plugin_commands"] = True
        from ..plugins import load_registry

        registry = load_registry()
        ctx.meta["fusionbench.registry"] = registry
        for impl in registry.pm.hook.fusionbench_register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:  # noqa: BLE001 - a plugin's broken command must not break the CLI
                click.echo(f"warning: plugin {impl.plugin_name!r} failed to add commands: {exc}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._plugin_commands(ctx)
            command = super().get_command(ctx, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FusionbenchError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=FusionbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fusionbench")
def cli() -> None:
    """fusionbench: run, compare and extend image-fusion methods.

    \b
    Quick start:
      fusionbench list models
      fusionbench run --suite reduced-res
      fusionbench leaderboard show --suite reduced-res
    """


# -- plugins / list / info ------------------------------------------------------------------
@cli.group()
def plugins() -> None:
    """Installed plugins and their health."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def plugins_list(ctx: click.Context, as_json: bool) -> None:
    """Every entry point of the `fusionbench` group: distribution, components, ok/broken."""
    registry = _registry(ctx)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "dist": s.dist,
                        "version": s.version,
                        "module": s.module,
                        "state": s.state,
                        "error": s.error,
                        "components": s.components,
                    }
                    for s in registry.statuses
                ],
                indent=2,
            )
        )
        return
    from .render import plugins_table

    console = _console()
    console.print(plugins_table(registry))
    for conflict in registry.conflicts:
        console.print(f"[yellow]conflict:[/] {conflict.message()}")


@plugins.command("check")
@click.argument("name")
@click.option("-x", "exitfirst", is_flag=True, help="stop at the first failure")
def plugins_check(name: str, exitfirst: bool) -> None:
    """Run the conformance tests (fusionbench.testing) against one installed plugin."""
    import subprocess

    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs", "fusionbench.testing.conformance", f"--fusionbench-plugin={name}"]
    if exitfirst:
        argv.append("-x")
    sys.exit(subprocess.call(argv))


@cli.command("list")
@click.argument("kind", type=click.Choice(sorted(KIND_PLURALS)))
@click.option("--task", help="only components for this task")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_components(ctx: click.Context, kind: str, task: str | None, as_json: bool) -> None:
    """List installed models, datasets, metrics, samplers, suites or executors."""
    from .render import component_rows, components_table

    registry = _registry(ctx)
    entries = registry.all(KIND_PLURALS[kind])
    if task:
        entries = [e for e in entries if task in _tasks_of(e.spec)]
    if as_json:
        click.echo(json.dumps(component_rows(entries), indent=2, default=str))
        return
    _console().print(components_table(kind, entries))


def _tasks_of(spec: Any) -> set[str]:
    if hasattr(spec, "tasks"):
        return set(spec.tasks)
    if hasattr(spec, "task"):
        return {spec.task}
    if hasattr(spec, "entries"):
        return {e.task for e in spec.entries}
    return set()


@cli.command()
@click.argument("name")
@click.pass_context
def info(ctx: click.Context, name: str) -> None:
    """Everything about one component: parameters, versions, source, compatible suites."""
    from .render import info_panel

    registry = _registry(ctx)
    found = registry.find(name)
    if not found:
        import difflib

        every = {e.name for kind in KINDS for e in registry.all(kind)}
        close = difflib.get_close_matches(name, sorted(every), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise FusionbenchError(f"no component named {name!r}{hint}")
    console = _console()
    for entry in found:
        console.print(info_panel(entry, registry))


# -- run ------------------------------------------------------------------------------------
@cli.command()
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
@click.option("--results", "results_dir", type=click.Path(path_type=Path), help="results folder (default: $FUSIONBENCH_RESULTS or ./fusionbench-results)")
@click.option("--data-root", type=click.Path(path_type=Path), help="root folder of real datasets (default: $FUSIONBENCH_DATA)")
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
@click.option("--show-skipped", is_flag=True, help="list every skipped model/dataset pair with its reason")
@click.pass_context
def run(
    ctx: click.Context,
    suite_name: str,
    models: tuple[str, ...],
    datasets: tuple[str, ...],
    samplers: tuple[str, ...],
    seeds: str | None,
    max_items: int | None,
    executor: str,
    devices: str | None,
    workers: int | None,
    timeout_s: float | None,
    retries: int,
    force: bool,
    plan_only: bool,
    results_dir: Path | None,
    data_root: Path | None,
    no_mlflow: bool,
    show_skipped: bool,
) -> None:
    """Run a suite: every compatible model on every dataset, scored with the suite's metrics."""
    from ..planner import Selection, plan_suite
    from ..results.store import default_results_dir
    from ..runner import RunOptions, pending_jobs, run_plan, select_executor_options
    from .progress import RichListener
    from .render import plan_table, print_leaderboard, print_skips

    registry = _registry(ctx, disabled=["mlflow"]) if no_mlflow else _registry(ctx)
    console = _console()
    _print_registry_problems(console, registry)
    results = results_dir or default_results_dir()
    root = data_root or (Path(os.environ["FUSIONBENCH_DATA"]) if os.environ.get("FUSIONBENCH_DATA") else None)
    seed_list = [int(s) for s in seeds.split(",")] if seeds else None
    device_list = devices.split(",") if devices else None
    plan = plan_suite(
        registry,
        suite_name,
        models=[Selection.parse(m) for m in split_selection(models)] or None,
        datasets=[Selection.parse(d) for d in split_selection(datasets)] or None,
        samplers=[Selection.parse(x) for x in split_selection(samplers)] or None,
        seeds=seed_list,
        max_items=max_items,
        data_root=root,
        machine=_machine(executor, device_list),
    )
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    jobs, n_done = pending_jobs(plan, results, force)
    if plan_only:
        console.print(plan_table(plan, {j.run.run_key for j in jobs}))
        print_skips(console, plan, verbose=True)
        return
    print_skips(console, plan, verbose=show_skipped)
    if not plan.runs:
        raise FusionbenchError(f"suite {suite_name!r} expands to no runnable run (see the skip reasons above)")
    console.print(
        f"suite [bold]{suite_name}[/]: {len(plan.runs)} runs, {n_done} already done, {len(jobs)} to run "
        f"-> {results}"
    )
    options = RunOptions(
        results_dir=results,
        executor=executor,
        executor_options=select_executor_options(executor, device_list, workers, timeout_s),
        force=force,
        retries=retries,
        data_root=root,
        argv=tuple(sys.argv),
    )
    listener = RichListener(console)
    try:
        with listener:
            summary = run_plan(registry, plan, options, listener.as_listener())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: finished runs are saved; rerun the same command to resume")
        sys.exit(130)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    retried = f"; {summary.retried} crashed runs retried" if summary.retried else ""
    console.print(f"done in {summary.wall_s:.1f} s: {counts}; {summary.skipped_done} already done{retried}")
    from rich.markup import escape

    for error in summary.observer_errors:
        console.print(f"[yellow]plugin hook error:[/] {escape(error)}")
    for record in listener.failures:
        console.print(f"[red]{record.status}[/] {record.label}: {record.outcome.error_type}: {record.outcome.error_message}")
    print_leaderboard(console, results, suite_name, fmt="table")
    if summary.n_failed:
        sys.exit(1)


def _print_registry_problems(console: Any, registry: Any) -> None:
    """One yellow line per broken plugin and per name conflict: `run` uses the first plugin of a
    conflict and none of a broken plugin's components, so say so before anything runs."""
    from rich.markup import escape

    for status in registry.broken:
        console.print(
            f"[yellow]broken plugin:[/] {escape(status.name)} ({escape(status.dist)}): "
            f"{escape(status.short_error)}; its components are not available",
            soft_wrap=True,
        )
    for conflict in registry.conflicts:
        console.print(f"[yellow]conflict:[/] {escape(conflict.message())}", soft_wrap=True)


def _machine(executor: str, devices: Sequence[str] | None) -> Any:
    """What models' device requirements are checked against: this machine for the executors
    that run here (detected only if a model has a requirement); nothing for the others (a Ray
    cluster's GPUs are not visible from here)."""
    from ..planner import Machine

    if executor in ("local", "inline"):
        return lambda: Machine.detect(devices)
    return Machine.unknown()


# -- leaderboard ----------------------------------------------------------------------------
@cli.group()
def leaderboard() -> None:
    """Ranked tables built from the results folder."""


@leaderboard.command("show")
@click.option("--suite", "suite_name", help="only this suite")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv"]), default="table", show_default=True)
@click.option("--results", "results_dir", type=click.Path(path_type=Path))
def leaderboard_show(suite_name: str | None, fmt: str, results_dir: Path | None) -> None:
    """Mean ± std per method, dataset and metric; best in bold, arrows show direction."""
    from ..results.store import default_results_dir
    from .render import print_leaderboard

    console = _console()
    if not print_leaderboard(console, results_dir or default_results_dir(), suite_name, fmt=fmt):
        raise FusionbenchError("no results found; run `fusionbench run --suite reduced-res` first")


@leaderboard.command("export")
@click.option("--suite", "suite_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv", "html", "parquet"]), required=True)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="file to write")
@click.option("--results", "results_dir", type=click.Path(path_type=Path))
def leaderboard_export(suite_name: str, fmt: str, out: Path, results_dir: Path | None) -> None:
    """Write one suite's leaderboard as Markdown, CSV, a self-contained HTML page, or Parquet."""
    from ..results.export import export_board
    from ..results.store import default_results_dir

    export_board(results_dir or default_results_dir(), suite_name, fmt, out)
    click.echo(f"wrote {out}")


@leaderboard.command("publish")
@click.option("--suite", "suite_name", required=True)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("leaderboards"), show_default=True)
@click.option("--results", "results_dir", type=click.Path(path_type=Path))
def leaderboard_publish(suite_name: str, folder: Path, results_dir: Path | None) -> None:
    """Write <dir>/<suite>.{parquet,md,csv,html}: the published tables of a suite."""
    from ..results.export import export_board
    from ..results.store import default_results_dir

    from ..results.plots import write_plots
    from ..results.reader import read_scores

    results = results_dir or default_results_dir()
    for fmt, suffix in (("parquet", "parquet"), ("markdown", "md"), ("csv", "csv"), ("html", "html")):
        path = folder / f"{suite_name}.{suffix}"
        export_board(results, suite_name, fmt, path)
        click.echo(f"wrote {path}")
    plots = write_plots(read_scores(results, suite_name), results, suite_name, folder / f"{suite_name}-plots")
    click.echo(f"wrote {len(plots)} plots to {folder / f'{suite_name}-plots'}")


@leaderboard.command("plots")
@click.option("--suite", "suite_name", required=True)
@click.option("--out", "folder", type=click.Path(path_type=Path), required=True, help="folder for the PNG files")
@click.option("--results", "results_dir", type=click.Path(path_type=Path))
def leaderboard_plots(suite_name: str, folder: Path, results_dir: Path | None) -> None:
    """Quality-vs-time and quality-vs-steps charts, and comparison panels with error maps."""
    from ..results.plots import write_plots
    from ..results.reader import read_scores
    from ..results.store import default_results_dir

    results = results_dir or default_results_dir()
    scores = read_scores(results, suite_name)
    if scores.empty:
        raise FusionbenchError(f"no finished runs of suite {suite_name!r} under {results}")
    for path in write_plots(scores, results, suite_name, folder):
        click.echo(f"wrote {path}")


# -- doctor ---------------------------------------------------------------------------------
@cli.command()
@click.option("--results", "results_dir", type=click.Path(path_type=Path))
@click.pass_context
def doctor(ctx: click.Context, results_dir: Path | None) -> None:
    """Environment report: versions, devices, MLflow store, plugin health, results folder."""
    from .doctor import report

    _console().print(report(_registry(ctx), results_dir))


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="fusionbench")
