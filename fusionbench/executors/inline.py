"""Serial execution in the calling process: no isolation, easiest to debug (pdb works)."""

from __future__ import annotations

from typing import Sequence

from ..execution import WorkerConfig, execute_run
from ..plugins import Registry
from .base import EventSink, Job, JobFinished, JobProgress, JobStarted


class InlineExecutor:
    name = "inline"

    def __init__(self, registry: Registry | None = None, **_: object):
        self.registry = registry

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        from ..plugins import load_registry

        registry = self.registry or load_registry()
        for job in jobs:
            emit(JobStarted(job, config.device))
            outcome = execute_run(
                job.run,
                job.attempt,
                registry,
                config,
                progress=lambda done, total, job=job: emit(JobProgress(job, done, total)),
            )
            emit(JobFinished(job, outcome))
