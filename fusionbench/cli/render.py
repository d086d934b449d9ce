"""Rich tables for the terminal, and Markdown/CSV renderings of the leaderboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fusionbench.engine.planner import Plan
from fusionbench.registry import Registered, Registry
from fusionbench.specs import DatasetSpec, MetricSpec

if TYPE_CHECKING:  # the leaderboard modules import pandas: only commands that print boards load them
    from fusionbench.results.render.text import Grid


def plugins_table(registry: Registry) -> Table:
    table = Table(title="fusionbench plugins", show_lines=False)
    for column in ("plugin", "distribution", "version", "state", "components / error"):
        table.add_column(column)
    for status in registry.statuses:
        if status.state == "ok":
            detail = (
                "; ".join(f"{kind}: {', '.join(names)}" for kind, names in status.components.items())
                or "(observers only)"
            )
            state = "[green]ok[/]"
        elif status.state == "disabled":
            detail, state = "disabled by configuration", "[dim]disabled[/]"
        else:
            detail, state = status.short_error, "[red]broken[/]"
        table.add_row(escape(status.name), escape(status.dist), escape(str(status.version)), state, escape(detail))
    return table


def _spec_summary(spec: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": spec.name, "version": spec.version}
    if spec.covered_tasks:
        row["tasks"] = ",".join(sorted(spec.covered_tasks))
    if isinstance(spec, DatasetSpec):
        row["protocol"] = spec.protocol
        row["synthetic"] = spec.synthetic
    if isinstance(spec, MetricSpec):
        row["direction"] = "higher" if spec.higher_is_better else "lower"
        row["reference"] = spec.requires_reference
    row["description"] = spec.description
    return row


_TABLE_COLUMNS = (
    "name",
    "version",
    "tasks",
    "protocol",
    "direction",
    "reference",
    "synthetic",
    "plugin",
    "description",
)


def component_rows(entries: Iterable[Registered]) -> list[dict[str, Any]]:
    return [{**_spec_summary(e.spec), "plugin": e.plugin, "dist": e.dist} for e in entries]


def components_table(kind: str, entries: list[Registered]) -> Table:
    rows = component_rows(entries)
    table = Table(title=f"{kind} ({len(rows)})")
    present = {key for row in rows for key in row}
    columns = [c for c in _TABLE_COLUMNS if c in present] or ["name"]
    for column in columns:
        if column == "description":
            table.add_column(column, overflow="ellipsis", no_wrap=True, max_width=60)
        else:
            table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(str(row.get(c, ""))) for c in columns))
    return table


def info_panel(entry: Registered, registry: Registry) -> Panel:
    spec = entry.spec
    # every line but the first is plugin-provided text: printed as is, never parsed as markup
    lines = [f"from plugin {entry.plugin} ({entry.dist} {entry.dist_version})"]
    summary = _spec_summary(spec)
    for key in ("tasks", "protocol", "direction", "reference", "synthetic"):
        if key in summary:
            lines.append(f"{key}: {summary[key]}")
    if getattr(spec, "description", ""):
        lines.append(spec.description)
    params = getattr(spec, "params", {}) or {}
    if params:
        lines.append("parameters:")
        for name, param in params.items():
            choices = f" choices={list(param.choices)}" if param.choices else ""
            lines.append(f"  {name} ({param.type}) = {param.default!r}{choices}  {param.help}")
    if getattr(spec, "card", None) is not None:
        lines.append(f"card: {spec.card.as_dict()}")
    if getattr(spec, "ideal", None) is not None:
        lines.append(f"ideal value: {spec.ideal}")
    for ref in getattr(spec, "weights", ()) or ():
        lines.append(f"weights: {ref.uri} sha256={ref.sha256 or '?'} license={ref.license or '?'}")
    if getattr(spec, "entries", None):
        for suite_entry in spec.entries:
            metrics = ", ".join(m.name for m in suite_entry.metrics)
            lines.append(
                f"entry: {suite_entry.task}/{suite_entry.protocol} datasets={list(suite_entry.datasets)} metrics: {metrics}"
            )
    for key in ("citation", "url", "license", "reference_impl"):
        if getattr(spec, key, ""):
            lines.append(f"{key}: {getattr(spec, key)}")
    if spec.kind in ("model", "dataset", "metric"):
        suites = _suites_using(entry, registry)
        lines.append(f"in suites: {', '.join(suites) or 'none'}")
    body = Text.assemble(
        (str(spec.kind), "bold"), f" {spec.name}  version {getattr(spec, 'version', '')}\n", "\n".join(lines)
    )
    return Panel(body, title=Text(str(spec.name)), expand=False)


def _suites_using(entry: Registered, registry: Registry) -> list[str]:
    spec = entry.spec
    names = []
    for suite in registry.all("suite"):
        for suite_entry in suite.spec.entries:
            if spec.kind == "model" and suite_entry.task in spec.tasks:
                names.append(suite.name)
            elif spec.kind == "dataset" and suite_entry.task == spec.task and suite_entry.protocol == spec.protocol:
                names.append(suite.name)
            elif spec.kind == "metric" and any(m.name == spec.name for m in suite_entry.metrics):
                names.append(suite.name)
    return sorted(set(names))


def plan_table(plan: Plan, pending_keys: set[str]) -> Table:
    table = Table(title=f"plan for suite {escape(plan.suite)}: {len(plan.runs)} runs")
    # the model and sampler specifications are long and wrap; names, keys and states never do
    for column in ("model", "sampler", "dataset", "seed", "key", "state"):
        wraps = column in ("model", "sampler")
        table.add_column(column, overflow="fold", no_wrap=not wraps, min_width=16 if wraps else None)
    for run in plan.runs:
        state = "[yellow]pending[/]" if run.run_key in pending_keys else "[green]done[/]"
        cells = (
            run.model.label,
            run.sampler.label if run.sampler else "-",
            run.dataset.name,
            str(run.seed),
            run.run_key[:12],
        )
        table.add_row(*(escape(c) for c in cells), state)
    return table


def print_skips(console: Console, plan: Plan, verbose: bool) -> None:
    """Say which model/dataset pairs were skipped and why.

    A reason that belongs to the dataset rather than to the pair (its files are absent, it cannot
    be opened) is the same for every model. By default it is **one line per dataset** (the
    reason's first line): a run of the default suites on a machine without the real data must not
    open with pages of instructions. With ``verbose`` (``--show-skipped``, ``--plan``) the table
    lists every pair and each dataset's full explanation (where it looked, how to get the data) is
    printed once after it.
    """
    if not plan.skipped:
        return
    per_dataset = dataset_reasons(plan.skipped)
    if verbose:
        table = Table(title=f"skipped pairs ({len(plan.skipped)})")
        for column in ("model", "dataset", "reason"):
            table.add_column(column, overflow="fold")
        for skip in plan.skipped:
            if (skip.dataset, skip.reason) in per_dataset:
                lines = skip.reason.strip().splitlines()
                reason = lines[0] + (" (details below)" if len(lines) > 1 else "")
            else:
                reason = skip.reason.strip()
            table.add_row(escape(skip.model), escape(skip.dataset), escape(reason))  # paths may hold [brackets]
        console.print(table)
    else:
        reasons = Counter(s.cause.value for s in plan.skipped)
        text = "; ".join(f"{n} {reason}" for reason, n in reasons.most_common())
        hint = "--show-skipped lists them" + (" and says how to get the data" if per_dataset else "")
        console.print(f"[dim]skipped {len(plan.skipped)} model/dataset pairs ({escape(text)}); {hint}[/]")
    for (dataset, reason), models in per_dataset.items():
        pairs = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        if verbose:
            console.print(f"[yellow]dataset {escape(dataset)} skipped[/] ({pairs}):")
            console.print(reason.strip(), markup=False, highlight=False, soft_wrap=True)
        else:
            first = reason.strip().splitlines()[0] if reason.strip() else ""
            console.print(f"[yellow]dataset {escape(dataset)} skipped[/] ({pairs}): {escape(first)}", soft_wrap=True)


def dataset_reasons(skipped: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """The skip reasons that concern a dataset as a whole (``SkipCause.dataset_wide``), once
    each: ``{(dataset, reason): models}``."""
    out: dict[tuple[str, str], list[str]] = {}
    for skip in skipped:
        if skip.cause.dataset_wide:
            out.setdefault((skip.dataset, skip.reason), []).append(skip.model)
    return out


def load_scores(console: Console | None, results: Path, suite: str | None) -> Any:
    """Read one suite's (or every suite's) scores, printing unreadable files as warnings."""
    from ..results.reader import ReadReport, read_scores

    report = ReadReport()
    scores = read_scores(results, suite, report=report)
    if console is not None:
        for problem in report.problems:
            console.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)
    return scores


def print_leaderboard(
    console: Console,
    results: Path,
    suite: str | None,
    fmt: str = "table",
    catalog: Any = None,
    dataset: str | None = None,
    reported: Sequence[Any] = (),
) -> bool:
    """Print every suite's board (or ``suite``'s, of ``dataset`` only when given): rich tables
    split to the console's width, or Markdown/CSV text. ``catalog`` (a
    :class:`~fusionbench.results.labels.SpecCatalog`) gives the parameter defaults that keep method
    labels short. Each dataset's table is followed by its published numbers and reproduction gaps
    (``reported``); with a dataset and published numbers but no measured row, the published block
    alone is printed."""
    from ..results.leaderboard import RANK_NOTE, build_leaderboard
    from ..results.render.text import FLAG_MARK, board_grid, board_text

    scores = load_scores(console, results, suite)
    if dataset is not None and not scores.empty:
        scores = scores[scores["dataset"] == dataset]
    if scores.empty:
        if dataset is not None and reported and fmt != "csv":
            return _print_reported(console, dataset, reported, scores, fmt)
        return False
    for suite_name in sorted(scores["suite"].unique()):
        in_suite = scores[scores["suite"] == suite_name]
        board = build_leaderboard(in_suite, catalog)
        for problem in board.problems:
            console.print(f"[yellow]not comparable:[/] {escape(problem)}", soft_wrap=True)
        if fmt == "table":
            grids = [board_grid(board, name) for name in board.datasets]
            for grid in grids:
                for table in rich_board_tables(grid, suite_name, console.width):
                    console.print(table)
                _print_reported(console, grid.dataset, reported, in_suite, fmt)
            flags = (
                f"; {FLAG_MARK} = shown, not ranked (reason below the table)" if any(g.has_notes for g in grids) else ""
            )
            console.print(f"[dim]{escape(RANK_NOTE)}{flags}[/]")
        else:
            text = board_text(board, suite_name, fmt, reported, in_suite)
            console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    return True


def _print_reported(console: Console, dataset: str, reported: Sequence[Any], scores: Any, fmt: str) -> bool:
    """The published-numbers block of one dataset (and its gaps), as rich tables or Markdown."""
    from ..results.render.reported import (
        GAP_TITLE,
        TITLE,
        gap_grid,
        gap_table,
        reported_grid,
        reported_markdown,
        sources,
    )
    from ..results.reported import for_dataset

    rows = for_dataset(reported, dataset)
    if not rows:
        return False
    gaps = gap_table(scores, rows, dataset)
    if fmt != "table":
        console.print(reported_markdown(dataset, rows, gaps), markup=False, highlight=False, soft_wrap=True, end="")
        return True
    for title, (header, body) in (
        (f"{dataset}: {TITLE}", reported_grid(rows)),
        (f"{dataset}: {GAP_TITLE}", gap_grid(gaps)),
    ):
        if not body:
            continue
        table = Table(title=escape(title), title_style="italic", title_justify="left")
        for index, column in enumerate(header):
            table.add_column(escape(column), justify="left" if index < 2 else "right", overflow="fold")
        for row in body:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    for line in sources(rows):
        console.print(Text("source: " + line, style="dim"), soft_wrap=True)
    return True


METHOD_MIN_WIDTH = 24
"""The method column is never narrower than this (or its longest label): labels wrap, never vanish."""


def rich_board_tables(grid: Grid, suite: str, width: int) -> list[Any]:
    """One dataset's board as one table, or several when the metric columns do not fit in
    ``width``: each repeats ``#``, the method and ``n``, so no table squeezes the method name.
    Flags (values shown but not ranked) are listed under the tables, one line per method."""
    # rich draws a column as its text plus two spaces of padding and one border
    widths = [max(len(h), *(len(r.cells[i].text) for r in grid.rows)) + 3 for i, h in enumerate(grid.metric_headers)]
    n_width = max((len(r.n_images) for r in grid.rows), default=1) + 3
    position_width = max((len(r.position) for r in grid.rows), default=1) + 3
    longest = max((len(row.display_name) for row in grid.rows), default=6)
    room = width - position_width - n_width - max(widths, default=0) - 1 - 3  # one metric must fit beside it
    method_width = max(min(longest, room), METHOD_MIN_WIDTH if longest >= METHOD_MIN_WIDTH else longest)
    fixed = position_width + method_width + 3 + n_width + 1
    chunks: list[list[int]] = [[]]
    used = fixed
    for index, column_width in enumerate(widths):
        if chunks[-1] and used + column_width > width:
            chunks.append([])
            used = fixed
        chunks[-1].append(index)
        used += column_width
    # as many tables as the greedy split needs, but with the metrics spread evenly over them
    per = -(-len(widths) // len(chunks))
    even = [list(range(i, min(i + per, len(widths)))) for i in range(0, len(widths), per)]
    if len(even) == len(chunks) and all(fixed + sum(widths[i] for i in part) <= width for part in even):
        chunks = even
    synthetic = " \\[synthetic data]" if grid.synthetic else ""
    tables = []
    for part, indexes in enumerate(chunks, 1):
        suffix = f" ({part}/{len(chunks)})" if len(chunks) > 1 else ""
        table = Table(title=f"{escape(suite)} / {escape(grid.dataset)}{synthetic}{suffix}", title_justify="left")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("method", overflow="fold", min_width=method_width)
        table.add_column("n", justify="right", no_wrap=True)
        for index in indexes:
            table.add_column(grid.metric_headers[index], justify="right", no_wrap=True)
        for row in grid.rows:
            cells = [
                Text(
                    row.cells[i].text, style="bold" if row.cells[i].best else ("yellow" if row.cells[i].flagged else "")
                )
                for i in indexes
            ]
            table.add_row(row.position, Text(row.display_name), row.n_images, *cells)
        tables.append(table)
    for row in grid.rows:
        if row.note:
            tables.append(Text.assemble(("  not ranked: ", "yellow"), row.method, f": {row.note}"))
    return tables
