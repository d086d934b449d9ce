"""The third-party path, end to end: build an outside plugin, pip-install it into a fresh venv,
see it in every list and run it in a default suite — with no change to fusionbench."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example-plugin"


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new venv that sees this environment's packages (so torch etc. need no reinstall) but has
    its own site-packages, into which the example plugin is installed by pip."""
    root = tmp_path_factory.mktemp("third-party")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
    )  # pip and setuptools come from the host env
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    host = sysconfig.get_paths()["purelib"]
    # addsitedir (not a bare path) so the host's own .pth files, e.g. editable installs, apply too
    Path(purelib, "_fusionbench_host_env.pth").write_text(f"import site; site.addsitedir({host!r})\n")
    source = root / "src"
    shutil.copytree(EXAMPLE, source)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(source)],
        check=True,
        cwd=root,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return python


def _fb(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "FUSIONBENCH_DISABLE_PLUGINS", "FUSIONBENCH_PLUGINS")
    }
    result = subprocess.run(
        [python, "-m", "fusionbench", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )
    assert result.returncode == 0, f"fusionbench {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_installed_plugin_is_listed_and_runs_in_the_default_suite(fresh_venv, tmp_path):
    plugins = {p["name"]: p for p in json.loads(_fb(fresh_venv, "plugins", "list", "--json", cwd=tmp_path).stdout)}
    assert plugins["example"]["state"] == "ok"
    assert plugins["example"]["dist"] == "fusionbench-example-highpass"
    assert plugins["example"]["components"] == {"model": ["example-highpass"]}
    models = {m["name"] for m in json.loads(_fb(fresh_venv, "list", "models", "--json", cwd=tmp_path).stdout)}
    assert "example-highpass" in models
    assert "reduced-res" in _fb(fresh_venv, "info", "example-highpass", cwd=tmp_path).stdout

    _fb(
        fresh_venv,
        "run",
        "--suite",
        "reduced-res",
        "-m",
        "example-highpass,exp",
        "-d",
        "synthetic-wv3-rr",
        "--max-items",
        "2",
        "--no-mlflow",
        "--executor",
        "inline",
        cwd=tmp_path,
    )
    csv = _fb(fresh_venv, "leaderboard", "show", "--format", "csv", cwd=tmp_path).stdout
    assert "example-highpass" in csv and "exp" in csv

    # the environment the tests run in never saw the plugin: it lives only in the fresh venv
    here = subprocess.run(
        [sys.executable, "-m", "fusionbench", "list", "models", "--json"], capture_output=True, text=True, check=True
    )
    assert "example-highpass" not in here.stdout


def test_third_party_plugin_passes_the_conformance_suite(fresh_venv, tmp_path):
    result = _fb(fresh_venv, "plugins", "check", "example", cwd=tmp_path)
    assert "passed" in result.stdout and "failed" not in result.stdout
