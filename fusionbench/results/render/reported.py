"""The "reported in paper, not run here" block of a leaderboard, and the reproduction gaps.

Published numbers are never put in the ranked table: they come from other test sets, other metric
code and unstated settings, so ranking them with measured rows (or letting them take the bold
"best") would compare unlike things. They are shown in their own block under each dataset's
table, and where a measured row reproduces a reported method (the reported row's ``model`` is the
measured model) the gap measured − reported is shown per metric.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from fusionbench.results.render.text import markdown_escape
from fusionbench.results.reported import COLUMNS, for_dataset
from fusionbench.specs import ReportedResult

TITLE = "reported in paper, not run here"
GAP_TITLE = "reproduction: measured here − reported in paper"


def _value(row: ReportedResult) -> str:
    return f"{row.value:g}" + (f" ± {row.std:g}" if row.std is not None else "")


def _paper(row: ReportedResult) -> str:
    return f"{row.paper} ({row.year})" if row.year else row.paper


def reported_grid(rows: Sequence[ReportedResult]) -> tuple[list[str], list[list[str]]]:
    """One line per (method, paper, protocol, settings), one column per metric; plain text (no
    bold: published numbers never take the best-value mark)."""
    metrics = list(dict.fromkeys(r.metric for r in rows))
    lines: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for row in rows:
        lines.setdefault((row.method, _paper(row), row.protocol, row.settings), {})[row.metric] = _value(row)
    header = ["method", "paper", *metrics, "metric settings"]
    body = [
        [method, paper, *(cells.get(m, "-") for m in metrics), settings]
        for (method, paper, _, settings), cells in lines.items()
    ]
    return header, body


def _matches(row: ReportedResult, model: str) -> bool:
    target = (row.model or row.method).strip().lower()
    return bool(target) and target == str(model).strip().lower()


def gap_table(scores: pd.DataFrame, rows: Sequence[ReportedResult], dataset: str) -> pd.DataFrame:
    """Measured mean (over images and seeds, as the leaderboard) minus the reported value, for
    every measured method whose model a reported row of ``dataset`` names, per shared metric."""
    columns = ["method", "metric", "measured", "reported", "gap", "reported_method", "paper", "source_table"]
    reported = for_dataset(rows, dataset)
    if scores.empty or not reported:
        return pd.DataFrame(columns=columns)
    from fusionbench.results.leaderboard import method_label

    sub = scores[scores["dataset"] == dataset].copy()
    if sub.empty:
        return pd.DataFrame(columns=columns)
    sub["method"] = sub.apply(method_label, axis=1)
    means = sub.groupby(["method", "model", "metric"], sort=True)["value"].mean().reset_index()
    out = []
    for measured in means.itertuples(index=False):
        for row in reported:
            if row.metric == measured.metric and _matches(row, measured.model):
                out.append(
                    {
                        "method": measured.method,
                        "metric": measured.metric,
                        "measured": float(measured.value),
                        "reported": row.value,
                        "gap": float(measured.value) - row.value,
                        "reported_method": row.method,
                        "paper": _paper(row),
                        "source_table": row.source_table,
                    }
                )
    return pd.DataFrame(out, columns=columns)


def gap_grid(gaps: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["method (measured)", "metric", "measured", "reported", "gap", "reported as", "paper"]
    body = [
        [g.method, g.metric, f"{g.measured:.4f}", f"{g.reported:g}", f"{g.gap:+.4f}", g.reported_method, g.paper]
        for g in gaps.itertuples(index=False)
    ]
    return header, body


def _md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(markdown_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(markdown_escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def sources(rows: Sequence[ReportedResult]) -> list[str]:
    """One line per (paper, source table): where the numbers come from and who copied them."""
    seen = dict.fromkeys(
        f"{_paper(r)}: {r.source_table or 'table not named'}; transcribed by {r.transcribed_by or 'unknown'}"
        + (f"; {r.citation}" if r.citation else "")
        + (f" {r.url}" if r.url else "")
        for r in rows
    )
    return list(seen)


def reported_markdown(dataset: str, rows: Sequence[ReportedResult], gaps: pd.DataFrame) -> str:
    """The block under a dataset's Markdown table ("" when nothing is reported for it)."""
    rows = for_dataset(rows, dataset)
    if not rows:
        return ""
    out = io.StringIO()
    out.write(f"\n#### {markdown_escape(dataset)}: {TITLE}\n\n")
    out.write(_md_table(*reported_grid(rows)))
    out.write("\nSources: " + "; ".join(markdown_escape(s) for s in sources(rows)) + "\n")
    if not gaps.empty:
        out.write(f"\n#### {markdown_escape(dataset)}: {GAP_TITLE}\n\n")
        out.write(_md_table(*gap_grid(gaps)))
    return out.getvalue()


def _html_table(header: list[str], body: list[list[str]], css: str) -> str:
    head = "".join(f"<th class='text'>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td class='text'>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def reported_html(dataset: str, rows: Sequence[ReportedResult], gaps: pd.DataFrame) -> str:
    """The block under a dataset's HTML table ("" when nothing is reported for it)."""
    rows = for_dataset(rows, dataset)
    if not rows:
        return ""
    parts = [f"<h3 class='reported'>{html.escape(TITLE)}</h3>", _html_table(*reported_grid(rows), "reported")]
    parts.append("<div class='meta'>" + "<br>".join(html.escape(s) for s in sources(rows)) + "</div>")
    if not gaps.empty:
        parts += [f"<h3 class='gap'>{html.escape(GAP_TITLE)}</h3>", _html_table(*gap_grid(gaps), "gap")]
    return "".join(parts)


def source_rows(rows: Sequence[ReportedResult]) -> tuple[list[str], list[list[str]]]:
    """Every reported value with its provenance (``fusionbench leaderboard reported``)."""
    header = [
        "dataset",
        "method",
        "metric",
        "value",
        "as published",
        "paper",
        "settings",
        "source table",
        "transcribed by",
        "plugin",
    ]
    ordered = sorted(rows, key=lambda r: (r.dataset, r.method.lower(), r.metric))
    body = [
        [
            r.dataset,
            r.method,
            r.metric,
            _value(r),
            r.metric_as_published,
            _paper(r),
            r.settings,
            r.source_table,
            r.transcribed_by,
            r.provider,
        ]
        for r in ordered
    ]
    return header, body


def reported_csv(rows: Sequence[ReportedResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, "provider"])
    for r in rows:
        writer.writerow([_csv_value(getattr(r, c)) for c in COLUMNS] + [r.provider])
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)
