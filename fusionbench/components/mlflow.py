"""MLflow tracking as an observer plugin: a parent run per invocation, a nested run per RunSpec.

Uses an explicit ``MlflowClient`` rather than mlflow's global active-run stack, so nothing leaks
between sessions in one process (tests) and the coordinator stays the only writer. The store is
MLflow's own default (``sqlite:///mlflow.db`` in the working directory) unless
``MLFLOW_TRACKING_URI`` says otherwise. mlflow is imported only when a session starts: it is slow
to import and ``fusionbench --help`` must stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fusionbench import hookimpl

STATE_KEY = "mlflow"
EXPERIMENT_PREFIX = "fusionbench-"


def _client_and_parent(session: Any) -> tuple[Any, str] | None:
    state = session.state.get(STATE_KEY)
    if not state:
        return None
    return state["client"], state["parent_run_id"]


@hookimpl
def fusionbench_session_started(session: Any) -> None:
    import logging

    import mlflow
    from mlflow.tracking import MlflowClient

    for noisy in ("mlflow", "alembic"):  # store migrations log at INFO on first use
        logging.getLogger(noisy).setLevel(logging.WARNING)
    uri = mlflow.get_tracking_uri()
    name = f"{EXPERIMENT_PREFIX}{session.suite}"
    with _store_lock(uri):
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    parent = client.create_run(
        experiment_id,
        run_name=f"{session.suite}-{session.session_id}",
        tags={
            "fusionbench.session_id": session.session_id,
            "fusionbench.suite": session.suite,
            "fusionbench.suite_version": session.suite_version,
            "fusionbench.kind": "session",
        },
    )
    client.log_batch(
        parent.info.run_id,
        params=_params(
            {
                "suite": session.suite,
                "suite_version": session.suite_version,
                "executor": session.executor,
                "results_dir": session.results_dir,
                "n_runs": session.n_runs,
                "n_done_before": session.n_done_before,
            }
        ),
    )
    session.state[STATE_KEY] = {
        "client": client,
        "parent_run_id": parent.info.run_id,
        "experiment_id": experiment_id,
        "uri": uri,
    }


def _store_lock(uri: str) -> Any:
    """A lock around the first use of a sqlite store: MLflow creates and migrates the database
    then, and two sessions starting together on a fresh ``mlflow.db`` race (one fails with
    ``duplicate column name``) and both may create the experiment. Other stores need none."""
    import contextlib

    from fusionbench.filelock import locked

    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == prefix + ":memory:":
        return contextlib.nullcontext()
    database = Path(uri[len(prefix):].split("?", 1)[0])
    return locked(database.with_name(database.name + ".lock"))


def _start_child(client: Any, state: dict[str, Any], parent_id: str, run: Any) -> str:
    child = client.create_run(
        state["experiment_id"],
        run_name=run.label,
        tags={
            "mlflow.parentRunId": parent_id,
            "fusionbench.run_key": run.run_key,
            "fusionbench.status": "running",
            "fusionbench.data_sha256": run.data_sha256,
            "fusionbench.weights_sha256": json.dumps(list(run.weights_sha256)),
            "fusionbench.kind": "run",
        },
    )
    return child.info.run_id


@hookimpl
def fusionbench_run_started(run: Any, session: Any) -> None:
    """The nested run starts when the run is handed to a worker and ends when it finishes, so
    MLflow's start and end times (and its duration column) are the run's."""
    found = _client_and_parent(session)
    if found is None:
        return
    client, parent_id = found
    state = session.state[STATE_KEY]
    state.setdefault("children", {})[run.run_key] = _start_child(client, state, parent_id, run)


@hookimpl
def fusionbench_run_finished(run: Any, record: Any, scores_path: Path | None, session: Any) -> None:
    found = _client_and_parent(session)
    if found is None:
        return
    client, parent_id = found
    from mlflow.entities import Metric, Param, RunTag
    import time

    state = session.state[STATE_KEY]
    run_id = state.setdefault("children", {}).pop(run.run_key, None)
    if run_id is None:  # an executor that reported no start
        run_id = _start_child(client, state, parent_id, run)
    params = {
        "model": run.model.name,
        "model_params": json.dumps(dict(run.model.params), sort_keys=True),
        "model_version": run.model.spec_version,
        "dataset": run.dataset.name,
        "split": run.split,
        "task": run.task,
        "protocol": run.protocol,
        "sampler": run.sampler.label if run.sampler else "",
        "seed": run.seed,
        "metrics": ",".join(m.name for m in run.metrics),
    }
    now = int(time.time() * 1000)
    metrics = [Metric("wall_s", float(record.outcome.wall_s), now, 0)]
    if record.outcome.per_image_mean_s is not None:
        metrics.append(Metric("per_image_s", float(record.outcome.per_image_mean_s), now, 0))
    if scores_path is not None and scores_path.exists():
        import pandas as pd

        scores = pd.read_parquet(scores_path)
        for name, values in scores.groupby("metric")["value"]:
            metrics.append(Metric(_metric_key(name), float(values.mean()), now, 0))
            metrics.append(Metric(_metric_key(name) + "_std", float(values.std(ddof=1)) if len(values) > 1 else 0.0, now, 0))
    tags = [
        RunTag("fusionbench.label", run.label),
        RunTag("fusionbench.attempt", str(record.attempt)),
        RunTag("fusionbench.status", record.status),
    ]
    client.log_batch(run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()], tags=tags)
    client.log_text(run_id, run.to_json(), "run_spec.json")
    if scores_path is not None and scores_path.exists():
        client.log_artifact(run_id, str(scores_path), artifact_path="scores")
    if record.outcome.error_message:
        client.log_text(run_id, f"{record.outcome.error_type}: {record.outcome.error_message}\n\n{record.outcome.traceback}", "error.txt")
    client.set_terminated(run_id, status="FINISHED" if record.status == "ok" else "FAILED")


@hookimpl
def fusionbench_session_finished(session: Any, summary: Any) -> None:
    found = _client_and_parent(session)
    if found is None:
        return
    client, parent_id = found
    from mlflow.entities import Metric
    import time

    for run_id in session.state[STATE_KEY].pop("children", {}).values():  # started, never finished
        client.set_terminated(run_id, status="KILLED")
    now = int(time.time() * 1000)
    metrics = [Metric(f"runs_{status}", float(n), now, 0) for status, n in summary.counts.items()]
    metrics.append(Metric("session_wall_s", float(summary.wall_s), now, 0))
    metrics.append(Metric("runs_skipped_done", float(summary.skipped_done), now, 0))
    client.log_batch(parent_id, metrics=metrics)
    _log_plots(client, parent_id, session)
    client.set_terminated(parent_id, status="FAILED" if summary.n_failed else "FINISHED")


def _log_plots(client: Any, run_id: str, session: Any) -> None:
    """The suite's charts (over all its results so far) as artifacts of the session run."""
    import tempfile

    from fusionbench.results.render.plots import write_plots
    from fusionbench.results.reader import read_scores

    scores = read_scores(Path(session.results_dir), session.suite)
    if scores.empty:
        return
    with tempfile.TemporaryDirectory() as folder:
        for path in write_plots(scores, Path(session.results_dir), session.suite, Path(folder)):
            client.log_artifact(run_id, str(path), artifact_path="plots")


def _metric_key(name: str) -> str:
    return name.replace("[", "_").replace("]", "_")


def _params(values: dict[str, Any]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(k, str(v)) for k, v in values.items()]
