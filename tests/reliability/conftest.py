"""Helpers of the reliability tests: the CLI as a user runs it, and a plugin installed the way
pip installs one (a ``*.dist-info`` folder with an entry point), written straight into a folder
on ``PYTHONPATH`` because building a wheel costs seconds and proves nothing more here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FAST = ("--executor", "inline", "--no-mlflow", "--max-items", "1")
"""Options that keep a run of the CLI to about a second: in-process, no MLflow store, one image."""


def fb(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``fusionbench ARGS`` in a subprocess; never raises on a non-zero exit."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fusionbench", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def install_plugin(site: Path, name: str, module_source: str, dist: str = "fb-reliability-plugin") -> None:
    """Make ``module_source`` an installed plugin named ``name`` (entry point group ``fusionbench``)."""
    module = name.replace("-", "_")
    (site / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = site / f"{dist.replace('-', '_')}_{module}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}-{name}\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(f"[fusionbench]\n{name} = {module}\n")


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on ``PYTHONPATH`` (this process and subprocesses) to install plugins into."""
    import importlib

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    importlib.invalidate_caches()
    return site
