"""Write a suite's leaderboard to a file in one of the published formats (atomically).

Every format is a pure function of the results and the installed components' defaults: values are
rounded to the published precision, ties are broken by label and nothing records the time of
writing, so republishing unchanged results gives byte-identical files (an empty ``git diff``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fusionbench.errors import ResultsError
from fusionbench.results.labels import SpecCatalog, with_labels
from fusionbench.results.leaderboard import Leaderboard, build_leaderboard
from fusionbench.results.reader import read_scores
from fusionbench.results.store import write_bytes_atomic
from fusionbench.specs import ReportedResult

FORMATS = ("markdown", "csv", "html", "parquet")


def parquet_bytes(board: Leaderboard, suite: str) -> bytes:
    """The board's long table (one row per dataset, method and metric) as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = board.table.copy()
    table["rank"] = table["rank"].astype("Int64")
    table.insert(0, "suite", suite)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), buffer)
    return buffer.getvalue()


def export_board(
    results: Path,
    suite: str,
    fmt: str,
    out: Path,
    catalog: SpecCatalog | None = None,
    reported: Sequence[ReportedResult] = (),
) -> Path:
    """Write ``suite``'s leaderboard as ``fmt`` (one of :data:`FORMATS`) to ``out``; Markdown and
    HTML carry each dataset's published numbers (``reported``) in their own block with the
    reproduction gaps, never in the ranked table."""
    scores = read_scores(results, suite)
    if scores.empty:
        raise ResultsError(f"no finished runs of suite {suite!r} under {results}")
    board = build_leaderboard(scores, catalog)
    if fmt == "html":
        from fusionbench.results.render.html import render_html

        data = render_html(board, with_labels(scores, catalog), results, suite, reported).encode("utf-8")
    elif fmt == "parquet":
        data = parquet_bytes(board, suite)
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
