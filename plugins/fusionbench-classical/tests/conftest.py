"""Fixtures for the classical baselines: real shared samples and small synthetic batches.

``shared_data`` has the semantics of the core's fixture (tests/conftest.py, not visible from
plugins/): skip when ../shared/data is absent, fail when FUSIONBENCH_REQUIRE_SHARED_DATA=1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from fusionbench import FusionBatch
from fusionbench.datasets.cards import pansharpening_card
from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.mtf import wald_degrade
from fusionbench.specs import DataCard

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real samples in ../shared/data: skip when absent, fail when CI requires them."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"shared data folder {SHARED_DATA} is absent"
    if os.environ.get("FUSIONBENCH_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(message + " and FUSIONBENCH_REQUIRE_SHARED_DATA=1", pytrace=False)
    pytest.skip(message + " (set FUSIONBENCH_REQUIRE_SHARED_DATA=1 to make this an error)")


PLEIADES_CARD = DataCard(sensor="Pleiades", ratio=4, bands=4, max_value=1023.0, mtf_gnyq=(0.3,) * 4)
"""The Pléiades sample: DN/1023, reproduces with GNyq 0.3 for every band (SOURCES.md, spec §A.4)."""

SAMPLES = {
    "WV3": ("cdif_WV3_test_RR.mat", pansharpening_card("WV3", 8)),
    "Pleiades": ("cdif_Pleiades_test_RR.mat", PLEIADES_CARD),
}


@pytest.fixture(scope="session")
def rr_sample(shared_data: Path) -> Callable[[str], tuple[FusionBatch, torch.Tensor]]:
    """``rr_sample("WV3" | "Pleiades")`` -> (batch in DN with lms = interp23tap(ms), gt in DN)."""
    from scipy.io import loadmat

    cache: dict[str, tuple[FusionBatch, torch.Tensor]] = {}

    def load(name: str) -> tuple[FusionBatch, torch.Tensor]:
        if name not in cache:
            filename, card = SAMPLES[name]
            data = loadmat(shared_data / "pansharpening" / filename)
            to_dn = lambda a: torch.from_numpy(np.atleast_3d(a).transpose(2, 0, 1)[None] * card.max_value)  # noqa: E731
            ms, pan = to_dn(data["lrms"]), to_dn(data["pan"])
            inputs = {"pan": pan, "ms": ms, "lms": interp23tap(ms, 4)}
            cache[name] = (FusionBatch((name,), inputs, card), to_dn(data["gt"]))
        return cache[name]

    return load


def make_pansharpening_batch(
    seed: int = 0, bands: int = 4, size: int = 32, batch: int = 1, sensor: str = "QB"
) -> tuple[FusionBatch, torch.Tensor]:
    """A small Wald-consistent batch in DN: correlated smooth bands, MS by the sensor's MTF, PAN ~ band mean."""
    g = torch.Generator().manual_seed(seed)
    card = pansharpening_card(sensor, bands)
    smooth = lambda c: torch.nn.functional.interpolate(  # noqa: E731
        torch.rand(batch, c, size // 8, size // 8, generator=g, dtype=torch.float64),
        size=(size, size), mode="bicubic", align_corners=False,
    ).clamp(0, 1)
    # correlated bands, as in real scenes: a shared brightness field times band gains, plus a
    # smaller band-specific field and fine texture
    gains = 0.6 + 0.8 * torch.rand(1, bands, 1, 1, generator=g, dtype=torch.float64)
    gt = 200.0 + 1000.0 * gains * smooth(1) + 300.0 * smooth(bands)
    gt = gt + 40.0 * torch.rand(batch, bands, size, size, generator=g, dtype=torch.float64)
    ms = wald_degrade(gt, list(card.mtf_gnyq), 4)
    pan = gt.mean(dim=1, keepdim=True) + 5.0 * torch.randn(batch, 1, size, size, generator=g, dtype=torch.float64)
    inputs = {"pan": pan, "ms": ms, "lms": interp23tap(ms, 4)}
    return FusionBatch(tuple(f"im{i}" for i in range(batch)), inputs, card), gt


@pytest.fixture
def ps_batch() -> Callable[..., tuple[FusionBatch, torch.Tensor]]:
    return make_pansharpening_batch
