"""Published numbers from the plugins (``fusionbench_register_reported``), and
``fusionbench leaderboard reported`` which lists them with their sources."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from .common import console, print_registry_problems, registry


def collect_reported(loaded: Any) -> tuple[list[Any], list[str]]:
    """Every plugin's reported rows, stamped with the plugin's name.

    Like the registration hooks, each plugin is asked on its own (so each row knows who provides
    it); a plugin that raises or returns something else is listed in the errors and contributes
    nothing, and the others are kept.
    """
    from fusionbench.results.reported import with_provider

    rows: list[Any] = []
    errors: list[str] = []
    for impl in loaded.pm.hook.fusionbench_register_reported.get_hookimpls():
        try:
            returned = list(impl.function() or ())
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others' numbers
            errors.append(f"{impl.plugin_name}.fusionbench_register_reported: {type(exc).__name__}: {exc}")
            continue
        good, bad = with_provider(returned, impl.plugin_name)
        rows.extend(good)
        errors.extend(bad)
    return rows, errors


def reported_for_cli(out: Any, loaded: Any) -> list[Any]:
    """The reported rows, printing one yellow line per plugin that failed to give them."""
    rows, errors = collect_reported(loaded)
    for error in errors:
        out.print(f"[yellow]reported results left out:[/] {escape(error)}", soft_wrap=True)
    return rows


@click.command("reported")
@click.option("--dataset", "dataset", help="only this dataset")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.pass_context
def leaderboard_reported(ctx: click.Context, dataset: str | None, fmt: str) -> None:
    """Every published number the plugins ship (reported in papers, not run here), with its source."""
    from rich.table import Table

    from fusionbench.results.render.reported import reported_csv, source_rows

    loaded = registry(ctx)
    out = console()
    print_registry_problems(out, loaded)
    rows = [r for r in reported_for_cli(out, loaded) if dataset is None or r.dataset == dataset]
    if fmt == "csv":
        out.print(reported_csv(rows), markup=False, highlight=False, soft_wrap=True, end="")
        return
    header, body = source_rows(rows)
    table = Table(title=f"reported in papers, not run here ({len(rows)} values)")
    for column in header:
        table.add_column(column, overflow="fold")
    for row in body:
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)
