"""SIGTERM (schedulers, ``kill``) stops a session like Ctrl-C: runs in progress are recorded as
interrupted, MLflow runs are closed, the exit status is 143 and a rerun resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .conftest import install_plugin

SLOW_PLUGIN = """
import os, time
from pathlib import Path
from fusionbench import ModelSpec, hookimpl

class Slow:
    def fuse(self, batch, *, sampler=None, generator=None):
        with open(Path(os.environ["REL_MARKERS"]), "a") as markers:  # "a run is fusing now"
            markers.write("fusing\\n")
        time.sleep(3)
        return (batch.inputs["ir"] + batch.inputs["vi"]) / 2

@hookimpl
def fusionbench_register_models():
    return [ModelSpec("rel-slow-term", "1", frozenset({"ivf"}), Slow)]
"""


def test_sigterm_records_interrupted_runs_and_closes_mlflow(plugin_dir, mlflow_store, tmp_path):
    from mlflow.tracking import MlflowClient

    from fusionbench.results.reader import latest_runs

    install_plugin(plugin_dir, "rel-slow-term", SLOW_PLUGIN)
    argv = [
        sys.executable,
        "-m",
        "fusionbench",
        "run",
        "--suite",
        "ivf",
        "-m",
        "rel-slow-term",
        "-d",
        "synthetic-ivf",
        "--seeds",
        "0,1,2,3,4,5",
        "--executor",
        "inline",
        "--max-items",
        "1",
    ]
    markers = tmp_path / "markers.txt"
    markers.touch()
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200", "REL_MARKERS": str(markers)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(markers.read_text().splitlines()) < 2 and process.poll() is None:
        time.sleep(0.1)  # until the second run is fusing: the first is done, the second in progress
    process.send_signal(signal.SIGTERM)  # the coordinator only, as `kill PID` does
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 143, out
    assert "terminated" in out and "rerun the same command to resume" in out
    statuses = set(latest_runs(tmp_path / "fusionbench-results")["status"])
    assert "interrupted" in statuses and "ok" in statuses
    client = MlflowClient(tracking_uri=mlflow_store)
    (experiment,) = client.search_experiments(filter_string="name = 'fusionbench-ivf'")
    logged = client.search_runs([experiment.experiment_id])
    assert not [r for r in logged if r.info.status == "RUNNING"]
    (parent,) = [r for r in logged if r.data.tags.get("fusionbench.kind") == "session"]
    assert parent.info.status == "FAILED"
