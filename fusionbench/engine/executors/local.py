"""One persistent worker process per slot (a GPU, or a CPU slot when there is none).

Why not ``ProcessPoolExecutor`` or joblib: when one worker dies (segfault, OOM kill) they fail
every pending job of the pool. Here the coordinator watches each worker's sentinel: a dead worker
fails only the run it was executing (status ``crashed``, with the signal), is replaced, and the
sweep goes on. A run over its time limit is killed the same way (status ``timeout``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import wait
from typing import Any

from fusionbench.engine.devices import explicit_gpus, visible_gpus
from fusionbench.engine.executors.base import EventSink, Job, JobFinished, JobProgress, JobStarted, WorkerConfig
from fusionbench.registry import call_hook_isolated
from fusionbench.results.records import RunOutcome, utc_now


@dataclass
class Slot:
    device: str  # device as seen inside the worker ("cpu", "cuda:0")
    env: dict[str, str] = field(default_factory=dict)
    label: str = "cpu"


def make_slots(devices: Sequence[str] | None, workers: int | None) -> list[Slot]:
    gpus = explicit_gpus(devices) if devices else visible_gpus()
    if gpus:
        return [Slot("cuda:0", {"CUDA_VISIBLE_DEVICES": gpu}, f"gpu{gpu}") for gpu in gpus]
    count = workers or os.cpu_count() or 1
    return [Slot("cpu", {"CUDA_VISIBLE_DEVICES": ""}, f"cpu{i}") for i in range(count)]


class _Worker:
    def __init__(self, slot: Slot, config: WorkerConfig, ctx: Any):
        self.slot = slot
        self.config = config
        self.ctx = ctx
        self.process: Any = None
        self.conn: Any = None
        self.job: Job | None = None
        self.job_started = 0.0  # monotonic clock, for time limits and wall times
        self.job_started_at: datetime | None = None  # wall clock, for the run record

    def ensure_started(self) -> None:
        if self.process is not None and self.process.is_alive():
            return
        from fusionbench.engine.executors.worker import worker_main

        parent, child = self.ctx.Pipe(duplex=True)
        config = replace(self.config, device=self.slot.device)
        self.process = self.ctx.Process(
            target=worker_main,
            args=(child, self.slot.env, config.__dict__),
            daemon=True,
            name=f"fusionbench-{self.slot.label}",
        )
        self.process.start()
        child.close()
        self.conn = parent

    def assign(self, job: Job) -> None:
        self.ensure_started()
        self.job = job
        self.job_started = time.monotonic()
        self.job_started_at = utc_now()
        self.conn.send((job.run.to_json(), job.attempt))

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.process = None
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            self.process.join(5)
        self.kill()


def _failure(status: str, message: str, worker: _Worker, traceback: str = "") -> RunOutcome:
    """The outcome of a run that ended without the worker's report: it keeps the run's real
    start time and the time it ran until it was killed, crashed or interrupted."""
    error_type = {"crashed": "WorkerCrashed", "failed": "WorkerError"}.get(status, status.capitalize())
    return RunOutcome(
        status=status,
        error_type=error_type,
        error_message=message,
        traceback=traceback,
        wall_s=time.monotonic() - worker.job_started if worker.job_started_at is not None else 0.0,
        device=worker.slot.device,
        started_at=worker.job_started_at or utc_now(),
        finished_at=utc_now(),
    )


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "worker vanished"
    if code < 0:
        try:
            return f"worker killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"worker killed by signal {-code}"
    return f"worker exited with code {code}"


class LocalExecutor:
    name = "local"

    def __init__(
        self,
        devices: Sequence[str] | None = None,
        workers: int | None = None,
        timeout_s: float | None = None,
        registry: Any = None,
        **_: object,
    ):
        self.devices = devices
        self.workers = workers
        self.timeout_s = timeout_s
        self.registry = registry

    def _choose(self, job: Job, idle: list[_Worker], errors: list[str]) -> _Worker:
        """Let a ``fusionbench_select_device`` plugin pick the slot; default: the first idle one.

        The plugins are asked in isolation: one that raises is recorded in ``errors`` (and so on
        the run, like an observer's error) and the next plugin, or the default, decides.
        """
        if self.registry is not None and len(idle) > 1:
            chosen = call_hook_isolated(
                self.registry,
                "fusionbench_select_device",
                {"run": job.run, "free_devices": [w.slot.label for w in idle]},
                errors,
                firstresult=True,
            )
            for worker in idle:
                if worker.slot.label == chosen:
                    return worker
        return idle[0]

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        if not jobs:
            return
        slots = make_slots(self.devices, self.workers)[: len(jobs)]
        if config.torch_threads is None and slots and slots[0].device == "cpu":
            config = replace(config, torch_threads=max(1, (os.cpu_count() or 1) // len(slots)))
        ctx = mp.get_context("spawn")
        workers = [_Worker(slot, config, ctx) for slot in slots]
        pending: deque[Job] = deque(jobs)
        try:
            while pending or any(w.job for w in workers):
                idle = [w for w in workers if w.job is None]
                while idle and pending:
                    job = pending.popleft()
                    errors: list[str] = []
                    worker = self._choose(job, idle, errors)
                    idle.remove(worker)
                    worker.assign(job)
                    emit(JobStarted(job, worker.slot.label, tuple(errors)))
                busy = [w for w in workers if w.job is not None]
                waitables = [w.conn for w in busy] + [w.process.sentinel for w in busy]
                wait(waitables, timeout=0.5)
                for worker in busy:
                    self._service(worker, emit)
        except KeyboardInterrupt:
            for worker in workers:
                if worker.job is not None:
                    emit(JobFinished(worker.job, _failure("interrupted", "interrupted by the user", worker)))
                    worker.job = None
                worker.kill()
            raise
        finally:
            for worker in workers:
                worker.stop()

    def _service(self, worker: _Worker, emit: EventSink) -> None:
        job = worker.job
        assert job is not None
        try:
            while worker.conn.poll():
                kind, *payload = worker.conn.recv()
                if kind == "progress":
                    emit(JobProgress(job, payload[0], payload[1]))
                elif kind == "done":
                    worker.job = None
                    emit(JobFinished(job, payload[0], tuple(payload[1]) if len(payload) > 1 else ()))
                    return
                elif kind == "fatal":
                    # the worker itself failed (it could not start, or its loop raised): the run
                    # fails with that traceback and is not retried as a crash would be
                    worker.job = None
                    worker.kill()
                    message, trace = payload
                    emit(
                        JobFinished(
                            job,
                            _failure("failed", f"worker error while running {job.run.label}: {message}", worker, trace),
                        )
                    )
                    return
        except (EOFError, OSError):
            pass  # the worker died; handled below
        elapsed = time.monotonic() - worker.job_started
        if not worker.process.is_alive():
            worker.process.join(1)
            reason = _describe_exit(worker.process.exitcode)
            worker.job = None
            worker.kill()
            emit(JobFinished(job, _failure("crashed", f"{reason} while running {job.run.label}", worker)))
        elif self.timeout_s is not None and elapsed > self.timeout_s:
            worker.job = None
            worker.kill()
            emit(
                JobFinished(
                    job, _failure("timeout", f"run exceeded the {self.timeout_s:g} s limit and was killed", worker)
                )
            )
