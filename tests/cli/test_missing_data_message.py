"""`fusionbench run` on a data root without the files: by default one short line per missing
dataset (not a page of instructions before every run); with --show-skipped or --plan the whole
"where I looked / how to get it" message, once per dataset (not once per model × dataset pair)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def fb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FUSIONBENCH_DATA"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "fusionbench", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    root = tmp_path / "data-root"
    root.mkdir()
    return root


def _assert_full_message_once(output: str, root: Path) -> None:
    searched = str(root / "pansharpening" / "wv3" / "test_wv3_multiExm1.h5")
    assert output.count(searched) == 1, output
    assert output.count(f"Looked under data root {root} for:") == 1, output
    assert output.count("How to get it: download the PanCollection") == 1, output
    assert "github.com/liangjiandeng/PanCollection" in output
    assert output.count(str(root / "pancollection" / "**" / "test_wv3_multiExm1.h5")) == 1, output


def _assert_short_line_once(output: str, dataset: str) -> None:
    lines = [line for line in output.splitlines() if line.startswith(f"dataset {dataset} skipped")]
    assert len(lines) == 1 and "data not found" in lines[0], output
    assert "How to get it" not in output and "Looked under data root" not in output, output
    assert "--show-skipped" in output


@pytest.mark.parametrize(
    "extra",
    [[], ["--show-skipped"], ["--plan"]],
    ids=["default", "show-skipped", "plan"],
)
def test_suite_with_only_a_missing_dataset(tmp_path: Path, empty_root: Path, extra: list[str]) -> None:
    # every pansharpening model of the suite is skipped on wv3-rr: 16+ pairs, one message
    result = fb(
        "run", "--suite", "reduced-res", "-d", "wv3-rr", "--data-root", str(empty_root),
        "--no-mlflow", "--results", str(tmp_path / "results"), *extra, cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if extra:
        _assert_full_message_once(output, empty_root)
    else:
        _assert_short_line_once(output, "wv3-rr")
    if "--plan" in extra:
        assert result.returncode == 0, output
    else:
        assert result.returncode != 0 and "expands to no runnable run" in result.stderr
    if extra:  # the table rows point at the message instead of repeating it
        assert output.count("data not found. (details below)") >= 2


def test_normal_run_beside_a_missing_dataset(tmp_path: Path, empty_root: Path) -> None:
    result = fb(
        "run", "--suite", "reduced-res", "-d", "wv3-rr,synthetic-wv3-rr", "-m", "exp,brovey",
        "--max-items", "1", "--executor", "inline", "--data-root", str(empty_root),
        "--no-mlflow", "--results", str(tmp_path / "results"), cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 runs" in result.stdout and "2 ok" in result.stdout
    _assert_short_line_once(output, "wv3-rr")
    assert "dataset wv3-rr skipped (2 models)" in result.stdout


def test_no_data_root_says_how_to_set_one(tmp_path: Path) -> None:
    result = fb("run", "--suite", "reduced-res", "-d", "wv3-rr,qb-rr", "--plan", "--no-mlflow", cwd=tmp_path)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert (
        output.count("No data root is set: pass --data-root PATH or set $FUSIONBENCH_DATA=PATH.") == 2
    )  # one per dataset
    assert output.count("<root>/pansharpening/qb/test_qb_multiExm1.h5") == 1
