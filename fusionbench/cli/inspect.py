"""``fusionbench plugins list|check|new``, ``fusionbench list KIND`` and ``fusionbench info NAME``:
what is installed, whether it works, and everything about one component."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from fusionbench.errors import FusionbenchError
from fusionbench.specs import KINDS
from fusionbench.tasks import TASKS

from .common import console, registry

KIND_PLURALS = {f"{kind}s": kind for kind in KINDS}


@click.group()
def plugins() -> None:
    """Installed plugins, their health, and new ones (`plugins new`)."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def plugins_list(ctx: click.Context, as_json: bool) -> None:
    """Every entry point of the `fusionbench` group: distribution, components, ok/broken."""
    loaded = registry(ctx)
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
                    for s in loaded.statuses
                ],
                indent=2,
            )
        )
        return
    from .render import plugins_table

    out = console()
    out.print(plugins_table(loaded))
    for conflict in loaded.conflicts:
        out.print(f"[yellow]conflict:[/] {escape(conflict.message())}", soft_wrap=True)


@plugins.command("new")
@click.argument("name")
@click.option(
    "--task", type=click.Choice(sorted(TASKS)), default="pansharpening", show_default=True, help="the task of the model"
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="where to write it (default: ./fusionbench-NAME)",
)
def plugins_new(name: str, task: str, directory: Path | None) -> None:
    """Write a complete, installable plugin distribution for TASK: pyproject, a torch-free hook
    module, a model, a README, tests using the conformance kit and a GitHub Actions workflow."""
    from fusionbench.scaffold import new_plugin

    names, folder, written = new_plugin(name, task, directory)
    out = console()
    out.print(f"wrote {len(written)} files to {escape(str(folder))}", soft_wrap=True, highlight=False)
    out.print(
        f"  distribution [bold]{escape(names.dist)}[/], entry point [bold]{escape(names.entry_point)}[/], "
        f"model [bold]{escape(names.model)}[/]",
        soft_wrap=True,
        highlight=False,
    )
    for line in (
        f"pip install -e {folder}",
        f"fusionbench plugins check {names.entry_point}",
        f"fusionbench run --suite {names.suite} -m {names.model}",
    ):
        out.print(f"  {escape(line)}", soft_wrap=True, highlight=False)


@plugins.command("check")
@click.argument("name")
@click.option("-x", "exitfirst", is_flag=True, help="stop at the first failure")
@click.pass_context
def plugins_check(ctx: click.Context, name: str, exitfirst: bool) -> None:
    """Run the conformance checks (fusionbench.testing) against one installed plugin.

    NAME is the entry-point name, the distribution name or the name of one of its components.
    Needs nothing beyond what `fusionbench run` needs (no pytest)."""
    from fusionbench.testing.checks import cases, run_case

    loaded = registry(ctx)
    out = console()
    plugin_names = plugins_named(loaded, name)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for plugin_name in plugin_names:
        status = loaded.status(plugin_name)
        out.print(f"[bold]{escape(plugin_name)}[/] ({escape(status.dist)} {escape(status.version)})", soft_wrap=True)
        for case in cases(loaded, plugin_name):
            outcome = run_case(case)
            counts[outcome.state] += 1
            line = f"  [{colours[outcome.state]}]{outcome.state:7}[/] {escape(f'{outcome.check}[{outcome.target}]')}"
            if outcome.state == "skipped":
                line += f": {escape(outcome.message)}"
            out.print(line, soft_wrap=True, highlight=False)
            if outcome.state == "failed":
                out.print(escape(outcome.message.rstrip()), soft_wrap=True, highlight=False, markup=True)
                if exitfirst:
                    break
        if exitfirst and counts["failed"]:
            break
    out.print(", ".join(f"{n} {state}" for state, n in counts.items() if n or state == "passed"), highlight=False)
    sys.exit(1 if counts["failed"] else 0)


def plugins_named(loaded: Any, name: str) -> list[str]:
    """The entry points NAME means: an entry-point name, a distribution name (``-``, ``_`` and
    case alike, as pip compares them; every entry point of it) or a component name (the plugin
    that provides it; ``PLUGIN:NAME`` picks one side of a conflict). Unknown: one line listing
    what is installed."""
    import re

    def normal(text: str) -> str:
        return re.sub(r"[-_.]+", "-", text).lower()

    if any(s.name == name for s in loaded.statuses):
        return [name]
    by_dist = [s.name for s in loaded.statuses if normal(s.dist) == normal(name)]
    if by_dist:
        return by_dist
    found = list(loaded.find(name))
    for kind in KINDS if ":" in name else ():
        try:
            found.append(loaded.get(kind, name))
        except KeyError:
            continue
    providers = sorted({entry.plugin for entry in found})
    if providers:
        return providers
    installed = ", ".join(f"{s.name} ({s.dist})" for s in loaded.statuses) or "none"
    raise FusionbenchError(f"no plugin, distribution or component named {name!r}; installed plugins: {installed}")


@click.command("list")
@click.argument("kind", type=click.Choice(sorted(KIND_PLURALS)))
@click.option("--task", help="only components for this task")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_components(ctx: click.Context, kind: str, task: str | None, as_json: bool) -> None:
    """List installed models, datasets, metrics, samplers, suites or executors."""
    from .render import component_rows, components_table

    loaded = registry(ctx)
    entries = loaded.all(KIND_PLURALS[kind])
    if task:
        entries = [e for e in entries if task in e.spec.covered_tasks]
    if as_json:
        click.echo(json.dumps(component_rows(entries), indent=2, default=str))
        return
    console().print(components_table(kind, entries))


@click.command()
@click.argument("name")
@click.pass_context
def info(ctx: click.Context, name: str) -> None:
    """Everything about one component: parameters, versions, source, compatible suites."""
    from .render import info_panel

    loaded = registry(ctx)
    found = loaded.find(name)
    if not found:
        import difflib

        every = {e.name for kind in KINDS for e in loaded.all(kind)}
        close = difflib.get_close_matches(name, sorted(every), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise FusionbenchError(f"no component named {name!r}{hint}")
    out = console()
    for entry in found:
        out.print(info_panel(entry, loaded))
