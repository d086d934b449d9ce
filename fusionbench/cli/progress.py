"""Progress bars: one for the sweep, one per active run.

A run's bar counts sampling steps when its sampler reports them (a diffusion model spends minutes
on one image), else images, and shows an ETA; until the worker reports its total (while a model
loads or trains) the bar says "preparing" instead of ``0/?``. The sweep bar advances as soon as a
run's result line is printed, so it is never behind the runs listed above it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from fusionbench.engine.executors.base import Event, JobFinished, JobProgress, JobStarted
from fusionbench.engine.runner import Listener

from ..results.records import RunRecord


class _CountColumn(ProgressColumn):
    """``m/n`` runs for the sweep, a percentage for a run (its units are steps or images), and
    "preparing" while a run's total is unknown."""

    def __init__(self) -> None:
        super().__init__()
        self._mofn = MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("sweep"):
            return self._mofn.render(task)
        if task.total is None:
            return Text("preparing", style="dim")
        return Text(f"{task.percentage:>3.0f}%", style="progress.percentage")


class RichListener:
    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            _CountColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.sweep: Any = None
        self.tasks: dict[str, Any] = {}
        self.failures: list[RunRecord] = []
        self.finished: set[str] = set()  # run keys whose current attempt is counted as done

    def __enter__(self) -> RichListener:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def as_listener(self) -> Listener:
        return Listener(on_session=self._session, on_event=self._event, on_record=self._record)

    def _session(self, session: Any, jobs: list[Any]) -> None:
        self.sweep = self.progress.add_task(f"[bold]{escape(session.suite)}[/] sweep", total=len(jobs), sweep=True)

    def _count_done(self, key: str) -> None:
        """Close a run's bar and advance the sweep, once per attempt."""
        if key in self.finished:
            return
        task = self.tasks.pop(key, None)
        if task is not None:
            self.progress.remove_task(task)
        self.finished.add(key)
        if self.sweep is not None:
            self.progress.advance(self.sweep)

    def _event(self, event: Event) -> None:
        key = event.job.run.run_key
        if isinstance(event, JobStarted):
            if key in self.finished and self.sweep is not None:
                # a retry (its worker crashed): one more attempt to wait for, so the bar counts
                # attempts and never shows more done than its total
                self.finished.discard(key)
                sweep = next(t for t in self.progress.tasks if t.id == self.sweep)
                self.progress.update(self.sweep, total=(sweep.total or 0) + 1)
            label = f"  {escape(event.job.run.label)} [dim]({escape(event.device)})[/]"
            self.tasks[key] = self.progress.add_task(label, total=None)
        elif isinstance(event, JobProgress) and key in self.tasks:
            self.progress.update(self.tasks[key], completed=event.done, total=event.total)
        elif isinstance(event, JobFinished):
            self._count_done(key)

    def _record(self, record: RunRecord) -> None:
        self._count_done(record.run_key)
        status = record.status
        colour = "green" if status == "ok" else "red"
        self.progress.console.print(
            f"[{colour}]{status:>8}[/] {escape(record.label)}  {record.outcome.wall_s:.1f} s", soft_wrap=True
        )
        if status != "ok":
            self.failures.append(record)
