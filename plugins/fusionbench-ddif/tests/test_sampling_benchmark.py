"""Smoke test of ``benchmarks/sampling.py`` (the speed figures quoted in the docs): each section
runs end to end on the smallest configuration and writes well-formed rows, so a change to a
model's inference path cannot silently break the script that measures it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "sampling.py"


@pytest.fixture(scope="module")
def sampling():
    spec = importlib.util.spec_from_file_location("fusionbench_benchmark_sampling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(autouse=True)
def restore_threads():
    """The script's --threads sets the process-wide torch thread count; give it back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_ddif_section_times_the_tiny_preset(sampling, tmp_path, capsys):
    out = tmp_path / "rows.json"
    argv = [
        "--device",
        "cpu",
        "--presets",
        "tiny",
        "--sizes",
        "32",
        "--timed-steps",
        "1",
        "--threads",
        "1",
        "--json",
        str(out),
    ]
    assert sampling.main(argv) == 0
    (row,) = json.loads(out.read_text())
    assert row["preset"] == "tiny" and row["size"] == 32 and row["batch"] == 1 and row["device"] == "cpu"
    assert row["params"] > 0 and row["ms_per_step"] > 0 and row["gflop_per_step"] > 0 and row["images_per_s"] > 0
    assert "| tiny |" in capsys.readouterr().out


def test_ssdiff_section_times_the_tiny_preset(sampling, tmp_path, capsys):
    out = tmp_path / "rows.json"
    argv = [
        "--device",
        "cpu",
        "--presets",
        "tiny",
        "--sizes",
        "32",
        "--timed-steps",
        "1",
        "--threads",
        "1",
        "--no-ddif",
        "--json",
        str(out),
    ]
    assert sampling.ssdiff_main(argv) == 0
    (row,) = json.loads(out.read_text())
    assert row["preset"] == "tiny" and row["size"] == 32 and row["tiles"] >= 1 and row["ms_per_step"] > 0
    assert "tiny" in capsys.readouterr().out


def test_ddfm_section_times_the_shipped_tiny_prior(sampling, capsys):
    argv = ["--device", "cpu", "--presets", "tiny", "--size", "32", "--timed-steps", "1", "--threads", "1"]
    assert sampling.ddfm_main(argv) == 0
    assert "| tiny |" in capsys.readouterr().out
