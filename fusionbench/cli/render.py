"""Rich tables for the terminal, and Markdown/CSV renderings of the leaderboard."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from fusionbench.engine.planner import Plan
from fusionbench.results.render.text import board_grid, board_text
from fusionbench.registry import Registered, Registry
from fusionbench.specs import DatasetSpec, MetricSpec


def plugins_table(registry: Registry) -> Table:
    table = Table(title="fusionbench plugins", show_lines=False)
    for column in ("plugin", "distribution", "version", "state", "components / error"):
        table.add_column(column)
    for status in registry.statuses:
        if status.state == "ok":
            detail = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in status.components.items()) or "(observers only)"
            state = "[green]ok[/]"
        elif status.state == "disabled":
            detail, state = "disabled by configuration", "[dim]disabled[/]"
        else:
            detail, state = status.short_error, "[red]broken[/]"
        table.add_row(status.name, status.dist, status.version, state, detail)
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


_TABLE_COLUMNS = ("name", "version", "tasks", "protocol", "direction", "reference", "synthetic", "plugin", "description")


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
        table.add_row(*(str(row.get(c, "")) for c in columns))
    return table


def info_panel(entry: Registered, registry: Registry) -> Panel:
    spec = entry.spec
    lines = [f"[bold]{spec.kind}[/] {spec.name}  version {getattr(spec, 'version', '')}", f"from plugin {entry.plugin} ({entry.dist} {entry.dist_version})"]
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
            lines.append(f"entry: {suite_entry.task}/{suite_entry.protocol} datasets={list(suite_entry.datasets)} metrics: {metrics}")
    for key in ("citation", "url", "license", "reference_impl"):
        if getattr(spec, key, ""):
            lines.append(f"{key}: {getattr(spec, key)}")
    if spec.kind in ("model", "dataset", "metric"):
        suites = _suites_using(entry, registry)
        lines.append(f"in suites: {', '.join(suites) or 'none'}")
    return Panel("\n".join(lines), title=spec.name, expand=False)


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
    table = Table(title=f"plan for suite {plan.suite}: {len(plan.runs)} runs")
    for column in ("run", "dataset", "model", "sampler", "seed", "key", "state"):
        table.add_column(column)
    for run in plan.runs:
        state = "[yellow]pending[/]" if run.run_key in pending_keys else "[green]done[/]"
        table.add_row(run.label, run.dataset.name, run.model.label, run.sampler.label if run.sampler else "-", str(run.seed), run.run_key, state)
    return table


def print_skips(console: Console, plan: Plan, verbose: bool) -> None:
    """Say which model/dataset pairs were skipped and why.

    A reason that belongs to the dataset rather than to the pair (its files are absent, it cannot
    be opened) is the same for every model, and its text is long on purpose: where it looked and
    how to get the data. It is printed **once per dataset, in full**, after the summary line (or
    after the ``--show-skipped`` / ``--plan`` table, whose rows then show its first line only).
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
        console.print(f"[dim]skipped {len(plan.skipped)} model/dataset pairs ({text}); --show-skipped lists them[/]")
    for (dataset, reason), models in per_dataset.items():
        pairs = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        console.print(f"[yellow]dataset {escape(dataset)} skipped[/] ({pairs}):")
        console.print(reason.strip(), markup=False, highlight=False, soft_wrap=True)


def dataset_reasons(skipped: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """The skip reasons that concern a dataset as a whole (``SkipCause.dataset_wide``), once
    each: ``{(dataset, reason): models}``."""
    out: dict[tuple[str, str], list[str]] = {}
    for skip in skipped:
        if skip.cause.dataset_wide:
            out.setdefault((skip.dataset, skip.reason), []).append(skip.model)
    return out


def load_board(console: Console | None, results: Path, suite: str | None) -> tuple[Any, Any]:
    """Read scores (reporting unreadable files) and build the leaderboard of one or all suites."""
    from ..results.leaderboard import build_leaderboard
    from ..results.reader import ReadReport, read_scores

    report = ReadReport()
    scores = read_scores(results, suite, report=report)
    if console is not None:
        for problem in report.problems:
            console.print(f"[yellow]warning:[/] {problem}")
    if scores.empty:
        return scores, None
    return scores, build_leaderboard(scores)


def print_leaderboard(
    console: Console,
    results: Path,
    suite: str | None,
    fmt: str = "table",
    dataset: str | None = None,
    reported: Sequence[Any] = (),
) -> bool:
    """Print the leaderboard of one suite (or all), of one dataset when given, each dataset's
    table followed by its published numbers and reproduction gaps (``reported``). With a dataset
    and published numbers but no measured row, the published block alone is printed."""
    from ..results.leaderboard import build_leaderboard

    scores, _ = load_board(console, results, suite)
    if dataset is not None and not scores.empty:
        scores = scores[scores["dataset"] == dataset]
    if scores.empty:
        if dataset is not None and reported and fmt != "csv":
            return _print_reported(console, dataset, reported, scores, fmt)
        return False
    for suite_name in sorted(scores["suite"].unique()):
        in_suite = scores[scores["suite"] == suite_name]
        board = build_leaderboard(in_suite)
        for problem in board.problems:
            console.print(f"[yellow]not comparable:[/] {escape(problem)}")
        if fmt == "table":
            for name in board.datasets:
                console.print(_rich_board(board, suite_name, name))
                _print_reported(console, name, reported, in_suite, fmt)
        else:
            text = board_text(board, suite_name, fmt, reported, in_suite)
            console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    return True


def _print_reported(console: Console, dataset: str, reported: Sequence[Any], scores: Any, fmt: str) -> bool:
    """The published-numbers block of one dataset (and its gaps), as rich tables or Markdown."""
    from ..results.render.reported import GAP_TITLE, TITLE, gap_grid, gap_table, reported_grid, reported_markdown, sources
    from ..results.reported import for_dataset

    rows = for_dataset(reported, dataset)
    if not rows:
        return False
    gaps = gap_table(scores, rows, dataset)
    if fmt != "table":
        console.print(reported_markdown(dataset, rows, gaps), markup=False, highlight=False, soft_wrap=True, end="")
        return True
    for title, (header, body) in ((f"{dataset}: {TITLE}", reported_grid(rows)), (f"{dataset}: {GAP_TITLE}", gap_grid(gaps))):
        if not body:
            continue
        table = Table(title=escape(title), title_style="italic")
        for index, column in enumerate(header):
            table.add_column(escape(column), justify="left" if index < 2 else "right")
        for row in body:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
    for line in sources(rows):
        console.print(f"[dim]source: {escape(line)}[/]", soft_wrap=True)
    return True


def _rich_board(board: Any, suite: str, dataset: str) -> Table:
    header, rows = board_grid(board, dataset, lambda text: f"[bold]{text}[/]")
    synthetic = " \\[synthetic data]" if board.is_synthetic(dataset) else ""
    table = Table(title=f"{escape(suite)} / {escape(dataset)}{synthetic}")
    for index, title in enumerate(header):
        table.add_column(escape(title), justify="left" if index < 2 else "right", no_wrap=index > 0)
    for row in rows:
        table.add_row(row[0], escape(row[1]), *row[2:])  # method names are user/plugin text; values carry our bold markup
    return table
