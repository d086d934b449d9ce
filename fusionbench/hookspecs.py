"""The fusionbench hook specifications (pluggy project marker ``"fusionbench"``).

Plugins implement these with ``@fusionbench.hookimpl`` in the module their
``[project.entry-points.fusionbench]`` entry point names. Registration hooks return specs
(one, a list, or a generator); each plugin's answer is collected in isolation, so one plugin
that raises is marked broken and the others keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from .specs import KINDS

if TYPE_CHECKING:  # pragma: no cover
    import click

    from fusionbench.engine.runspec import RunSpec

    from .results.records import RunRecord, SessionInfo, SessionSummary
    from .specs import DatasetSpec, ExecutorSpec, MetricSpec, ModelSpec, ReportedResult, SamplerSpec, SuiteSpec

hookspec = pluggy.HookspecMarker("fusionbench")
"""Marks the hook specifications below (the core's side of the contract)."""

hookimpl = pluggy.HookimplMarker("fusionbench")
"""Decorate hook implementations with this in a plugin module (the plugin's side); also
importable as ``fusionbench.hookimpl``."""


# -- registration -------------------------------------------------------------------------------
@hookspec
def fusionbench_register_models() -> Iterable[ModelSpec]:
    """Models this plugin provides."""


@hookspec
def fusionbench_register_samplers() -> Iterable[SamplerSpec]:
    """Diffusion samplers this plugin provides."""


@hookspec
def fusionbench_register_datasets() -> Iterable[DatasetSpec]:
    """Datasets this plugin provides."""


@hookspec
def fusionbench_register_metrics() -> Iterable[MetricSpec]:
    """Metrics this plugin provides."""


@hookspec
def fusionbench_register_suites() -> Iterable[SuiteSpec]:
    """Benchmark suites this plugin provides."""


@hookspec
def fusionbench_register_executors() -> Iterable[ExecutorSpec]:
    """Execution backends this plugin provides."""


@hookspec
def fusionbench_register_reported() -> Iterable[ReportedResult]:
    """Numbers papers report (transcribed, not run here): shown beside measured rows, never
    ranked with them. ``fusionbench.results.reported.read_reported_csv`` reads a packaged CSV."""


@hookspec
def fusionbench_register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``fusionbench`` command line."""


# -- resolvers (exactly one plugin owns the answer) ---------------------------------------------
@hookspec(firstresult=True)
def fusionbench_resolve_weights(uri: str, expected_sha256: str, cache_dir: Path) -> Path | None:
    """Find a checkpoint locally (never download). Return None to let the next plugin try."""


@hookspec(firstresult=True)
def fusionbench_select_device(run: RunSpec, free_devices: Sequence[str]) -> str | None:
    """Choose the device for a run among the free ones; None lets the default policy decide."""


# -- observers (coordinator only; an exception is recorded, never fatal) ------------------------
@hookspec
def fusionbench_session_started(session: SessionInfo) -> None:
    """A ``fusionbench run`` invocation starts."""


@hookspec
def fusionbench_run_started(run: RunSpec, session: SessionInfo) -> None:
    """A run is handed to a worker."""


@hookspec
def fusionbench_run_finished(run: RunSpec, record: RunRecord, scores_path: Path | None, session: SessionInfo) -> None:
    """A run ended (ok or not); ``scores_path`` is its per-image Parquet file when there is one."""


@hookspec
def fusionbench_session_finished(session: SessionInfo, summary: SessionSummary) -> None:
    """The invocation ends."""


@hookspec
def fusionbench_environment() -> Mapping[str, str]:
    """Extra provenance to record with every run (e.g. a plugin's compiled-extension build)."""


REGISTRATION_HOOKS: dict[str, str] = {kind: f"fusionbench_register_{kind}s" for kind in KINDS}
"""Component kind -> the hook that registers it (derived from :data:`fusionbench.specs.KINDS`,
the one list of kinds; a test checks every one is a hook spec above)."""

OBSERVER_HOOKS: tuple[str, ...] = (
    "fusionbench_session_started",
    "fusionbench_run_started",
    "fusionbench_run_finished",
    "fusionbench_session_finished",
)
