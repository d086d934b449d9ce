"""Where results live on disk and how they are written: one file per run attempt, atomically.

Layout (hive-style folders on low-cardinality keys only)::

    <results>/runs/suite=<s>/run-<run_key>-a<attempt>.parquet
    <results>/scores/suite=<s>/task=<t>/run-<run_key>-a<attempt>.parquet

A file is written under a dot-prefixed temporary name in the target folder, fsynced, then
``os.replace``d into place: readers never see half a file, and a crash leaves at most a dot file
that every reader ignores.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import settings
from ..errors import ResultsError

DEFAULT_RESULTS_DIR = settings.DEFAULT_RESULTS_DIR
_FILE = re.compile(r"^run-(?P<key>[0-9a-f]+)-a(?P<attempt>\d+)\.parquet$")


def default_results_dir() -> Path:
    """``$FUSIONBENCH_RESULTS`` or ``./fusionbench-results`` (see :mod:`fusionbench.settings`)."""
    return settings.results_dir()


def safe_name(part: str) -> str:
    """A user- or plugin-given name as one path component: every character outside
    ``[A-Za-z0-9_.-]`` becomes ``_`` (the one rule for every file and folder name we derive)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", part)


def scores_path(results: Path, suite: str, task: str, run_key: str, attempt: int) -> Path:
    return (
        results
        / "scores"
        / f"suite={safe_name(suite)}"
        / f"task={safe_name(task)}"
        / f"run-{run_key}-a{attempt}.parquet"
    )


def runs_path(results: Path, suite: str, run_key: str, attempt: int) -> Path:
    return results / "runs" / f"suite={safe_name(suite)}" / f"run-{run_key}-a{attempt}.parquet"


def parse_run_file(path: Path) -> tuple[str, int] | None:
    match = _FILE.match(path.name)
    return (match.group("key"), int(match.group("attempt"))) if match else None


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write ``table`` as Parquet to ``path`` so that the file either appears whole or not at all."""
    return _write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (previews, exported leaderboards)."""
    return _write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _write_atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """The one atomic-write routine: a dot-prefixed temporary file in the target folder, fsynced,
    then ``os.replace``d into place; on any failure the temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        # whatever went wrong (a full disk, a table Parquet cannot encode, Ctrl-C): no temp file
        # is left behind; only filesystem errors become a ResultsError, the rest propagate as is
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ResultsError(f"cannot write results file {path}: {exc.strerror or exc}") from exc
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(results: Path) -> None:
    """Fail before any work is done when the results folder cannot take files."""
    try:
        results.mkdir(parents=True, exist_ok=True)
        probe = results / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ResultsError(f"results folder {results} is not writable: {exc.strerror or exc}") from exc
