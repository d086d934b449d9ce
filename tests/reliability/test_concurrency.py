"""Several sessions on one results folder: each pending run is done once, claims of a dead
session are free again, and a fresh MLflow store is created once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import install_plugin

SLOW_PLUGIN = """
import time
from fusionbench import ModelSpec, hookimpl

class Slow:
    def fuse(self, batch, *, sampler=None, generator=None):
        time.sleep(0.4)
        return (batch.inputs["ir"] + batch.inputs["vi"]) / 2

@hookimpl
def fusionbench_register_models():
    return [ModelSpec("rel-slow", "1", frozenset({"ivf"}), Slow)]
"""


def test_three_sessions_on_one_folder_run_each_run_once(plugin_dir, tmp_path):
    from fusionbench.results.reader import read_runs

    install_plugin(plugin_dir, "rel-slow", SLOW_PLUGIN)
    argv = [
        sys.executable,
        "-m",
        "fusionbench",
        "run",
        "--suite",
        "ivf",
        "-m",
        "rel-slow",
        "-d",
        "synthetic-ivf",
        "--seeds",
        "0,1,2,3",
        "--executor",
        "inline",
        "--max-items",
        "1",
        "--no-mlflow",
    ]
    env = {**os.environ, "COLUMNS": "200"}
    sessions = [
        subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in sessions]
    assert all(p.returncode == 0 for p in sessions), "\n".join(outputs)
    executed = [int(m) for out in outputs for m in re.findall(r"done in [0-9.]+ s: (\d+) ok", out)]
    assert sum(executed) == 4, "\n".join(outputs)  # the same run done twice would overwrite its files
    runs = read_runs(tmp_path / "fusionbench-results")
    assert len(runs) == 4 and set(runs["attempt"]) == {1} and runs["run_key"].is_unique, "\n".join(outputs)
    assert set(runs["status"]) == {"ok"}


MLFLOW_SESSION = """
import sys
from fusionbench.components import mlflow as observer
from fusionbench.results.records import SessionInfo
session = SessionInfo(session_id=sys.argv[1], suite="ivf", suite_version="1", executor="inline",
                      results_dir=".", n_runs=0, n_done_before=0)
observer.fusionbench_session_started(session)
print("logged", session.state["mlflow"]["parent_run_id"])
"""


def test_three_sessions_create_a_fresh_mlflow_store_once(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    sessions = [
        subprocess.Popen(
            [sys.executable, "-c", MLFLOW_SESSION, f"s{i}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in sessions]
    assert all(p.returncode == 0 and "logged" in out for p, out in zip(sessions, outputs)), "\n".join(outputs)
    (experiment,) = MlflowClient(tracking_uri=uri).search_experiments(filter_string="name = 'fusionbench-ivf'")
    assert len(MlflowClient(tracking_uri=uri).search_runs([experiment.experiment_id])) == 3


def test_a_claim_is_exclusive_and_freed_when_its_holder_dies(tmp_path: Path):
    from fusionbench.engine.runner import Claims

    first, second = Claims(tmp_path), Claims(tmp_path)
    assert first.claim("abc") and not second.claim("abc")
    first.release_all()
    assert second.claim("abc")
    second.release_all()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from fusionbench.engine.runner import Claims\n"
            f"c = Claims(Path({str(tmp_path)!r})); assert c.claim('abc'); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not Claims(tmp_path).claim("abc")
    finally:
        holder.kill()
        holder.wait()
    assert Claims(tmp_path).claim("abc")  # the kernel released the dead holder's lock
