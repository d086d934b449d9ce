"""Serial execution in the calling process: no isolation, easiest to debug (pdb works)."""

from __future__ import annotations

from collections.abc import Sequence

from fusionbench.engine.execution import WorkerConfig, execute_run
from fusionbench.engine.executors.base import EventSink, Job, JobFinished, JobProgress, JobStarted
from fusionbench.errors import FusionbenchError
from fusionbench.registry import Registry
from fusionbench.results.records import RunOutcome, utc_now


def inline_device(devices: Sequence[str] | None) -> str:
    """The torch device for runs in this process.

    GPU labels are those of ``--devices`` / :func:`~fusionbench.engine.devices.visible_gpus`
    (the entries of ``CUDA_VISIBLE_DEVICES`` when it is set). In this process CUDA numbers the
    visible devices from 0, so with ``CUDA_VISIBLE_DEVICES=2,3`` GPU ``2`` is ``cuda:0``. No usable
    CUDA device (whatever ``CUDA_VISIBLE_DEVICES`` says) means the CPU, as does ``--devices cpu``;
    a GPU asked for explicitly that is not there is refused with a message.
    """
    from fusionbench.engine.devices import explicit_gpus, visible_gpus

    wanted = explicit_gpus(devices)
    if devices and not wanted:  # --devices cpu
        return "cpu"
    visible = visible_gpus()
    if not wanted:
        return "cuda:0" if visible else "cpu"
    if wanted[0] not in visible:
        raise FusionbenchError(
            f"GPU {wanted[0]!r} is not visible to this process (visible: {', '.join(visible) or 'none'}"
            + (", as listed in CUDA_VISIBLE_DEVICES)" if _env_set() else ")")
        )
    return f"cuda:{visible.index(wanted[0])}"


def _env_set() -> bool:
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES") is not None


class InlineExecutor:
    name = "inline"

    def __init__(self, registry: Registry | None = None, devices: Sequence[str] | None = None, **_: object):
        self.registry = registry
        self.devices = devices

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        from dataclasses import replace

        from fusionbench.registry import load_registry

        if not jobs:
            return
        registry = self.registry or load_registry()
        config = replace(config, device=inline_device(self.devices))
        for job in jobs:
            emit(JobStarted(job, config.device))
            hook_errors: list[str] = []
            started = utc_now()
            try:
                outcome = execute_run(
                    job.run,
                    job.attempt,
                    registry,
                    config,
                    progress=lambda done, total, job=job: emit(JobProgress(job, done, total)),
                    hook_errors=hook_errors,
                )
            except KeyboardInterrupt:
                # Ctrl-C or SIGTERM in the middle of a run: record it as interrupted (as the
                # local executor does) before the interruption ends the session
                interrupted = RunOutcome(
                    status="interrupted",
                    error_type="Interrupted",
                    error_message="interrupted by the user or a signal",
                    device=config.device,
                    started_at=started,
                    finished_at=utc_now(),
                )
                emit(JobFinished(job, interrupted, tuple(hook_errors)))
                raise
            emit(JobFinished(job, outcome, tuple(hook_errors)))
