"""The executor protocol: the coordinator hands jobs over and receives events back.

Executors never write the runs table or talk to MLflow: they report outcomes and the coordinator
(the only writer) records them, together with the errors of plugin hooks called on the way
(``hook_errors``, in the format of :func:`fusionbench.registry.call_hook_isolated`), which end up
in the run's ``observer_errors`` like those of observer hooks. Workers do write each run's scores file, atomically, so scores
already computed survive whatever happens to the coordinator afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fusionbench.engine.runspec import RunSpec
from fusionbench.results.records import RunOutcome


@dataclass(frozen=True)
class Job:
    run: RunSpec
    attempt: int


@dataclass(frozen=True)
class JobStarted:
    job: Job
    device: str
    hook_errors: tuple[str, ...] = ()  # plugin hooks that raised while placing the job (device selector)


@dataclass(frozen=True)
class JobProgress:
    job: Job
    done: int
    total: int | None


@dataclass(frozen=True)
class JobFinished:
    job: Job
    outcome: RunOutcome
    hook_errors: tuple[str, ...] = ()  # plugin hooks that raised during the run (weights resolver)


Event = JobStarted | JobProgress | JobFinished
EventSink = Callable[[Event], None]


class Executor(Protocol):
    name: str

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None: ...


@dataclass(frozen=True)
class WorkerConfig:
    """Execution-only settings: they never enter a run key."""

    results_dir: str
    data_root: str | None = None
    cache_dir: str | None = None
    device: str = "cpu"
    torch_threads: int | None = None
    previews: int = 2  # PNG previews of the first N fused images of each run (0 = none)
    save_outputs: str | None = None  # folder for every fused image (``run --save-outputs``); None = not kept
    save_outputs_format: str = "h5"  # stacks (pansharpening, MHIF): "h5" (one file per run) or "mat" (one per item)
    save_outputs_tif: bool = False  # IVF/MIF: a float32 TIFF beside each 8-bit PNG
