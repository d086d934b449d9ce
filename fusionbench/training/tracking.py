"""MLflow logging of training runs (loss curves, learning rate, configuration).

An explicit :class:`mlflow.tracking.MlflowClient` — never mlflow's global active-run stack — on
``MLFLOW_TRACKING_URI`` when set, else MLflow's default store (the same rule as the benchmark's
MLflow observer). Only ``fusionbench train`` logs: a model that trains itself inside a benchmark
worker does not, because the coordinator is the only MLflow writer of a benchmark session.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

TRAIN_EXPERIMENT = "fusionbench-train"


class MlflowTrainingLogger:
    """``start(params)`` → ``log_metrics(step, {...})``… → ``finish(status)``; metrics are batched."""

    def __init__(
        self,
        experiment: str = TRAIN_EXPERIMENT,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        tracking_uri: str | None = None,
        flush_every: int = 20,
    ):
        self.experiment = experiment
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.tracking_uri = tracking_uri
        self.flush_every = flush_every
        self.client: Any = None
        self.run_id: str | None = None
        self._pending: list[Any] = []

    def start(self, params: Mapping[str, Any]) -> None:
        import logging

        import mlflow
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        for noisy in ("mlflow", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        self.client = MlflowClient(tracking_uri=self.tracking_uri or mlflow.get_tracking_uri())
        experiment = self.client.get_experiment_by_name(self.experiment)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(self.experiment)
        run = self.client.create_run(
            experiment_id, run_name=self.run_name, tags={"fusionbench.kind": "train", **self.tags}
        )
        self.run_id = run.info.run_id
        flat = _flatten(params)
        items = [Param(k, str(v)[:6000]) for k, v in sorted(flat.items())]
        for i in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, step: int, metrics: Mapping[str, float]) -> None:
        if self.client is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending.extend(Metric(k, float(v), now, int(step)) for k, v in metrics.items())
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.client is None or not self._pending:
            return
        for i in range(0, len(self._pending), 1000):
            self.client.log_batch(self.run_id, metrics=self._pending[i : i + 1000])
        self._pending = []

    def log_artifact(self, path: str) -> None:
        if self.client is not None:
            self.client.log_artifact(self.run_id, path)

    def finish(self, status: str = "FINISHED") -> None:
        if self.client is None:
            return
        self.flush()
        self.client.set_terminated(self.run_id, status=status)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
