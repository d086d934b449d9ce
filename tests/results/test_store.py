"""Atomic Parquet writes, schema metadata, schema evolution and the unified reader."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.errors import ResultsError
from fusionbench.results.reader import ReadReport, read_runs, read_scores
from fusionbench.results.schema import METADATA_KEY, RUNS_SCHEMA, SCHEMA_VERSION, SCORES_SCHEMA, with_version
from fusionbench.results.store import check_writable, runs_path, scores_path, write_table_atomic


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
    old = pa.Table.from_pylist(
        [{k: v for k, v in _runs_row("old").items() if k != "nfe"}], schema=with_version(old_schema)
    )
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
    assert len(back) == len(expected)  # zip alone would pass on an empty read-back
    for got, want in zip(back.to_dict("records"), expected):
        for key, value in want.items():
            assert got[key] == value


_score_rows = st.lists(
    st.fixed_dictionaries(
        {
            "image_id": st.from_regex(r"img[0-9]{1,3}", fullmatch=True),
            "metric": st.sampled_from(["sam", "ergas", "q2n[block=32]", "psnr"]),
            "value": st.floats(allow_nan=False, allow_infinity=False, width=64),
            "seed": st.integers(0, 2**32 - 1),
            "higher_is_better": st.booleans(),
            "metric_params_json": st.sampled_from(["{}", '{"block":32}']),
            "image_wall_s": st.floats(0, 1e4, allow_nan=False),
        }
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda r: (r["image_id"], r["metric"]),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.from_regex(r"[0-9a-f]{20}", fullmatch=True), _score_rows),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0],
    )
)
def test_scores_schema_round_trip(tmp_path_factory, runs):
    """Per-image scores written as the workers write them come back row for row, value for value."""
    folder = tmp_path_factory.mktemp("scores")
    created = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    expected = []
    for key, rows in runs:
        full = []
        for row in rows:
            record = {f.name: None for f in SCORES_SCHEMA}
            record.update(run_key=key, attempt=1, suite="s", task="pansharpening", model="m", created_at=created, **row)
            full.append(record)
        write_table_atomic(
            pa.Table.from_pylist(full, schema=with_version(SCORES_SCHEMA)),
            scores_path(folder, "s", "pansharpening", key, 1),
        )
        write_table_atomic(
            pa.Table.from_pylist([_runs_row(key)], schema=with_version(RUNS_SCHEMA)), runs_path(folder, "s", key, 1)
        )
        expected.extend(full)
    back = read_scores(folder, "s")
    assert len(back) == len(expected)
    order = ["run_key", "image_id", "metric"]
    got = back.sort_values(order).to_dict("records")
    want = sorted(expected, key=lambda r: tuple(r[k] for k in order))
    for got_row, want_row in zip(got, want):
        for name, value in want_row.items():
            if value is None:
                assert got_row[name] is None or got_row[name] != got_row[name]  # None / NaN
            else:
                assert got_row[name] == value, name
    assert set(back.columns) >= {f.name for f in SCORES_SCHEMA}


def test_a_table_parquet_cannot_encode_leaves_no_file_and_keeps_its_error(tmp_path):
    """Not a filesystem problem, so not a ResultsError: the encoding error propagates as is."""
    table = pa.table({"a": pa.array([(1, 2, 3)], type=pa.month_day_nano_interval())})
    path = runs_path(tmp_path, "s", "abc", 1)
    with pytest.raises(pa.ArrowNotImplementedError):
        write_table_atomic(table, path)
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("encoder bug"), KeyboardInterrupt()])
def test_a_write_failing_mid_file_removes_the_temporary_file(tmp_path, monkeypatch, error):
    """pyarrow removes a half-written file only on Exception, and only its own failures: a
    Ctrl-C mid-write, or any error after it, must not leave the dot file behind either."""
    real_write = pq.write_table

    def write_then_fail(table, where, **kwargs):
        real_write(table, where, **kwargs)
        with open(where, "ab") as handle:
            handle.write(b"half a row group")
        raise error

    monkeypatch.setattr(pq, "write_table", write_then_fail)
    path = runs_path(tmp_path, "s", "abc", 1)
    with pytest.raises(type(error)):
        write_table_atomic(pa.Table.from_pylist([_runs_row("abc")], schema=with_version(RUNS_SCHEMA)), path)
    assert list(path.parent.iterdir()) == []


def test_pandas_reads_the_results_folder_and_the_tidy_table_has_labels(good_fixture_only, tmp_path):
    import pandas as pd

    from fusionbench.engine.planner import Selection, plan_suite
    from fusionbench.engine.runner import RunOptions, run_plan
    from fusionbench.registry import load_registry
    from fusionbench.results.reader import runs_table, tidy_scores

    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.05]")]
    run_plan(
        registry,
        plan_suite(registry, "fixture-suite", models=models),
        RunOptions(results_dir=tmp_path / "r", executor="inline"),
    )
    direct = pd.read_parquet(tmp_path / "r" / "scores")  # the suite=/task= folders do not clash with columns
    assert set(direct["suite"].astype(str)) == {"fixture-suite"} and len(direct) == 6
    assert len(pd.read_parquet(tmp_path / "r" / "runs")) == 2
    tidy = tidy_scores(tmp_path / "r", "fixture-suite")
    assert set(tidy["method"]) == {"fixture-lms", "fixture-noisy"}  # sigma does not vary: the short label drops it
    assert set(tidy["spec"]) == {"fixture-lms", "fixture-noisy[sigma=0.05]"}
    runs = runs_table(tmp_path / "r")
    assert set(runs["model"]) == {"fixture-lms", "fixture-noisy"} and set(runs["dataset"]) == {"fixture-scenes"}
