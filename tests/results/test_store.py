"""Atomic Parquet writes, schema metadata, schema evolution and the unified reader."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.errors import ResultsError
from fusionbench.results.reader import ReadReport, read_runs
from fusionbench.results.schema import METADATA_KEY, RUNS_SCHEMA, SCHEMA_VERSION, with_version
from fusionbench.results.store import check_writable, runs_path, write_table_atomic


def _runs_row(key: str, attempt: int = 1, status: str = "ok", **extra) -> dict:
    row = {f.name: None for f in RUNS_SCHEMA}
    row.update(run_key=key, attempt=attempt, suite="s", status=status, started_at=datetime.now(timezone.utc), **extra)
    return row


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    path = runs_path(tmp_path, "s", "abc", 1)
    write_table_atomic(pa.Table.from_pylist([_runs_row("abc")], schema=with_version(RUNS_SCHEMA)), path)
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert pq.read_schema(path).metadata[METADATA_KEY] == SCHEMA_VERSION.encode()


def test_read_only_results_folder_gives_a_clear_error(readonly_dir):
    with pytest.raises(ResultsError, match="not writable"):
        check_writable(readonly_dir / "results")
    with pytest.raises(ResultsError, match="cannot write results file"):
        write_table_atomic(pa.table({"a": [1]}), readonly_dir / "runs" / "x.parquet")


def test_reader_keeps_columns_added_by_newer_files_and_reports_junk(tmp_path):
    old_schema = pa.schema([f for f in RUNS_SCHEMA if f.name != "nfe"])
    old = pa.Table.from_pylist([{k: v for k, v in _runs_row("old").items() if k != "nfe"}], schema=with_version(old_schema))
    new = pa.Table.from_pylist([_runs_row("new", nfe=25)], schema=with_version(RUNS_SCHEMA))
    write_table_atomic(old, runs_path(tmp_path, "s", "a01", 1))
    write_table_atomic(new, runs_path(tmp_path, "s", "ae3", 1))
    (runs_path(tmp_path, "s", "bad", 1)).write_bytes(b"not parquet")
    (runs_path(tmp_path, "s", "ccc", 1).parent / ".run-ccc-a1.parquet.123.tmp").write_bytes(b"half")
    report = ReadReport()
    runs = read_runs(tmp_path, report=report)
    assert sorted(runs["run_key"]) == ["new", "old"]
    assert runs.set_index("run_key").loc["new", "nfe"] == 25
    assert runs.set_index("run_key")["nfe"].isna().loc["old"]
    assert len(report.problems) == 1 and "run-bad-a1.parquet" in report.problems[0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "run_key": st.from_regex(r"[0-9a-f]{20}", fullmatch=True),
                "attempt": st.integers(1, 5),
                "status": st.sampled_from(["ok", "failed", "crashed"]),
                "wall_s": st.floats(0, 1e6, allow_nan=False),
                "error_message": st.text(max_size=30),
                "n_images_scored": st.integers(0, 10_000),
            }
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda r: (r["run_key"], r["attempt"]),
    )
)
def test_runs_schema_round_trip(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("rt")
    for row in rows:
        full = _runs_row(row["run_key"], row["attempt"], row["status"])
        full.update(row)
        table = pa.Table.from_pylist([full], schema=with_version(RUNS_SCHEMA))
        write_table_atomic(table, runs_path(folder, "s", row["run_key"], row["attempt"]))
    back = read_runs(folder).sort_values(["run_key", "attempt"]).reset_index(drop=True)
    expected = sorted(rows, key=lambda r: (r["run_key"], r["attempt"]))
    for got, want in zip(back.to_dict("records"), expected):
        for key, value in want.items():
            assert got[key] == value
