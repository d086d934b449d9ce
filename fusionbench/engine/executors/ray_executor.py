"""Ray executor (optional extra ``fusionbench[ray]``): one Ray task per run, for clusters.

Why results travel back instead of being written by the task: nodes of a cluster need not share
a filesystem, and the coordinator must stay the single writer. Each task writes into a private
temporary folder on its node and returns the Parquet bytes (and previews); the coordinator writes
them into the results folder with the same atomic protocol as every other executor.

Why resources are checked before submitting: a task asking for a GPU on a cluster without one
stays pending forever in Ray; here it is refused at once with a message.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from fusionbench.engine.executors.base import EventSink, Job, JobFinished, JobStarted, WorkerConfig
from fusionbench.errors import FusionbenchError
from fusionbench.results.records import RunOutcome, utc_now
from fusionbench.results.store import scores_path, write_bytes_atomic


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise FusionbenchError("the ray executor needs Ray: pip install 'fusionbench[ray]'") from exc
    return ray


def _run_task(
    run_json: str, attempt: int, config_dict: dict[str, Any]
) -> tuple[RunOutcome, bytes | None, dict[str, bytes], list[str]]:
    """Executed inside a Ray worker: run, then hand back the scores file and previews as bytes."""
    from fusionbench.engine.execution import WorkerConfig, execute_run
    from fusionbench.engine.runspec import RunSpec
    from fusionbench.registry import load_registry

    run = RunSpec.from_json(run_json)
    with tempfile.TemporaryDirectory(prefix="fusionbench-ray-") as folder:
        config = WorkerConfig(**{**config_dict, "results_dir": folder})
        if config.device == "auto":
            import torch

            config = replace(config, device="cuda:0" if torch.cuda.is_available() else "cpu")
        hook_errors: list[str] = []
        outcome = execute_run(run, attempt, load_registry(), config, hook_errors=hook_errors)
        data = Path(outcome.scores_path).read_bytes() if outcome.scores_path else None
        previews = {str(path.relative_to(folder)): path.read_bytes() for path in Path(folder).rglob("*.png")}
    return outcome, data, previews, hook_errors


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        gpus_per_run: float | None = None,
        cpus_per_run: float = 1.0,
        timeout_s: float | None = None,
        devices: Sequence[str] | None = None,
        workers: int | None = None,
        **_: object,
    ):
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.num_cpus = num_cpus or workers
        self.gpus_per_run = gpus_per_run
        self.cpus_per_run = cpus_per_run
        self.timeout_s = timeout_s

    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        if self.address:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=self.num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)

    def _resources(self, ray: Any) -> float:
        cluster = ray.cluster_resources()
        gpus = float(cluster.get("GPU", 0.0))
        if self.gpus_per_run is None:
            wanted = 1.0 if gpus > 0 else 0.0  # default: one GPU per run when the cluster has any
        else:
            wanted = float(self.gpus_per_run)
        if wanted > 0 and gpus < wanted:
            raise FusionbenchError(
                f"runs ask for {wanted:g} GPU each but the Ray cluster has {gpus:g} GPUs "
                f"(resources: {dict(cluster)}); use gpus_per_run=0 or a cluster with GPUs"
            )
        if float(cluster.get("CPU", 0.0)) < self.cpus_per_run:
            raise FusionbenchError(
                f"runs ask for {self.cpus_per_run:g} CPU each but the Ray cluster has {cluster.get('CPU', 0)}"
            )
        return wanted

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        if not jobs:
            return
        ray = _import_ray()
        self._connect(ray)
        gpus = self._resources(ray)
        task = ray.remote(_run_task).options(num_gpus=gpus, num_cpus=self.cpus_per_run, max_retries=0)
        worker_config = replace(config, device="auto" if gpus else "cpu", torch_threads=config.torch_threads or 1)
        pending: dict[Any, tuple[Job, float, datetime]] = {}
        for job in jobs:
            ref = task.remote(job.run.to_json(), job.attempt, worker_config.__dict__)
            pending[ref] = (job, time.monotonic(), utc_now())
            emit(JobStarted(job, "ray"))
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in done:
                    job, started, started_at = pending.pop(ref)
                    outcome, hook_errors = self._collect(ray, ref, job, config, started, started_at)
                    emit(JobFinished(job, outcome, hook_errors))
                if self.timeout_s is not None:
                    for ref, (job, started, started_at) in list(pending.items()):
                        if time.monotonic() - started > self.timeout_s:
                            ray.cancel(ref, force=True)
                            pending.pop(ref)
                            message = f"run exceeded the {self.timeout_s:g} s limit and was cancelled"
                            emit(JobFinished(job, _failed("timeout", message, started, started_at)))
        except KeyboardInterrupt:
            for ref, (job, started, started_at) in pending.items():
                ray.cancel(ref, force=True)
                emit(JobFinished(job, _failed("interrupted", "interrupted by the user", started, started_at)))
            raise

    def _collect(
        self, ray: Any, ref: Any, job: Job, config: WorkerConfig, started: float, started_at: datetime
    ) -> tuple[RunOutcome, tuple[str, ...]]:
        try:
            outcome, data, previews, hook_errors = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a dead Ray worker fails its run only
            return _failed("crashed", f"Ray task failed: {type(exc).__name__}: {exc}", started, started_at), ()
        results = Path(config.results_dir)
        if data is not None:
            path = scores_path(results, job.run.suite, job.run.task, job.run.run_key, job.attempt)
            write_bytes_atomic(path, data)
            outcome.scores_path = str(path)
        for relative, blob in previews.items():
            write_bytes_atomic(results / relative, blob)
        return outcome, tuple(hook_errors)


def _failed(status: str, message: str, started: float, started_at: datetime) -> RunOutcome:
    """A run that ended without its task's report; timed from its submission (queueing
    included: the coordinator cannot see when a Ray worker picked it up)."""
    return RunOutcome(
        status=status,
        error_type="RayTask" if status == "crashed" else status.capitalize(),
        error_message=message,
        wall_s=time.monotonic() - started,
        started_at=started_at,
        finished_at=utc_now(),
    )
