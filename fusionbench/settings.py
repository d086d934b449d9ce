"""Every ``FUSIONBENCH_*`` environment variable, read in one place.

Why one module: the same variable read in several places drifts (one reader expands ``~``,
another does not; one trims blanks, another treats ``" "`` as a folder). Each function reads
the environment *when called*, so a test or a long-lived process that changes a variable sees
the change. ``docs/architecture.md`` lists them in one table, generated from :data:`VARIABLES`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RESULTS_DIR = "fusionbench-results"


@dataclass(frozen=True)
class Variable:
    """One environment variable the project reads: its name, default and meaning."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "FUSIONBENCH_DATA",
        "unset (embedded synthetic datasets only)",
        "root folder of the real datasets; `--data-root` wins",
    ),
    Variable("FUSIONBENCH_RESULTS", DEFAULT_RESULTS_DIR, "results folder; `--results` wins"),
    Variable(
        "FUSIONBENCH_WEIGHTS", "unset", "folder searched for checkpoints named by a model (after the path itself)"
    ),
    Variable("FUSIONBENCH_PLUGINS", "unset (all)", "comma-separated entry-point names: load only these plugins"),
    Variable("FUSIONBENCH_DISABLE_PLUGINS", "unset", "comma-separated entry-point names never loaded"),
    Variable(
        "FUSIONBENCH_NO_SHIPPED_CHECKPOINTS",
        "unset",
        "1: self-training models train instead of starting from the checkpoints their plugin ships",
    ),
    Variable(
        "FUSIONBENCH_REQUIRE_SHARED_DATA",
        "unset",
        "1 (CI): tests that need the shared real samples fail instead of skipping when they are absent",
    ),
    Variable(
        "FUSIONBENCH_REQUIRE_BROWSER",
        "unset",
        "1 (CI, test suite only): the leaderboard page test fails without Chromium",
    ),
    Variable("FUSIONBENCH_REQUIRE_RAY", "unset", "1 (CI, test suite only): the Ray executor tests fail without ray"),
    Variable("FUSIONBENCH_DDFM_FULL_ROUNDTRIP", "unset", "1 (test suite only): run the 2.2 GB DDFM prior round trip"),
)

_TRUE = {"1", "true", "yes", "on"}


def _text(name: str) -> str:
    return os.environ.get(name, "").strip()


def _path(name: str) -> Path | None:
    text = _text(name)
    return Path(text).expanduser() if text else None


def _names(name: str) -> frozenset[str]:
    return frozenset(part.strip() for part in _text(name).split(",") if part.strip())


def flag(name: str) -> bool:
    """A boolean variable: ``1``, ``true``, ``yes`` or ``on`` (any case) mean yes."""
    return _text(name).lower() in _TRUE


def data_root(explicit: Path | None = None) -> Path | None:
    """The real-data root: ``explicit`` (a ``--data-root``), else ``$FUSIONBENCH_DATA``, else none."""
    if explicit is not None:
        return Path(explicit).expanduser()
    return _path("FUSIONBENCH_DATA")


def results_dir(explicit: Path | None = None) -> Path:
    """The results folder: ``explicit`` (a ``--results``), else ``$FUSIONBENCH_RESULTS``, else
    ``./fusionbench-results``."""
    if explicit is not None:
        return Path(explicit).expanduser()
    return _path("FUSIONBENCH_RESULTS") or Path(DEFAULT_RESULTS_DIR)


def weights_dir() -> Path | None:
    """``$FUSIONBENCH_WEIGHTS``: where named checkpoints are looked for (none when unset)."""
    return _path("FUSIONBENCH_WEIGHTS")


def plugins_only() -> frozenset[str]:
    """``$FUSIONBENCH_PLUGINS``: when set, only these entry points load."""
    return _names("FUSIONBENCH_PLUGINS")


def plugins_disabled() -> frozenset[str]:
    """``$FUSIONBENCH_DISABLE_PLUGINS``: entry points that never load."""
    return _names("FUSIONBENCH_DISABLE_PLUGINS")


def use_shipped_checkpoints() -> bool:
    """False when ``$FUSIONBENCH_NO_SHIPPED_CHECKPOINTS`` is set: self-training models train."""
    return not flag("FUSIONBENCH_NO_SHIPPED_CHECKPOINTS")


def require_shared_data() -> bool:
    """``$FUSIONBENCH_REQUIRE_SHARED_DATA=1``: tests on the shared samples may not skip."""
    return flag("FUSIONBENCH_REQUIRE_SHARED_DATA")
