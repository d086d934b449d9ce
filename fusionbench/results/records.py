"""Plain records exchanged between workers, the coordinator and observer plugins."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

RUN_STATUSES = ("ok", "failed", "crashed", "timeout", "invalid_output", "interrupted")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunOutcome:
    """What a worker reports for one run (picklable: it crosses process boundaries)."""

    status: str
    scores_path: str | None = None
    error_type: str = ""
    error_message: str = ""
    traceback: str = ""
    wall_s: float = 0.0
    per_image_mean_s: float | None = None
    n_images_expected: int | None = None
    n_images_scored: int = 0
    nfe: int | None = None
    peak_mem_mb: float | None = None
    device: str = ""
    device_name: str = ""
    torch_version: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunRecord:
    """One attempt of one run, as written to ``runs/`` and handed to observers."""

    run_key: str
    attempt: int
    suite: str
    label: str
    spec_json: str
    outcome: RunOutcome
    host: str = ""
    fusionbench_version: str = ""
    executor: str = ""
    env_json: str = "{}"
    observer_errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.outcome.status


@dataclass
class SessionInfo:
    session_id: str
    suite: str
    suite_version: str
    executor: str
    results_dir: str
    n_runs: int
    n_done_before: int
    started_at: datetime = field(default_factory=utc_now)
    argv: tuple[str, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)  # observers keep per-session state here


@dataclass
class SessionSummary:
    counts: dict[str, int] = field(default_factory=dict)
    skipped_done: int = 0
    claimed_elsewhere: int = 0  # pending runs left to the other session(s) running them now
    retried: int = 0
    wall_s: float = 0.0
    observer_errors: list[str] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return sum(n for status, n in self.counts.items() if status != "ok")
