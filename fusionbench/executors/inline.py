"""Serial execution in the calling process: no isolation, easiest to debug (pdb works)."""

from __future__ import annotations

from typing import Sequence

from ..execution import WorkerConfig, execute_run
from ..plugins import Registry
from .base import EventSink, Job, JobFinished, JobProgress, JobStarted


class InlineExecutor:
    name = "inline"

    def __init__(self, registry: Registry | None = None, devices: Sequence[str] | None = None, **_: object):
        self.registry = registry
        self.devices = devices

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        from dataclasses import replace

        from ..plugins import load_registry
        from .local import visible_gpus

        registry = self.registry or load_registry()
        gpus = list(self.devices) if self.devices else visible_gpus()
        if gpus and gpus != ["cpu"]:
            config = replace(config, device=f"cuda:{gpus[0]}")
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
