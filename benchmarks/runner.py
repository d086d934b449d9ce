"""Runner overhead and scaling: N cheap runs on the inline executor and on 1 vs 2 local workers.

    python benchmarks/runner.py            # 64 runs of `exp` on synthetic-wv3-rr, one image each
    python benchmarks/runner.py --runs 16 --workers 1,2,4
    python benchmarks/runner.py --runs 32 --model mtf-glp-fs --dataset synthetic-wv3-fr --suite full-res

Prints a table (wall time, runs/s, overhead per run, speed-up against 1 worker). The baseline is
the inline executor (same process, no isolation): the difference is what isolation costs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.reader import latest_runs


def measure(
    executor: str, workers: int | None, runs: int, model: str, dataset: str, suite: str = "reduced-res"
) -> dict:
    registry = load_registry(disabled=["mlflow"])
    plan = plan_suite(
        registry,
        suite,
        models=[Selection.parse(model)],
        datasets=[Selection.parse(dataset)],
        seeds=list(range(runs)),
        max_items=1,
    )
    with tempfile.TemporaryDirectory() as folder:
        options = RunOptions(
            results_dir=Path(folder),
            executor=executor,
            executor_options={"workers": workers} if executor == "local" else {},
        )
        t0 = time.perf_counter()
        summary = run_plan(registry, plan, options)
        wall = time.perf_counter() - t0
        in_runs = float(latest_runs(Path(folder))["wall_s"].sum())
    assert summary.counts.get("ok") == runs, summary.counts
    slots = workers or 1
    return {
        "executor": executor if executor == "inline" else f"local x{workers}",
        "wall_s": wall,
        "runs_per_s": runs / wall,
        "run_s": in_runs / runs,
        "overhead_ms": 1000 * (wall - in_runs / slots) / runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=64)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--model", default="exp")
    parser.add_argument("--dataset", default="synthetic-wv3-rr")
    parser.add_argument("--suite", default="reduced-res", help="suite holding the dataset (full-res for *-fr)")
    args = parser.parse_args()
    rows = [measure("inline", None, args.runs, args.model, args.dataset, args.suite)]
    for workers in (int(w) for w in args.workers.split(",")):
        rows.append(measure("local", workers, args.runs, args.model, args.dataset, args.suite))
    base = (
        next(r for r in rows if r["executor"] == "local x1")
        if any(r["executor"] == "local x1" for r in rows)
        else rows[0]
    )
    table = Table(
        title=f"{args.runs} runs of {args.model} on {args.dataset} (1 image each), {os.cpu_count()} CPU cores"
    )
    for column in ("executor", "wall s", "runs/s", "in-run s/run", "overhead ms/run", "speed-up vs local x1"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["executor"],
            f"{row['wall_s']:.2f}",
            f"{row['runs_per_s']:.2f}",
            f"{row['run_s']:.3f}",
            f"{row['overhead_ms']:.0f}",
            f"{base['wall_s'] / row['wall_s']:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
