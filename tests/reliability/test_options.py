"""Bad ``fusionbench run`` options: one ``error:`` line, exit status 2, nothing run or written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fusionbench.cli import cli

from .conftest import fb

BASE = ["run", "--suite", "reduced-res", "--no-mlflow", "--executor", "inline", "-m", "exp", "-d", "synthetic-wv3-rr"]

BAD_OPTIONS = [
    (["--workers", "-1"], "--workers must be a positive integer, got -1"),
    (["--workers", "0"], "--workers must be a positive integer, got 0"),
    (["--retries", "-1"], "--retries must be 0 or more, got -1"),
    (["--timeout", "-1"], "--timeout must be a positive number of seconds, got -1"),
    (["--timeout", "0"], "--timeout must be a positive number of seconds, got 0"),
    (["--timeout", "nan"], "--timeout must be a positive number of seconds, got nan"),
    (["--timeout", "inf"], "--timeout must be a positive number of seconds, got inf"),
    (["--max-items", "0"], "--max-items must be a positive integer, got 0"),
    (["--seeds", "abc"], "--seeds: 'abc' is not an integer"),
    (["--seeds", "1,,2"], "empty seed between commas"),
    (["--seeds", " "], "--seeds: no seed given"),
    (["--seeds", "1e23"], "--seeds: '1e23' is not an integer"),
    (["--seeds", "100000000000000000000000"], "out of range; seeds are integers from 0 to 4294967295"),
    (["--seeds", "-1"], "--seeds: -1 is out of range"),
    (["-m", ""], "-m/--models: empty selection ''"),
    (["-m", ",,,"], "-m/--models: empty selection ',,,'"),
    (["-s", " , "], "-s/--samplers: empty selection"),
    (["-d", "nosuch"], "no dataset named 'nosuch'"),
    (["-d", "synthetic-ivf"], "-d/--datasets: 'synthetic-ivf' matches no dataset of suite 'reduced-res'"),
    (["-d", "nothing-*"], "-d/--datasets: 'nothing-*' matches no dataset of suite 'reduced-res'"),
]


@pytest.mark.parametrize("extra, message", BAD_OPTIONS, ids=[" ".join(e) for e, _ in BAD_OPTIONS])
def test_a_bad_option_is_one_line_and_exit_2_before_anything_runs(extra, message, tmp_path):
    results = tmp_path / "results"
    argv = [*BASE, *extra, "--results", str(results)]
    # later -m/-d replace nothing: multiple=True options accumulate, so drop the base ones first
    for option in ("-m", "-d"):
        if option in extra:
            index = argv.index(option)
            del argv[index : index + 2]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0], result.stderr
    assert not results.exists()


def test_bad_options_in_a_real_process(tmp_path: Path):
    """The same, as a user sees it: a subprocess, no traceback, nothing written."""
    for extra in (["--workers", "-1"], ["--seeds", "1,,2"]):
        result = fb(*BASE, *extra, cwd=tmp_path, timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "fusionbench-results").exists()
