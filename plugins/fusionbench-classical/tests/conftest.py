"""Fixtures for the classical baselines: real shared samples and small synthetic batches.

``shared_data`` has the semantics of the core's fixture (tests/conftest.py, not visible from
plugins/): skip when ../shared/data is absent, fail when FUSIONBENCH_REQUIRE_SHARED_DATA=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
"""The Pléiades sample: DN/1023, reproduces with GNyq 0.3 for every band (the shared data's SOURCES.md; Wald's protocol, toolbox MTF.m)."""

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
        size=(size, size),
        mode="bicubic",
        align_corners=False,
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


# -- an independent reading of the toolbox's undecimated wavelet low-pass --------------------------
def _conv_full(x: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    """MATLAB ``convn(X, F)`` with a 1-D ``F`` along ``axis``: the full convolution."""
    return np.apply_along_axis(lambda v: np.convolve(v, taps, mode="full"), axis, x)


def _wdec1d_lowpass(x: np.ndarray, lo: np.ndarray, axis: int) -> np.ndarray:
    """The low-pass output of ``ndwt2_working.m``'s ``wdec1D`` in its default ``'sym'`` mode.

    Step by step as written there: extend with ``X(:, lf-1:-1:1)`` on the left and
    ``X(:, end:-1:end-lf+1)`` on the right, ``convn``, keep samples ``lf .. end-lf+1``, then the
    central ``lc = lx + lf - 1`` of those (1-based indices converted to Python slices).
    """
    x = np.moveaxis(x, axis, -1)
    lf, lx = lo.size, x.shape[-1]
    lc = lx + lf - 1
    extended = np.concatenate([x[..., lf - 2 :: -1], x, x[..., : -lf - 1 : -1]], axis=-1)
    low = _conv_full(extended, lo, -1)
    low = low[..., lf - 1 : low.shape[-1] - lf + 1]
    first = (low.shape[-1] - lc) // 2
    return np.moveaxis(low[..., first : first + lc], -1, axis)


def _recfunc_approx(a: np.ndarray, lo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``indwt2_working.m``'s ``recFUNC`` with the three detail bands zero: ``wrec1D`` along
    rows then columns, divided by 4, then the central ``size`` part (``floor`` before, ``ceil``
    after)."""
    x = _conv_full(_conv_full(a, lo, 0), lo, 1) / 4.0
    out = []
    for axis, target in enumerate(size):
        excess = x.shape[axis] - target
        out.append(slice(excess // 2, x.shape[axis] - (excess - excess // 2)))
    return x[tuple(out)]


def toolbox_ndwt_lowpass(img: np.ndarray, ratio: int) -> np.ndarray:
    """``indwt2_working(WT, 'c')`` after ``WT = ndwt2_working(I, ceil(log2 ratio), WF)`` with every
    detail band zeroed, for ``WF = sqrt(2) {h, [0 0 1 0 0] - h, h, [0 0 1 0 0] + h}``,
    ``h = [1 4 6 4 1]/16`` — the low-pass of the toolbox's ``LPfilterPlusDec.m`` (GSA) and
    ``AWLP.m``, written from those MATLAB files' text (Pansharpening Toolbox, Vivone et al.),
    not from the implementation under test. ``img`` is one 2-D band."""
    lo = np.sqrt(2.0) * np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    levels = int(np.ceil(np.log2(ratio)))
    sizes = [img.shape]
    approx = np.asarray(img, dtype=np.float64)
    for _ in range(levels):  # decFUNC: along the second dimension, then the first
        approx = _wdec1d_lowpass(_wdec1d_lowpass(approx, lo, 1), lo, 0)
        sizes.append(approx.shape)
    for size in reversed(sizes[:-1]):
        approx = _recfunc_approx(approx, lo, size)
    return approx


@pytest.fixture
def ndwt_lowpass() -> Callable[[np.ndarray, int], np.ndarray]:
    """The toolbox's undecimated-wavelet low-pass, independently of ``_filters`` (see
    :func:`toolbox_ndwt_lowpass`)."""
    return toolbox_ndwt_lowpass
