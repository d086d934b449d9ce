"""A damaged results folder: runs whose scores file is gone or truncated are redone, files of an
incompatible schema are skipped with a warning naming them, stale temporary files are removed."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, pending_jobs, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import ReadReport, read_scores
from fusionbench.results.schema import METADATA_KEY


@pytest.fixture(scope="module")
def registry():
    return load_registry(disabled=["mlflow"])


@pytest.fixture
def finished(registry, tmp_path):
    """A results folder with one finished run of ``average`` on one synthetic IVF image."""
    plan = plan_suite(
        registry, "ivf", models=[Selection("average")], datasets=[Selection("synthetic-ivf")], seeds=[0], max_items=1
    )
    summary = run_plan(registry, plan, RunOptions(results_dir=tmp_path, executor="inline"))
    assert summary.counts == {"ok": 1}
    return plan, tmp_path


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_run_whose_scores_file_does_not_read_back_is_redone(finished, damage):
    plan, results = finished
    (scores,) = results.glob("scores/**/run-*.parquet")
    if damage == "delete":
        scores.unlink()
    else:
        scores.write_bytes(scores.read_bytes()[:100])
    warnings: list[str] = []
    jobs, done = pending_jobs(plan, results, force=False, warnings=warnings)
    assert done == 0 and [job.attempt for job in jobs] == [2]
    assert len(warnings) == 1 and "running it again" in warnings[0] and str(scores) in warnings[0]


def test_a_runs_file_of_an_incompatible_schema_is_skipped_with_a_warning(finished):
    plan, results = finished
    odd = results / "runs" / "suite=ivf" / f"run-{'0' * 64}-a1.parquet"
    table = pa.table({"run_key": ["x"], "attempt": ["not a number"], "status": [1.5]})
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: b"2"}), odd)
    warnings: list[str] = []
    jobs, done = pending_jobs(plan, results, force=False, warnings=warnings)
    assert (jobs, done) == ([], 1)
    assert any(str(odd) in w and "incompatible schema" in w for w in warnings)
    report = ReadReport()
    assert len(read_scores(results, "ivf", report=report)) > 0  # what `leaderboard show` reads
    assert any(str(odd) in p for p in report.problems)


def test_stale_temporary_files_are_removed_and_young_ones_kept(registry, finished):
    plan, results = finished
    folder = results / "previews" / "suite=ivf"
    folder.mkdir(parents=True, exist_ok=True)
    stale, young = folder / ".a.png.123.tmp", folder / ".b.png.456.tmp"
    stale.write_bytes(b"half")
    young.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    run_plan(registry, plan, RunOptions(results_dir=results, executor="inline"))
    assert not stale.exists() and young.exists()
