"""The third-party path from an empty folder, in a fresh virtual environment built from
``requirements.txt`` alone (no pytest, no hypothesis: what a user has after the README's first
command): ``fusionbench plugins new`` for every task, ``pip install -e``, ``fusionbench plugins
check`` (by entry-point, distribution and model name), ``fusionbench run`` in the task's suite;
an edited ``fuse()`` is scored again (source hash in the run key); a scaffolded model that
declares a checkpoint gets it with ``fusionbench weights fetch`` / ``run --allow-download`` from a
local HTTP server on 127.0.0.1.

One venv for the whole module (about 2-3 minutes on a CI machine; pip's cache is reused)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# task -> (plugin name, one embedded dataset of the task's suite, how `plugins check` names it)
TASKS = {
    "pansharpening": ("ex-pan", "synthetic-wv3-rr", "entry point"),
    "mhif": ("ex-hsi", "synthetic-cave-x4", "distribution"),
    "ivf": ("ex-ivf", "synthetic-ivf", "model"),
    "mif": ("ex-mif", "synthetic-mif", "entry point"),
}
SUITES = {"pansharpening": "reduced-res", "mhif": "mhif", "ivf": "ivf", "mif": "mif"}


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would leak the dev environment in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FUSIONBENCH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


class FreshEnv:
    def __init__(self, root: Path, python: Path, seconds: float):
        self.root, self.python, self.seconds = root, python, seconds

    def fb(self, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.python), "-m", "fusionbench", *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=_env(**env),
            timeout=900,
        )
        if ok:
            assert result.returncode == 0, f"fusionbench {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def run(
        self, task: str, model: str, results: str, *more: str, ok: bool = True, **env: str
    ) -> subprocess.CompletedProcess:
        return self.fb(
            "run",
            "--suite",
            SUITES[task],
            "-m",
            model,
            "-d",
            TASKS[task][1],
            "--max-items",
            "1",
            "--executor",
            "inline",
            "--no-mlflow",
            "--results",
            str(self.root / results),
            *more,
            ok=ok,
            **env,
        )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> FreshEnv:
    root = tmp_path_factory.mktemp("fresh-venv")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=REPO,
        env=_env(),
        check=True,
        timeout=1500,
    )
    env = FreshEnv(root, python, time.monotonic() - started)
    names = [name for name, _, _ in TASKS.values()] + ["ex-weights"]
    for task, (name, _, _) in TASKS.items():
        env.fb("plugins", "new", name, "--task", task, "--dir", str(root / name))
    env.fb("plugins", "new", "ex-weights", "--task", "pansharpening")  # default folder: ./fusionbench-ex-weights
    (root / "fusionbench-ex-weights").rename(root / "ex-weights")
    install = [arg for name in names for arg in ("-e", str(root / name))]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *install], cwd=root, env=_env(), check=True, timeout=900
    )
    print(f"fresh venv from requirements.txt: {env.seconds:.0f} s")
    return env


def test_the_venv_has_no_dev_dependencies(fresh):
    probe = subprocess.run([str(fresh.python), "-c", "import pytest"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'pytest'" in probe.stderr
    probe = subprocess.run([str(fresh.python), "-c", "import hypothesis"], capture_output=True, text=True)
    assert probe.returncode != 0


def test_scaffold_is_a_complete_distribution(fresh):
    folder = fresh.root / "ex-ivf"
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    meta = tomllib.loads((folder / "pyproject.toml").read_text())
    assert meta["build-system"]["build-backend"] == "setuptools.build_meta"
    assert meta["project"]["name"] == "fusionbench-ex-ivf" and meta["project"]["version"] == "0.1.0"
    assert meta["project"]["entry-points"]["fusionbench"] == {"ex-ivf": "fusionbench_ex_ivf.hooks"}
    for path in (
        "README.md",
        "fusionbench_ex_ivf/hooks.py",
        "fusionbench_ex_ivf/model.py",
        "tests/test_plugin.py",
        ".github/workflows/test.yml",
    ):
        assert (folder / path).is_file(), path
    assert "@@" not in "".join(p.read_text() for p in folder.rglob("*") if p.is_file() and "egg-info" not in str(p))
    assert "fusionbench plugins check ex-ivf" in (folder / ".github/workflows/test.yml").read_text()
    assert 'assert_conformance("ex-ivf")' in (folder / "tests/test_plugin.py").read_text()
    again = fresh.fb("plugins", "new", "ex-ivf", "--dir", str(folder), ok=False)
    assert again.returncode == 2 and "not an empty folder" in again.stderr


@pytest.mark.parametrize("task", sorted(TASKS))
def test_scaffold_passes_the_check_and_runs_in_its_suite(fresh, task):
    name, _, named_by = TASKS[task]
    target = {"entry point": name, "distribution": f"fusionbench-{name}", "model": f"{name}-detail"}[named_by]
    check = fresh.fb("plugins", "check", target)
    assert "model_output_contract_and_determinism" in check.stdout and "5 passed" in check.stdout, check.stdout
    assert "failed" not in check.stdout
    assert "skipped" not in check.stdout
    result = fresh.run(task, f"{name}-detail", f"results-{task}")
    assert "1 ok" in result.stdout and f"{name}-detail" in result.stdout, result.stdout


def test_unknown_check_name_is_one_line_listing_what_is_installed(fresh):
    result = fresh.fb("plugins", "check", "no-such-thing", ok=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "installed plugins:" in lines[0] and "ex-ivf (fusionbench-ex-ivf)" in lines[0]


def _specs(results: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        json.loads(row)
        for path in sorted(results.glob("runs/**/*.parquet"))
        for row in pq.read_table(path)["spec_json"].to_pylist()
    ]


def test_editing_fuse_without_a_version_bump_is_scored_again(fresh):
    model = fresh.root / "ex-mif" / "fusionbench_ex_mif" / "model.py"
    first = fresh.run("mif", "ex-mif-detail", "results-edit")
    assert "1 ok" in first.stdout
    assert "1 already done" in fresh.run("mif", "ex-mif-detail", "results-edit").stdout
    source = model.read_text()
    model.write_text(
        source.replace("base, guide = 0.5 * (mri + other), mri", "base, guide = 0.4 * mri + 0.6 * other, mri")
    )
    try:
        second = fresh.run("mif", "ex-mif-detail", "results-edit")
    finally:
        model.write_text(source)
    assert "1 ok" in second.stdout and "0 already done" in second.stdout, second.stdout
    hashes = [spec["model"]["source_sha256"] for spec in _specs(fresh.root / "results-edit")]
    assert len(hashes) == 2 and len(set(hashes)) == 2 and all(len(h) == 64 for h in hashes)


def test_scaffolded_model_declares_a_checkpoint_users_fetch(fresh, tmp_path):
    """The guide's section on weights, followed literally: declare the file with its URL and
    sha256 in WEIGHTS; a run without it says how to get it; `weights fetch` gets it; a run uses
    it; `run --allow-download` fetches it on first use."""
    import torch
    from safetensors.torch import save

    from fusionbench.testing.http import serve_files

    payload = save({"gain": torch.tensor([0.5], dtype=torch.float64)})
    sha = hashlib.sha256(payload).hexdigest()
    hooks = fresh.root / "ex-weights" / "fusionbench_ex_weights" / "hooks.py"
    weights_dir = tmp_path / "weights"
    with serve_files({"/ex-weights-v1.safetensors": payload}) as server:
        declared = f'WEIGHTS = (WeightsRef(uri="{server.url("/ex-weights-v1.safetensors")}", sha256="{sha}"),)\n'
        text = hooks.read_text()
        assert "WEIGHTS: tuple[WeightsRef, ...] = ()\n" in text
        hooks.write_text(text.replace("WEIGHTS: tuple[WeightsRef, ...] = ()\n", declared))

        missing = fresh.run(
            "pansharpening", "ex-weights-detail", "results-w", ok=False, FUSIONBENCH_WEIGHTS=str(weights_dir)
        )
        assert missing.returncode == 1 and "fusionbench weights fetch ex-weights-detail" in missing.stdout, (
            missing.stdout
        )

        fetched = fresh.fb("weights", "fetch", "ex-weights-detail", FUSIONBENCH_WEIGHTS=str(weights_dir))
        assert "downloaded" in fetched.stdout and (weights_dir / "ex-weights-v1.safetensors").read_bytes() == payload
        assert (
            "1 ok"
            in fresh.run("pansharpening", "ex-weights-detail", "results-w", FUSIONBENCH_WEIGHTS=str(weights_dir)).stdout
        )

        (weights_dir / "ex-weights-v1.safetensors").unlink()
        first_use = fresh.run(
            "pansharpening", "ex-weights-detail", "results-w2", "--allow-download", FUSIONBENCH_WEIGHTS=str(weights_dir)
        )
        assert "downloaded" in first_use.stdout and "1 ok" in first_use.stdout, first_use.stdout
    assert sorted(p.name for p in weights_dir.iterdir()) == ["ex-weights-v1.safetensors"]
    assert len(server.ranges) == 2  # two downloads, nothing fetched implicitly
