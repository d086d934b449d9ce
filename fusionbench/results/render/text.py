"""Text renderings of a leaderboard (Markdown, CSV), shared by the CLI and the exporters."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Callable

from fusionbench.results.leaderboard import OUTPUTS_MARK


def board_text(board: Any, suite: str, fmt: str, reported: Sequence[Any] = (), scores: Any = None) -> str:
    """Markdown or CSV text of every dataset of one suite's board; in Markdown, each dataset's
    table is followed by its published numbers (``reported``) and the reproduction gaps
    computed from ``scores`` (see :mod:`.reported`)."""
    if fmt == "markdown":
        return "\n".join(_markdown_board(board, suite, dataset) + _reported_block(dataset, reported, scores) for dataset in board.datasets)
    columns = ["dataset", "method", "metric", "mean", "std", "n_images", "n_seeds", "rank", "higher_is_better", "comparable"]
    return board.table[columns].to_csv(index=False)


def _cells(board: Any, dataset: str) -> tuple[list[str], list[str], dict[tuple[str, str], Any]]:
    sub = board.table[board.table["dataset"] == dataset]
    metrics = board.metrics_for(dataset)
    methods = list(dict.fromkeys(sub["method"]))
    cells = {(row.method, row.metric): row for row in sub.itertuples()}
    return metrics, methods, cells


def md_cell(text: str) -> str:
    """A Markdown table cell: ``|`` (and the backslash that could escape it) escaped, one line."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _arrow(higher: bool) -> str:
    return "↑" if higher else "↓"


def board_grid(board: Any, dataset: str, bold: Callable[[str], str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one dataset's table ("mean ± std", the best value passed through
    ``bold``), shared by the terminal and Markdown renderings."""
    metrics, methods, cells = _cells(board, dataset)
    outputs = board.from_outputs(dataset)
    header = ["#", "method"] + [
        f"{m} {_arrow(next(cells[(x, m)] for x in methods if (x, m) in cells).higher_is_better)}" for m in metrics
    ]
    rows = []
    for position, method in enumerate(methods, 1):
        values = []
        for metric in metrics:
            cell = cells.get((method, metric))
            if cell is None:
                values.append("-")
                continue
            text = f"{cell.mean:.4f} ± {cell.std:.4f}"
            values.append(bold(text) if cell.rank == 1 else text)
        name = f"{method} ({OUTPUTS_MARK})" if method in outputs else method
        rows.append([str(position), name, *values])
    return header, rows


def _markdown_board(board: Any, suite: str, dataset: str) -> str:
    header, rows = board_grid(board, dataset, lambda text: f"**{text}**")
    out = io.StringIO()
    out.write(f"### {suite} / {dataset}\n\n")
    out.write("| " + " | ".join(md_cell(h) for h in header) + " |\n")
    out.write("|" + "---|" * len(header) + "\n")
    for row in rows:
        out.write("| " + " | ".join(md_cell(c) for c in row) + " |\n")
    return out.getvalue()


def _reported_block(dataset: str, reported: Sequence[Any], scores: Any) -> str:
    if not reported:
        return ""
    import pandas as pd

    from .reported import gap_table, reported_markdown

    frame = scores if scores is not None else pd.DataFrame()
    return reported_markdown(dataset, reported, gap_table(frame, reported, dataset))
