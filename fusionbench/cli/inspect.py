"""``fusionbench plugins list|check``, ``fusionbench list KIND`` and ``fusionbench info NAME``:
what is installed, whether it works, and everything about one component."""

from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from fusionbench.errors import FusionbenchError
from fusionbench.specs import KINDS

from .common import console, registry

KIND_PLURALS = {f"{kind}s": kind for kind in KINDS}


@click.group()
def plugins() -> None:
    """Installed plugins and their health."""


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
