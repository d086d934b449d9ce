"""The fast formulations agree with direct transcriptions wherever their bookkeeping could slip:
Gaussian SSIM's banded matrix blocks (padding to whole blocks, sizes that are not multiples of
the block), and Q2n's moment algebra (constant blocks, zero bands, the toolbox's mean == 0
quirk), on random sizes and contents."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionbench.imaging.matlab import fspecial_gaussian
from fusionbench.metrics import naive
from fusionbench.metrics.q2n import q2n
from fusionbench.metrics.ssim import ssim_gaussian

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wang_ssim(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """Wang's ssim_index: 2-D 11x11 Gaussian, 'valid', population moments."""
    w = fspecial_gaussian(11, 1.5)
    filt = lambda t: ndi.correlate(t, w, mode="constant")[5:-5, 5:-5]  # noqa: E731
    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    return float((((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())


@SETTINGS
@given(h=st.integers(11, 160), w=st.integers(11, 160), c=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_banded_gaussian_ssim_matches_2d_filtering(h: int, w: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (2, c, h, w))
    y = np.clip(x + rng.normal(0, 20, x.shape), 0, 255)
    got = ssim_gaussian(torch.from_numpy(x), torch.from_numpy(y), 255.0)
    assert got.shape == (2, c)
    want = np.array([[wang_ssim(x[i, k], y[i, k], 255.0) for k in range(c)] for i in range(2)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=0)


@SETTINGS
@given(
    bands=st.sampled_from([3, 4, 8]),
    size=st.sampled_from([(64, 64), (40, 72), (96, 33)]),
    seed=st.integers(0, 2**16),
    flat=st.booleans(),
    zero_band=st.booleans(),
)
def test_q2n_moments_match_toolbox_loops(
    bands: int, size: tuple[int, int], seed: int, flat: bool, zero_band: bool
) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.uniform(0, 2047, (1, bands, *size))
    fused = np.clip(ref + rng.normal(0, 40, ref.shape), 0, None)
    if flat:  # a constant reference block (std 0 -> eps) and a fused one (t3 == 0 branch)
        ref[..., :32, :32] = 700.0
        fused[..., 32:, 32:] = 300.0
    if zero_band:  # mean 0: the toolbox maps the fused band as if the std were 1
        ref[:, 1] = 0.0
    got = q2n(torch.from_numpy(ref), torch.from_numpy(fused)).item()
    want = naive.q2n(ref[0].transpose(1, 2, 0), fused[0].transpose(1, 2, 0))
    assert got == pytest.approx(want, rel=1e-10, abs=1e-13)
