"""The one leaderboard grid, and its text renderings (Markdown, CSV).

:func:`board_grid` turns one dataset of a :class:`~fusionbench.results.leaderboard.Leaderboard`
into rows of display cells; the terminal table (``cli/render.py``), Markdown and the HTML page all
draw that grid, so they cannot disagree about order, rounding, flags or what ``#`` means.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fusionbench.results.leaderboard import DECIMALS, OUTPUTS_MARK, RANK_NOTE

CSV_COLUMNS = [
    "dataset",
    "method",
    "metric",
    "mean",
    "std",
    "n_images",
    "n_nan",
    "n_seeds",
    "rank",
    "higher_is_better",
    "comparable",
    "flag",
    "spec",
]
FLAG_MARK = "†"
"""Suffix of a value that is shown but not ranked (see the row's note)."""


@dataclass(frozen=True)
class GridCell:
    text: str  # "0.1234 ± 0.0100", "NaN", "-" (no value)
    value: float | None  # the mean, for sorting; None when absent or NaN
    best: bool = False
    flagged: bool = False


@dataclass(frozen=True)
class GridRow:
    position: str  # "1", "2", ... or "-" for a row with no ranked metric
    method: str
    spec: str  # the full specification (hover text)
    url: str
    family: str
    n_images: str  # "6", or "1-6" when metrics were scored on different numbers of images
    avg_rank: float | None
    cells: list[GridCell]
    note: str  # why values are flagged, "" when none
    from_outputs: bool = False  # scored from saved outputs (`fusionbench score`), not run here

    @property
    def display_name(self) -> str:
        """The method as printed: its label, marked when it was scored from saved outputs."""
        return f"{self.method} ({OUTPUTS_MARK})" if self.from_outputs else self.method


@dataclass(frozen=True)
class Grid:
    dataset: str
    synthetic: bool
    metrics: list[str]
    higher: list[bool]
    rows: list[GridRow] = field(default_factory=list)

    @property
    def metric_headers(self) -> list[str]:
        return [f"{m} {arrow(h)}" for m, h in zip(self.metrics, self.higher)]

    @property
    def has_notes(self) -> bool:
        return any(row.note for row in self.rows)


def arrow(higher: bool) -> str:
    return "↑" if higher else "↓"


def number(value: float) -> str:
    """A value at the published precision; NaN is shown as NaN."""
    return "NaN" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{DECIMALS}f}"


def board_grid(board: Any, dataset: str) -> Grid:
    """One dataset's table: methods in leaderboard order, "mean ± std" cells, flags explained."""
    sub = board.table[board.table["dataset"] == dataset]
    metrics = board.metrics_for(dataset)
    cells = {(row.method, row.metric): row for row in sub.itertuples()}
    outputs = board.from_outputs(dataset)
    grid = Grid(dataset, board.is_synthetic(dataset), metrics, [board.higher_is_better(dataset, m) for m in metrics])
    position = 0
    for method in board.methods_for(dataset):
        rows = sub[sub["method"] == method]
        first = rows.iloc[0]
        values: list[GridCell] = []
        notes: list[str] = []
        for metric in metrics:
            cell = cells.get((method, metric))
            if cell is None:
                values.append(GridCell("-", None))
                continue
            mean = None if math.isnan(cell.mean) else float(cell.mean)
            if mean is None:
                text = "NaN"
            else:
                text = number(cell.mean) + ("" if _is_na(cell.std) else f" ± {number(cell.std)}")
            if cell.flag:
                text += f" {FLAG_MARK}"
                notes.append(f"{metric}: {cell.flag}")
            best = not _is_na(cell.rank) and int(cell.rank) == 1
            values.append(GridCell(text, mean, best=best, flagged=bool(cell.flag)))
        ranked = not _is_na(first["avg_rank"])
        if ranked:
            position += 1
        counts = sorted(set(int(n) for n in rows["n_images"]))
        grid.rows.append(
            GridRow(
                position=str(position) if ranked else "-",
                method=method,
                spec=str(first["spec"]),
                url=str(first["url"] or ""),
                family=str(first["family"]),
                n_images=str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}",
                avg_rank=float(first["avg_rank"]) if ranked else None,
                cells=values,
                note="; ".join(_merge(notes)),
                from_outputs=method in outputs,
            )
        )
    return grid


def _is_na(value: Any) -> bool:
    return bool(pd.isna(value))


def _merge(notes: list[str]) -> list[str]:
    """``sam: 1 NaN of 6; ergas: 1 NaN of 6`` → ``sam, ergas: 1 NaN of 6``."""
    by_flag: dict[str, list[str]] = {}
    for note in notes:
        metric, flag = note.split(": ", 1)
        by_flag.setdefault(flag, []).append(metric)
    return [f"{', '.join(metrics)}: {flag}" for flag, metrics in by_flag.items()]


def markdown_escape(text: object) -> str:
    """Text safe inside a Markdown table cell: ``|`` would end the cell, ``*``/``_``/backticks
    would start emphasis or code, ``<`` an HTML tag."""
    text = str(text)
    for char in ("\\", "|", "*", "_", "`", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")  # a table cell is one line


def board_text(board: Any, suite: str, fmt: str, reported: Sequence[Any] = (), scores: Any = None) -> str:
    """Markdown or CSV text of every dataset of one suite's board; in Markdown, each dataset's
    table is followed by its published numbers (``reported``) and the reproduction gaps
    computed from ``scores`` (see :mod:`.reported`), never ranked with the measured rows."""
    if fmt == "markdown":
        return "\n".join(
            markdown_board(board_grid(board, dataset), suite) + _reported_block(dataset, reported, scores)
            for dataset in board.datasets
        )
    if fmt != "csv":
        raise ValueError(f"unknown text format {fmt!r}")
    table = board.table[CSV_COLUMNS].copy()
    for column in ("mean", "std"):
        table[column] = table[column].map(number)
    return table.to_csv(index=False, lineterminator="\n")


def markdown_board(grid: Grid, suite: str) -> str:
    header = ["#", "method", "n", *grid.metric_headers] + (["note"] if grid.has_notes else [])
    out = io.StringIO()
    synthetic = " (synthetic data)" if grid.synthetic else ""
    out.write(f"### {markdown_escape(suite)} / {markdown_escape(grid.dataset)}{synthetic}\n\n")
    # the caption must not start with "#": Markdown would make it a heading
    out.write(f"Mean ± std over images (and seeds); n = images; best in bold; {RANK_NOTE}")
    out.write(f"; {FLAG_MARK} = shown, not ranked (see note)\n\n" if grid.has_notes else "\n\n")
    out.write("| " + " | ".join(markdown_escape(h) for h in header) + " |\n")
    left = {1, len(header) - 1} if grid.has_notes else {1}  # method and note read left to right
    out.write("|" + "|".join("---" if i in left else "---:" for i in range(len(header))) + "|\n")
    for row in grid.rows:
        values = [f"**{c.text}**" if c.best else c.text for c in row.cells]
        line = [row.position, markdown_escape(row.display_name), row.n_images, *values]
        if grid.has_notes:
            line.append(markdown_escape(row.note))
        out.write("| " + " | ".join(line) + " |\n")
    return out.getvalue()


def _reported_block(dataset: str, reported: Sequence[Any], scores: Any) -> str:
    if not reported:
        return ""
    from .reported import gap_table, reported_markdown

    frame = scores if scores is not None else pd.DataFrame()
    return reported_markdown(dataset, reported, gap_table(frame, reported, dataset))
