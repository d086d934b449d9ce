"""Progress bars: one for the sweep, one per active run (images done / total)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from fusionbench.engine.executors.base import Event, JobFinished, JobProgress, JobStarted
from ..results.records import RunRecord
from fusionbench.engine.runner import Listener


class RichListener:
    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.sweep: Any = None
        self.tasks: dict[str, Any] = {}
        self.failures: list[RunRecord] = []
        self.finished: set[str] = set()  # run keys that already ended once in this session

    def __enter__(self) -> "RichListener":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def as_listener(self) -> Listener:
        return Listener(on_session=self._session, on_event=self._event, on_record=self._record)

    def _session(self, session: Any, jobs: list[Any]) -> None:
        self.sweep = self.progress.add_task(f"[bold]{session.suite}[/] sweep", total=len(jobs))

    def _event(self, event: Event) -> None:
        key = event.job.run.run_key
        if isinstance(event, JobStarted):
            if key in self.finished and self.sweep is not None:
                # a retry (its worker crashed): one more attempt to wait for, so the bar counts
                # attempts and never shows more done than its total
                self.finished.discard(key)
                sweep = next(t for t in self.progress.tasks if t.id == self.sweep)
                self.progress.update(self.sweep, total=(sweep.total or 0) + 1)
            self.tasks[key] = self.progress.add_task(f"  {event.job.run.label} [dim]({event.device})[/]", total=None)
        elif isinstance(event, JobProgress) and key in self.tasks:
            self.progress.update(self.tasks[key], completed=event.done, total=event.total)
        elif isinstance(event, JobFinished):
            task = self.tasks.pop(key, None)
            if task is not None:
                self.progress.remove_task(task)
            self.finished.add(key)
            if self.sweep is not None:
                self.progress.advance(self.sweep)

    def _record(self, record: RunRecord) -> None:
        status = record.status
        colour = "green" if status == "ok" else "red"
        self.progress.console.print(f"[{colour}]{status:>8}[/] {record.label}  {record.outcome.wall_s:.1f} s")
        if status != "ok":
            self.failures.append(record)
