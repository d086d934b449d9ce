"""Write a suite's leaderboard to a file in one of the published formats (atomically)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fusionbench.errors import ResultsError
from fusionbench.specs import ReportedResult
from fusionbench.results.leaderboard import build_leaderboard
from fusionbench.results.reader import read_scores
from fusionbench.results.store import write_bytes_atomic


def export_board(results: Path, suite: str, fmt: str, out: Path, reported: Sequence[ReportedResult] = ()) -> Path:
    """Write the board; Markdown and HTML carry each dataset's published numbers (``reported``)
    in their own block with the reproduction gaps, never in the ranked table."""
    scores = read_scores(results, suite)
    if scores.empty:
        raise ResultsError(f"no finished runs of suite {suite!r} under {results}")
    board = build_leaderboard(scores)
    if fmt == "html":
        from fusionbench.results.render.html import render_html

        data = render_html(board, scores, results, suite, reported).encode("utf-8")
    elif fmt == "parquet":
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        table = board.table.copy()
        table["rank"] = table["rank"].astype("Int64")
        table.insert(0, "suite", suite)
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), buffer)
        data = buffer.getvalue()
    elif fmt in ("markdown", "csv"):
        from fusionbench.results.render.text import board_text

        data = board_text(board, suite, fmt, reported, scores).encode("utf-8")
    else:
        raise ResultsError(f"unknown export format {fmt!r}")
    try:
        write_bytes_atomic(out, data)
    except OSError as exc:
        raise ResultsError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out


def export_reported(results: Path, suite: str, reported: Sequence[ReportedResult], out: Path) -> Path | None:
    """Write the published numbers of the suite's datasets as CSV (None when there are none)."""
    from fusionbench.results.render.reported import reported_csv

    datasets = set(read_scores(results, suite)["dataset"].unique())
    rows = [r for r in reported if r.dataset in datasets]
    if not rows:
        return None
    return write_bytes_atomic(out, reported_csv(rows).encode("utf-8"))
