"""Text renderings of a leaderboard (Markdown, CSV), shared by the CLI and the exporters."""

from __future__ import annotations

import io
from typing import Any, Callable


def board_text(board: Any, suite: str, fmt: str) -> str:
    """Markdown or CSV text of every dataset of one suite's board."""
    if fmt == "markdown":
        return "\n".join(_markdown_board(board, suite, dataset) for dataset in board.datasets)
    columns = ["dataset", "method", "metric", "mean", "std", "n_images", "n_seeds", "rank", "higher_is_better", "comparable"]
    return board.table[columns].to_csv(index=False)


def _cells(board: Any, dataset: str) -> tuple[list[str], list[str], dict[tuple[str, str], Any]]:
    sub = board.table[board.table["dataset"] == dataset]
    metrics = board.metrics_for(dataset)
    methods = list(dict.fromkeys(sub["method"]))
    cells = {(row.method, row.metric): row for row in sub.itertuples()}
    return metrics, methods, cells


def _arrow(higher: bool) -> str:
    return "↑" if higher else "↓"


def board_grid(board: Any, dataset: str, bold: Callable[[str], str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one dataset's table ("mean ± std", the best value passed through
    ``bold``), shared by the terminal and Markdown renderings."""
    metrics, methods, cells = _cells(board, dataset)
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
        rows.append([str(position), method, *values])
    return header, rows


def _markdown_board(board: Any, suite: str, dataset: str) -> str:
    header, rows = board_grid(board, dataset, lambda text: f"**{text}**")
    out = io.StringIO()
    out.write(f"### {suite} / {dataset}\n\n")
    out.write("| " + " | ".join(header) + " |\n")
    out.write("|" + "---|" * len(header) + "\n")
    for row in rows:
        out.write("| " + " | ".join(row) + " |\n")
    return out.getvalue()
