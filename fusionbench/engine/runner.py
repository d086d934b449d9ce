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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from fusionbench import __version__
from fusionbench.errors import PlanError
from fusionbench.engine.executors.base import WorkerConfig
from fusionbench.registry import call_hook_isolated
from fusionbench.engine.executors.base import Event, Job, JobFinished, JobStarted
from fusionbench.lazy import build
from fusionbench.engine.planner import Plan
from fusionbench.registry import Registry
from fusionbench.results.reader import completed_run_keys, last_attempts
from fusionbench.results.records import RunOutcome, RunRecord, SessionInfo, SessionSummary
from fusionbench.results.schema import run_record_table
from fusionbench.results.store import check_writable, runs_path, write_table_atomic
from fusionbench.engine.runspec import RunSpec


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


def pending_jobs(plan: Plan, results_dir: Path, force: bool) -> tuple[list[Job], int]:
    """Jobs still to do, with attempt numbers; a rerun skips runs whose latest attempt is ok."""
    done = completed_run_keys(results_dir)
    attempts = last_attempts(results_dir)
    jobs: list[Job] = []
    skipped = 0
    seen: set[str] = set()
    for run in plan.runs:
        key = run.run_key
        if key in seen:  # the same run requested twice in one plan
            continue
        seen.add(key)
        if key in done and not force:
            skipped += 1
            continue
        jobs.append(Job(run, attempts.get(key, 0) + 1))
    return jobs, skipped


def run_plan(
    registry: Registry, plan: Plan, options: RunOptions, listener: Listener | None = None, executor: Any | None = None
) -> SessionSummary:
    """Run what is pending of ``plan``. ``executor`` replaces the one ``options.executor`` names
    (``fusionbench score`` passes one that scores saved outputs, so it resumes, records and
    notifies observers exactly like a run)."""
    listener = listener or Listener()
    check_writable(options.results_dir)
    jobs, skipped = pending_jobs(plan, options.results_dir, options.force)
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
    summary = SessionSummary(skipped_done=skipped)
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
            _finish(registry, session, summary, event.job, event.outcome, options, env_json, host, listener, hook_errors)
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
        registry, "fusionbench_run_finished", {"run": run, "record": record, "scores_path": scores, "session": session}, errors
    )
    if errors:
        record.observer_errors.extend(errors)
        summary.observer_errors.extend(errors)
        write_table_atomic(run_record_table(record), runs_path(options.results_dir, run.suite, run.run_key, job.attempt))
    if listener.on_record:
        listener.on_record(record)


def select_executor_options(executor: str, devices: Sequence[str] | None, workers: int | None, timeout_s: float | None) -> dict[str, Any]:
    if executor == "inline":
        if devices and len(devices) > 1:
            raise PlanError("the inline executor runs on one device; use --executor local for several")
        return {"devices": list(devices)} if devices else {}
    return {"devices": list(devices) if devices else None, "workers": workers, "timeout_s": timeout_s}

