"""The coordinator: plan → skip finished keys → execute → record → notify observers.

The coordinator is the single writer of the runs table and the only caller of observer hooks
(MLflow among them); workers only write their own scores files.
"""

from __future__ import annotations

import json
import platform
import socket
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fusionbench import __version__
from fusionbench.engine.executors.base import Event, Job, JobFinished, JobStarted, WorkerConfig
from fusionbench.engine.planner import Plan
from fusionbench.engine.runspec import RunSpec
from fusionbench.errors import PlanError
from fusionbench.filelock import try_lock
from fusionbench.lazy import build
from fusionbench.registry import Registry, call_hook_isolated
from fusionbench.results.reader import ReadReport, completed_run_keys, last_attempts
from fusionbench.results.records import RunOutcome, RunRecord, SessionInfo, SessionSummary
from fusionbench.results.schema import run_record_table
from fusionbench.results.store import check_writable, runs_path, scores_path, write_table_atomic


@dataclass
class RunOptions:
    results_dir: Path
    executor: str = "local"
    executor_options: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    retries: int = 1  # re-attempts of runs whose worker crashed (infrastructure), never of model errors
    data_root: Path | None = None
    cache_dir: Path | None = None
    argv: tuple[str, ...] = ()
    save_outputs: Path | None = None  # keep every fused image here (see engine/outputs_out.py)
    save_outputs_format: str = "h5"
    save_outputs_tif: bool = False


def environment_snapshot(registry: Registry) -> dict[str, str]:
    """Provenance recorded with every run: interpreter, platform and what plugins add."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "fusionbench": __version__,
    }
    for result in _call_observers(registry, "fusionbench_environment", {}, errors=[]):
        if isinstance(result, dict):
            env.update({str(k): str(v) for k, v in result.items()})
    return env


def _call_observers(registry: Registry, hook_name: str, kwargs: dict[str, Any], errors: list[str]) -> list[Any]:
    """Call each plugin's observer separately: a broken logger never fails a benchmark."""
    return call_hook_isolated(registry, hook_name, kwargs, errors)


@dataclass
class Listener:
    """UI callbacks (progress bars); all optional."""

    on_session: Callable[[SessionInfo, list[Job]], None] | None = None
    on_event: Callable[[Event], None] | None = None
    on_record: Callable[[RunRecord], None] | None = None


def pending_jobs(
    plan: Plan, results_dir: Path, force: bool, warnings: list[str] | None = None
) -> tuple[list[Job], int]:
    """Jobs still to do, with attempt numbers; a rerun skips runs whose latest attempt is ok.

    A run counts as done only when its scores file reads back: one deleted or truncated by
    hand, a full disk or a bad copy would otherwise keep its run "done" forever, and the method
    would silently vanish from the leaderboard. Such a run is redone as a new attempt; why goes
    to ``warnings``, as do results files that cannot be read and are skipped."""
    sink = warnings if warnings is not None else []
    report = ReadReport()
    done = completed_run_keys(results_dir, report)
    attempts = last_attempts(results_dir, report)
    sink.extend(dict.fromkeys(report.problems))  # each file once, though read twice
    jobs: list[Job] = []
    skipped = 0
    seen: set[str] = set()
    for run in plan.runs:
        key = run.run_key
        if key in seen:  # the same run requested twice in one plan
            continue
        seen.add(key)
        if key in done and not force:
            problem = scores_problem(scores_path(results_dir, run.suite, run.task, key, done[key]))
            if problem is None:
                skipped += 1
                continue
            sink.append(f"run {run.label} was done but {problem}; running it again")
        jobs.append(Job(run, attempts.get(key, 0) + 1))
    return jobs, skipped


def scores_problem(path: Path) -> str | None:
    """Why the scores file at ``path`` does not read back (None: it does). Reads the footer
    only: cheap enough for every finished run of every rerun."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return f"its scores file {path} is missing"
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - truncated, overwritten, not Parquet: all mean "redo"
        return f"its scores file {path} is unreadable ({type(exc).__name__}: {exc})"
    return None if rows else f"its scores file {path} holds no scores"


class Claims:
    """Which pending runs this session does, when several share a results folder.

    Two terminals, or the tasks of a cluster job array, running the same suite on one folder
    would each run every pending run (and log it to MLflow). Each run key has a lock file in
    ``<results>/locks/``; a session runs only the keys whose lock it holds, for as long as it
    runs. The locks are ``flock`` s (:mod:`fusionbench.filelock`): released by the kernel when
    the session ends however it ends, so a run claimed by a session that died is free again.
    """

    def __init__(self, results_dir: Path):
        self.folder = results_dir / "locks"
        self._held: dict[str, IO[str]] = {}

    def claim(self, run_key: str) -> bool:
        if run_key in self._held:
            return True
        handle = try_lock(self.folder / f"run-{run_key}.lock")
        if handle is None:
            return False
        self._held[run_key] = handle
        return True

    def release_all(self) -> None:
        for handle in self._held.values():
            handle.close()
        self._held.clear()


def claim_jobs(plan: Plan, options: RunOptions, claims: Claims, warnings: list[str]) -> tuple[list[Job], int, int]:
    """(jobs this session runs, runs done before, runs being run by another session).

    Pending runs are claimed, then the results are read again: a run another session finished
    between the first look and the claim is done, and attempt numbers are those after it."""
    candidates, _ = pending_jobs(plan, options.results_dir, options.force)
    mine = {job.run.run_key for job in candidates if claims.claim(job.run.run_key)}
    jobs, skipped = pending_jobs(plan, options.results_dir, options.force, warnings)
    elsewhere = sum(1 for job in jobs if job.run.run_key not in mine)
    return [job for job in jobs if job.run.run_key in mine], skipped, elsewhere


STALE_TMP_S = 3600.0
"""A temporary results file untouched this long belongs to a writer that is gone: writing one
takes seconds, and the writer removes it itself on any error it survives."""


def remove_stale_temporaries(results_dir: Path, older_than_s: float = STALE_TMP_S) -> int:
    """Delete the ``.<name>.<pid>.tmp`` files an atomic write left behind when its process was
    killed (or the disk filled while it was being cleaned up); readers ignore them, but they
    hold disk space. Only old ones: another session may be writing a young one right now."""
    now = time.time()
    removed = 0
    for path in results_dir.rglob(".*.tmp"):
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def run_plan(
    registry: Registry, plan: Plan, options: RunOptions, listener: Listener | None = None, executor: Any | None = None
) -> SessionSummary:
    """Run the plan's pending runs that no other session is running, recording each one.
    ``executor`` replaces the one ``options.executor`` names (``fusionbench score`` passes one
    that scores saved outputs, so it resumes, records and notifies observers exactly like a run)."""
    listener = listener or Listener()
    check_writable(options.results_dir)
    remove_stale_temporaries(options.results_dir)
    claims = Claims(options.results_dir)
    try:
        return _run_claimed(registry, plan, options, listener, claims, executor)
    finally:
        claims.release_all()


def _run_claimed(
    registry: Registry, plan: Plan, options: RunOptions, listener: Listener, claims: Claims, executor: Any | None
) -> SessionSummary:
    jobs, skipped, elsewhere = claim_jobs(plan, options, claims, [])
    suite = registry.get("suite", plan.suite).spec
    session = SessionInfo(
        session_id=uuid.uuid4().hex[:12],
        suite=suite.name,
        suite_version=str(suite.version),
        executor=options.executor,
        results_dir=str(options.results_dir),
        n_runs=len(jobs),
        n_done_before=skipped,
        argv=options.argv,
    )
    summary = SessionSummary(skipped_done=skipped, claimed_elsewhere=elsewhere)
    final_status: dict[str, str] = {}
    crashed: list[Job] = []
    env_json = json.dumps(environment_snapshot(registry), sort_keys=True)
    host = socket.gethostname()
    t0 = time.perf_counter()
    _call_observers(registry, "fusionbench_session_started", {"session": session}, summary.observer_errors)
    if listener.on_session:
        listener.on_session(session, jobs)

    placement_errors: dict[str, list[str]] = {}  # hook errors reported at JobStarted, kept for the record

    def emit(event: Event) -> None:
        if isinstance(event, JobStarted):
            if event.hook_errors:
                placement_errors.setdefault(event.job.run.run_key, []).extend(event.hook_errors)
            _call_observers(
                registry, "fusionbench_run_started", {"run": event.job.run, "session": session}, summary.observer_errors
            )
        if isinstance(event, JobFinished):
            hook_errors = [*placement_errors.pop(event.job.run.run_key, []), *event.hook_errors]
            _finish(
                registry, session, summary, event.job, event.outcome, options, env_json, host, listener, hook_errors
            )
            final_status[event.job.run.run_key] = event.outcome.status
            if event.outcome.status == "crashed":
                crashed.append(event.job)
        if listener.on_event:
            listener.on_event(event)

    if executor is None:
        executor = build(registry.get("executor", options.executor).spec, registry=registry, **options.executor_options)
    config = WorkerConfig(
        results_dir=str(options.results_dir),
        data_root=str(options.data_root) if options.data_root else None,
        cache_dir=str(options.cache_dir) if options.cache_dir else None,
        save_outputs=str(options.save_outputs) if options.save_outputs else None,
        save_outputs_format=options.save_outputs_format,
        save_outputs_tif=options.save_outputs_tif,
    )
    try:
        remaining = list(jobs)
        for round_ in range(options.retries + 1):
            crashed.clear()
            executor.run(remaining, config, emit)
            if not crashed or round_ == options.retries:
                break
            remaining = [Job(job.run, job.attempt + 1) for job in crashed]
            summary.retried += len(remaining)
    finally:
        for status in final_status.values():
            summary.counts[status] = summary.counts.get(status, 0) + 1
        summary.wall_s = time.perf_counter() - t0
        _call_observers(
            registry, "fusionbench_session_finished", {"session": session, "summary": summary}, summary.observer_errors
        )
    return summary


def _finish(
    registry: Registry,
    session: SessionInfo,
    summary: SessionSummary,
    job: Job,
    outcome: RunOutcome,
    options: RunOptions,
    env_json: str,
    host: str,
    listener: Listener,
    hook_errors: Sequence[str] = (),
) -> None:
    run: RunSpec = job.run
    summary.observer_errors.extend(hook_errors)
    record = RunRecord(
        run_key=run.run_key,
        attempt=job.attempt,
        suite=run.suite,
        label=run.label,
        spec_json=run.to_json(),
        outcome=outcome,
        host=host,
        fusionbench_version=__version__,
        executor=options.executor,
        env_json=env_json,
        observer_errors=list(hook_errors),  # plugin hooks that raised while placing or running it
    )
    # Runs record first: once the scores are on disk, nothing an observer does can lose them.
    write_table_atomic(run_record_table(record), runs_path(options.results_dir, run.suite, run.run_key, job.attempt))
    errors: list[str] = []
    scores = Path(outcome.scores_path) if outcome.scores_path else None
    _call_observers(
        registry,
        "fusionbench_run_finished",
        {"run": run, "record": record, "scores_path": scores, "session": session},
        errors,
    )
    if errors:
        record.observer_errors.extend(errors)
        summary.observer_errors.extend(errors)
        write_table_atomic(
            run_record_table(record), runs_path(options.results_dir, run.suite, run.run_key, job.attempt)
        )
    if listener.on_record:
        listener.on_record(record)


def select_executor_options(
    executor: str, devices: Sequence[str] | None, workers: int | None, timeout_s: float | None
) -> dict[str, Any]:
    if executor == "inline":
        if devices and len(devices) > 1:
            raise PlanError("the inline executor runs on one device; use --executor local for several")
        return {"devices": list(devices)} if devices else {}
    return {"devices": list(devices) if devices else None, "workers": workers, "timeout_s": timeout_s}
