"""`fusionbench ddfm train-prior` runs a couple of steps, resumes, exports a file DDFM loads; the
shipped tiny prior's provenance file is complete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from fusionbench.cli import cli
from fusionbench.diffusion.samplers import make_sampler
from fusionbench.protocols import FusionBatch
from fusionbench.specs import DataCard
from fusionbench_ddfm.model import DDFM
from fusionbench_ddfm.prior import WEIGHTS_DIR
from fusionbench_ddfm.prior_training import SKIMAGE_IMAGES, NaturalPatches, file_digest


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for n in range(3):
        yy, xx = np.mgrid[0:72, 0:80]
        img = 128 + 60 * np.sin(xx / (4 + n)) * np.cos(yy / 7) + rng.normal(0, 10, (72, 80))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"{n}.png")
    return folder


def test_train_prior_command_runs_resumes_and_exports(tmp_path, image_folder):
    runner = CliRunner()
    out, export = tmp_path / "ckpt", tmp_path / "prior.safetensors"
    args = ["ddfm", "train-prior", "--images", str(image_folder), "--out", str(out), "--batch-size", "2", "--quiet"]
    first = runner.invoke(cli, [*args, "--iterations", "2"])
    assert first.exit_code == 0, first.output
    assert "2 iterations" in first.output and (out / "config.json").is_file()
    second = runner.invoke(cli, [*args, "--iterations", "3", "--export", str(export)])
    assert second.exit_code == 0, second.output
    assert "resuming at step 2/3" in second.output and export.is_file()
    meta = json.loads(export.with_suffix(".json").read_text())
    assert meta["step"] == 3 and meta["model"]["network"]["in_channels"] == 1 and meta["sha256"] == file_digest(export)
    assert sorted(meta["model"]["image_files"]) == ["0.png", "1.png", "2.png"]

    model = DDFM(checkpoint=str(export))
    model.load(export)
    ir = torch.full((1, 1, 16, 16), 100.0, dtype=torch.float64)
    vi = torch.linspace(0, 255, 256, dtype=torch.float64).view(1, 1, 16, 16)
    fused = model.fuse(
        FusionBatch(("a",), {"ir": ir, "vi": vi}, DataCard(max_value=255.0)),
        sampler=make_sampler("ddpm", steps=2),
        generator=torch.Generator().manual_seed(0),
    )
    assert fused.shape == ir.shape and bool(torch.isfinite(fused).all())


def test_fusionbench_train_points_to_the_prior_command():
    result = CliRunner().invoke(cli, ["train", "ddfm", "--dataset", "synthetic-ivf", "--no-mlflow", "--quiet"])
    assert result.exit_code != 0 and "train-prior" in result.output


def test_patches_are_reproducible_and_in_range(image_folder):
    from fusionbench_ddfm.prior_training import read_grey

    images = [read_grey(p) for p in sorted(image_folder.iterdir())]
    patches = NaturalPatches(images, crop=32, batch_size=4, scales=(1.0, 0.5))
    a = patches(0, torch.Generator().manual_seed(3))
    b = patches(0, torch.Generator().manual_seed(3))
    assert a.shape == (4, 1, 32, 32) and torch.equal(a, b)
    assert float(a.min()) >= -1.0 and float(a.max()) <= 1.0


def test_shipped_prior_provenance():
    meta = json.loads((WEIGHTS_DIR / "tiny_prior.json").read_text())
    assert meta["sha256"] == file_digest(WEIGHTS_DIR / "tiny_prior.safetensors")
    assert meta["model"]["images"] == "skimage" and sorted(meta["model"]["image_files"]) == sorted(SKIMAGE_IMAGES)
    assert meta["model"]["parameters"] == 481_649 and (WEIGHTS_DIR / "README.md").is_file()
    assert (WEIGHTS_DIR / "tiny_prior.safetensors").stat().st_size < 4_000_000
