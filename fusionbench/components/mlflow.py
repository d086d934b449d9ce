"""MLflow tracking as an observer plugin: a parent run per invocation, a nested run per RunSpec.

Uses an explicit ``MlflowClient`` rather than mlflow's global active-run stack, so nothing leaks
between sessions in one process (tests) and the coordinator stays the only writer. The store is
MLflow's own default (``sqlite:///mlflow.db`` in the working directory) unless
``MLFLOW_TRACKING_URI`` says otherwise. mlflow is imported only when a session starts: it is slow
to import and ``fusionbench --help`` must stay fast.

What a person sees in the MLflow UI:

* nested runs named like the leaderboard (``ddif+ddim @ synthetic-gf2-rr s0``: the short label, the
  dataset, the seed); the full specification is a parameter and the ``run_spec.json`` artifact;
* the aggregate of every metric as a metric (a column of the runs table), NaN-free (``<m>_n_nan``
  counts what was left out), and a preview image per run;
* parameters named by what they belong to: ``run_seed`` is the run's seed, ``dataset.seed`` the
  data generator's, ``model.*``/``sampler.*`` the components' parameters;
* with the default sqlite store in the working directory, artifacts go to ``mlruns/`` beside it
  under a relative path, so a copied ``mlflow.db`` + ``mlruns/`` opens elsewhere;
* a session whose process died (SIGKILL, power loss) is not left ``RUNNING``: the next session on
  the same host marks it (and its open nested runs) ``KILLED``.
"""

from __future__ import annotations

import json
import os
import socket
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
        experiment_id = experiment.experiment_id if experiment else _create_experiment(client, uri, name)
    mark_stale_sessions(client, experiment_id)
    parent = client.create_run(
        experiment_id,
        run_name=f"{session.suite}-{session.session_id}",
        tags={
            "fusionbench.session_id": session.session_id,
            "fusionbench.suite": session.suite,
            "fusionbench.suite_version": session.suite_version,
            "fusionbench.kind": "session",
            HOST_TAG: socket.gethostname(),
            PID_TAG: str(os.getpid()),
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
        "catalog": _catalog(),
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
    database = Path(uri[len(prefix) :].split("?", 1)[0])
    return locked(database.with_name(database.name + ".lock"))


HOST_TAG = "fusionbench.host"
PID_TAG = "fusionbench.pid"


def _catalog() -> Any:
    """Parameter defaults of the installed components, for run names like the leaderboard's."""
    from fusionbench.registry import load_registry
    from fusionbench.results.labels import SpecCatalog

    try:
        return SpecCatalog.from_registry(load_registry())
    except Exception:  # noqa: BLE001 - without defaults, names keep every parameter that varies
        return SpecCatalog()


def _sqlite_file(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None


def _create_experiment(client: Any, uri: str, name: str) -> str:
    """Create the suite's experiment. With a sqlite store in the working directory (MLflow's
    default), its artifact location is recorded as the relative path ``mlruns/<id>``: MLflow
    itself always records an absolute path, so a store copied to another folder or machine would
    point its artifacts back at the original. Relative paths resolve against the working
    directory, i.e. the copied store's folder."""
    experiment_id = client.create_experiment(name)
    database = _sqlite_file(uri)
    try:
        here = database is not None and database.resolve().parent == Path.cwd().resolve()
    except OSError:
        here = False
    if here and database is not None:
        import sqlite3

        with sqlite3.connect(database) as connection:
            connection.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                (f"mlruns/{experiment_id}", int(experiment_id)),
            )
    return experiment_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_stale_sessions(client: Any, experiment_id: str) -> list[str]:
    """Mark ``KILLED`` the sessions of this experiment that are still ``RUNNING`` although their
    process (on this host) is gone, with their unfinished nested runs. Sessions of other hosts, or
    of live processes, are left alone. Returns the run ids it marked."""
    host = socket.gethostname()
    marked: list[str] = []
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING' and tags.`fusionbench.kind` = 'session'"
    )
    for parent in running:
        tags = parent.data.tags
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit() or _alive(int(tags[PID_TAG])):
            continue
        children = client.search_runs(
            [experiment_id],
            filter_string=f"attributes.status = 'RUNNING' and tags.mlflow.parentRunId = '{parent.info.run_id}'",
        )
        for run in [*children, parent]:
            client.set_tag(run.info.run_id, "fusionbench.status", "killed (process gone; marked by a later session)")
            client.set_terminated(run.info.run_id, status="KILLED")
            marked.append(run.info.run_id)
    return marked


def run_name(run: Any, catalog: Any = None) -> str:
    """``ddif+ddim @ synthetic-gf2-rr s0``: the leaderboard's short label, dataset and seed."""
    import pandas as pd

    from fusionbench.canonical import canonical_json
    from fusionbench.results.labels import short_labels

    row = {
        "model": run.model.name,
        "model_params_json": canonical_json(dict(run.model.params)),
        "model_version": run.model.spec_version,
        "weights_sha256_json": json.dumps(list(run.weights_sha256)),
        "sampler": run.sampler.name if run.sampler else None,
        "sampler_params_json": canonical_json(dict(run.sampler.params)) if run.sampler else None,
        "sampler_version": run.sampler.spec_version if run.sampler else None,
    }
    label = short_labels(pd.DataFrame([row]), catalog).iloc[0]
    repetition = f"r{run.repetition}" if run.repetition else ""
    return f"{label} @ {run.dataset.name} s{run.seed}{repetition}"


def run_source(run: Any) -> str:
    """``"outputs"`` for a run scored from saved outputs (``fusionbench score``), else ``"model"``:
    the tag ``fusionbench.source``, so such runs can be filtered in MLflow as on the boards."""
    from fusionbench.results.leaderboard import OUTPUTS_DIST

    return OUTPUTS_DIST if run.model.dist == OUTPUTS_DIST else "model"


def _start_child(client: Any, state: dict[str, Any], parent_id: str, run: Any) -> str:
    child = client.create_run(
        state["experiment_id"],
        run_name=run_name(run, state.get("catalog")),
        tags={
            "mlflow.parentRunId": parent_id,
            "fusionbench.run_key": run.run_key,
            "fusionbench.status": "running",
            "fusionbench.data_sha256": run.data_sha256,
            "fusionbench.weights_sha256": json.dumps(list(run.weights_sha256)),
            "fusionbench.kind": "run",
            "fusionbench.source": run_source(run),
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
    import time

    from mlflow.entities import Metric, Param, RunTag

    state = session.state[STATE_KEY]
    run_id = state.setdefault("children", {}).pop(run.run_key, None)
    if run_id is None:  # an executor that reported no start
        run_id = _start_child(client, state, parent_id, run)
    params = run_params(run)
    now = int(time.time() * 1000)
    metrics = [Metric("wall_s", float(record.outcome.wall_s), now, 0)]
    if record.outcome.per_image_mean_s is not None:
        metrics.append(Metric("per_image_s", float(record.outcome.per_image_mean_s), now, 0))
    if scores_path is not None and scores_path.exists():
        import pandas as pd

        metrics += aggregate_metrics(pd.read_parquet(scores_path), now)
    tags = [
        RunTag("fusionbench.label", run.label),
        RunTag("fusionbench.attempt", str(record.attempt)),
        RunTag("fusionbench.status", record.status),
    ]
    client.log_batch(run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()], tags=tags)
    client.log_text(run_id, run.to_json(), "run_spec.json")
    if scores_path is not None and scores_path.exists():
        client.log_artifact(run_id, str(scores_path), artifact_path="scores")
    _log_previews(client, run_id, session, run)
    if record.outcome.error_message:
        client.log_text(
            run_id,
            f"{record.outcome.error_type}: {record.outcome.error_message}\n\n{record.outcome.traceback}",
            "error.txt",
        )
    client.set_terminated(run_id, status="FINISHED" if record.status == "ok" else "FAILED")


@hookimpl
def fusionbench_session_finished(session: Any, summary: Any) -> None:
    found = _client_and_parent(session)
    if found is None:
        return
    client, parent_id = found
    import time

    from mlflow.entities import Metric

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

    from fusionbench.results.reader import read_scores
    from fusionbench.results.render.plots import write_plots

    scores = read_scores(Path(session.results_dir), session.suite)
    if scores.empty:
        return
    with tempfile.TemporaryDirectory() as folder:
        catalog = session.state.get(STATE_KEY, {}).get("catalog")
        for path in write_plots(scores, Path(session.results_dir), session.suite, Path(folder), catalog=catalog):
            client.log_artifact(run_id, str(path), artifact_path="plots")


def run_params(run: Any) -> dict[str, Any]:
    """The MLflow parameters of one run; names say whose they are (``run_seed`` is the run's seed,
    ``dataset.seed`` a data generator's)."""
    from fusionbench.canonical import canonical_json

    params: dict[str, Any] = {
        "model": run.model.name,
        "model_version": run.model.spec_version,
        "dataset": run.dataset.name,
        "split": run.split,
        "task": run.task,
        "protocol": run.protocol,
        "sampler": run.sampler.name if run.sampler else "",
        "run_seed": run.seed,
        "repetition": run.repetition,
        "spec": run.label,
        "metrics": ",".join(m.name for m in run.metrics),
        "weights_sha256": ",".join(run.weights_sha256) or "",
    }
    for prefix, ref in (("model", run.model), ("dataset", run.dataset), ("sampler", run.sampler)):
        for key, value in (dict(ref.params) if ref is not None else {}).items():
            params[f"{prefix}.{key}"] = value if isinstance(value, (str, int, float, bool)) else canonical_json(value)
    return {k: str(v)[:6000] for k, v in params.items()}


def aggregate_metrics(scores: Any, now: int) -> list[Any]:
    """Mean and std over images of every metric (NaN values left out and counted)."""
    from mlflow.entities import Metric

    out = []
    for name, values in scores.groupby("metric")["value"]:
        finite = values.dropna()
        key = _metric_key(str(name))
        if len(finite):
            out.append(Metric(key, float(finite.mean()), now, 0))
            out.append(Metric(key + "_std", float(finite.std(ddof=1)) if len(finite) > 1 else 0.0, now, 0))
        if len(finite) < len(values):
            out.append(Metric(key + "_n_nan", float(len(values) - len(finite)), now, 0))
    return out


def _log_previews(client: Any, run_id: str, session: Any, run: Any) -> None:
    """The run's fused preview(s) (and reference/error map) as artifacts under ``previews/``."""
    from fusionbench.results.previews import preview_dir

    folder = preview_dir(Path(session.results_dir), run.suite, run.run_key)
    if folder.is_dir():
        for path in sorted(folder.glob("*.png")):
            if ".source-" not in path.name:
                client.log_artifact(run_id, str(path), artifact_path="previews")


def _metric_key(name: str) -> str:
    return name.replace("[", "_").replace("]", "_")


def _params(values: dict[str, Any]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(k, str(v)) for k, v in values.items()]
