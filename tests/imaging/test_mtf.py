"""MTF kernels and Wald degradation (toolbox MTF.m) — values and real-data reproduction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio
import scipy.ndimage as ndi
import torch
from hypothesis import given
from hypothesis import strategies as st

from fusionbench.imaging.mtf import kaiser_window_2d, mtf_filter, mtf_kernel, wald_decimate, wald_degrade
from fusionbench.sensors import get_sensor


@pytest.mark.parametrize(
    "gnyq,centre,total", [(0.325, 0.04157027, 0.99882266), (0.30, None, 0.99873995), (0.14, None, 0.99795330)]
)
def test_kernel_values_from_spec(gnyq: float, centre: float | None, total: float) -> None:
    k = mtf_kernel(gnyq, 4)
    assert k.shape == (41, 41)
    assert abs(k.sum() - total) < 5e-9  # deliberately not renormalised to 1
    if centre is not None:
        assert abs(k[20, 20] - centre) < 5e-9
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-17)
    np.testing.assert_allclose(k, k.T, atol=1e-17)


def test_kernel_is_cached_and_read_only() -> None:
    assert mtf_kernel(0.3, 4) is mtf_kernel(0.3, 4)
    with pytest.raises(ValueError):
        mtf_kernel(0.3, 4)[0, 0] = 1.0
    with pytest.raises(ValueError, match="GNyq"):
        mtf_kernel(1.2, 4)


def test_kaiser_window_keeps_on_axis_end_taps() -> None:
    w = kaiser_window_2d(41)
    assert w[20, 0] == pytest.approx(np.kaiser(41, 0.5)[0])
    assert w[0, 0] == 0.0 and w[20, 20] == pytest.approx(1.0)


def test_mtf_filter_matches_scipy_replicate_correlation() -> None:
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 2047, size=(2, 4, 45, 38))  # smaller than 2x the kernel: padding edge cases
    gn = (0.34, 0.32, 0.30, 0.22)
    ours = mtf_filter(img, gn, 4)
    ref = np.stack(
        [[ndi.correlate(img[b, c], mtf_kernel(gn[c], 4), mode="nearest") for c in range(4)] for b in range(2)]
    )
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)
    assert isinstance(mtf_filter(torch.tensor(img), 0.3, 4), torch.Tensor)
    with pytest.raises(ValueError, match="3 GNyq values"):
        mtf_filter(img, (0.3, 0.3, 0.3), 4)


def _load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    d = sio.loadmat(path)
    return d["gt"].transpose(2, 0, 1), d["lrms"].transpose(2, 0, 1)


def test_wald_degrade_reproduces_wv3_sample(shared_data: Path) -> None:
    gt, lrms = _load(shared_data / "pansharpening" / "cdif_WV3_test_RR.mat")
    out = wald_degrade(gt * 2047, get_sensor("WV3").ms_gnyq, 4)
    assert out.shape == (8, 64, 64)
    assert np.abs(out - lrms * 2047).max() < 1e-10
    # any other decimation phase is off by tens of DN
    other = wald_decimate(mtf_filter(gt * 2047, get_sensor("WV3").ms_gnyq, 4)[:, 1:, 1:], 4)
    assert np.abs(other[:, :63, :63] - lrms[:, :63, :63] * 2047).max() > 10


def test_wald_degrade_reproduces_pleiades_sample_with_default_gnyq(shared_data: Path) -> None:
    gt, lrms = _load(shared_data / "pansharpening" / "cdif_Pleiades_test_RR.mat")
    out = wald_degrade(torch.tensor(gt * 1023)[None], 0.3, 4)[0].numpy()
    assert np.abs(out - lrms * 1023).max() < 1e-10


@given(st.integers(1, 5000))
def test_fft_size_is_the_smallest_smooth_length_at_least_n(n: int) -> None:
    from fusionbench.imaging.mtf import fft_size

    def smooth(m: int) -> bool:
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        return m == 1

    m = fft_size(n)
    assert m >= n and smooth(m) and not any(smooth(j) for j in range(n, m))
    assert fft_size(552) == 560 and fft_size(296) == 300  # padded 512 and 256 sides
