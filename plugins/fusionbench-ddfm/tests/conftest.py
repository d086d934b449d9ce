"""Fixtures of the DDFM tests: the real samples in ../shared/data and small priors built on the fly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


def _shared_data() -> Path:
    """../shared/data: skip with a message when absent, FAIL under FUSIONBENCH_REQUIRE_SHARED_DATA=1."""
    if (SHARED_DATA / "ivf").is_dir() and (SHARED_DATA / "mif").is_dir():
        return SHARED_DATA
    message = f"shared data folder {SHARED_DATA} (with ivf/ and mif/) is absent"
    if os.environ.get("FUSIONBENCH_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(message + " and FUSIONBENCH_REQUIRE_SHARED_DATA=1", pytrace=False)
    pytest.skip(message + " (set FUSIONBENCH_REQUIRE_SHARED_DATA=1 to make this an error)")


@pytest.fixture(scope="session")
def ddfm_shared_data() -> Path:
    return _shared_data()


def write_prior(path: Path, config, seed: int = 0) -> Path:
    """A random-weight prior file (.safetensors + .json config) of the given UNetConfig."""
    import torch

    from fusionbench.training.checkpoint import save_weights
    from fusionbench_ddfm.unet import GuidedDiffusionUNet

    torch.manual_seed(seed)
    net = GuidedDiffusionUNet(config)
    for p in net.parameters():  # zero-initialised layers would make the network output constant
        p.data.add_(0.02 * torch.randn_like(p))
    save_weights(path, net.state_dict())
    path.with_suffix(".json").write_text(json.dumps({"model": {"network": config.to_dict()}}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def rgb_prior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small 3-channel prior with the paper's structure (exercises the RGB / YCbCr path)."""
    from fusionbench_ddfm.unet import UNetConfig

    config = UNetConfig(
        image_size=64,
        in_channels=3,
        model_channels=16,
        num_res_blocks=1,
        attention_resolutions=(8,),
        channel_mult=(1, 2, 2),
        num_head_channels=16,
        learn_sigma=True,
        groups=8,
    )
    return write_prior(tmp_path_factory.mktemp("priors") / "rgb.safetensors", config)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """DDFM runs 100 small network calls per image: on a shared 2-core machine, two OpenMP threads
    per process spin against each other (10x slower). The local executor gives each worker one
    thread; the tests do the same and restore the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
