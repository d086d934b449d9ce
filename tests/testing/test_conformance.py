"""fusionbench.testing: the conformance suite passes on good plugins and catches bad ones."""

from __future__ import annotations

import os
import subprocess
import sys


def _check(plugin: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fusionbench", "plugins", "check", plugin],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "fusionbench.testing.conformance",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_conformance_passes_for_well_behaved_components(good_fixture_only):
    result = _pytest("--fusionbench-plugin=fixture-good", "-k", "not (nan or raise or ivf-only)")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout and "failed" not in result.stdout


def test_conformance_flags_a_model_that_declares_a_task_it_cannot_do(good_fixture_only):
    result = _pytest("--fusionbench-plugin=fixture-good", "-k", "ivf-only")
    assert result.returncode != 0 and "KeyError: 'lms'" in result.stdout


def test_conformance_reports_a_broken_plugin(with_fixture_plugins):
    result = _check("fixture-raising")
    assert result.returncode != 0
    assert "exploded while registering" in result.stdout


def test_conformance_catches_a_nan_model(good_fixture_only):
    result = _pytest("--fusionbench-plugin=fixture-good", "-k", "fixture-nan")
    assert result.returncode != 0
    assert "non-finite output" in result.stdout
