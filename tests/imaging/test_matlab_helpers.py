"""MATLAB-semantics helpers against independent SciPy/NumPy formulations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fusionbench.imaging import matlab as M


def test_round_half_away_differs_from_numpy_round() -> None:
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999])
    assert M.round_half_away(x).tolist() == [-3, -2, -1, 1, 2, 3, 2]
    assert np.round(x).tolist() != M.round_half_away(x).tolist()
    assert M.round_half_away(torch.tensor(x)).tolist() == [-3, -2, -1, 1, 2, 3, 2]


def test_saturating_casts() -> None:
    x = np.array([-7.0, 0.5, 65535.4, 70000.0, np.nan])
    assert M.uint16(x).tolist() == [0, 1, 65535, 65535, 0]
    assert M.uint8(np.array([254.5, 300.0, -0.4])).tolist() == [255, 255, 0]
    assert M.int16(np.array([-40000.0, -1.5])).tolist() == [-32768, -2]


def test_fspecial_gaussian_definition() -> None:
    h = M.fspecial_gaussian(5, 1.2)
    t = np.arange(5) - 2.0
    ref = np.exp(-(t[None] ** 2 + t[:, None] ** 2) / (2 * 1.2**2))
    np.testing.assert_allclose(h, ref / ref.sum(), rtol=1e-14)
    wide = M.fspecial_gaussian(41, 2.0)  # far corners fall below eps*max and are zeroed
    assert wide[0, 0] == 0.0 and wide[20, 20] > 0 and abs(wide.sum() - 1) < 1e-14


def test_fspecial_sobel_is_vertical_derivative() -> None:
    img = np.tile(np.arange(6.0)[:, None], (1, 6))  # increases downwards
    gy = M.imfilter(img, M.fspecial_sobel(), "replicate")
    assert (gy[1:-1, 1:-1] == -8.0).all()  # correlation: top row weights +, bottom -


@pytest.mark.parametrize(
    "mode,scipy_mode", [("zero", "constant"), ("replicate", "nearest"), ("circular", "wrap"), ("symmetric", "reflect")]
)
def test_imfilter_modes_match_scipy_correlate(mode: str, scipy_mode: str) -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(size=(2, 3, 17, 13))
    k = rng.normal(size=(5, 3))
    ours = M.imfilter(img, k, mode)
    ref = ndi.correlate(img, k[None, None], mode=scipy_mode, cval=0.0)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_imfilter_even_kernel_anchor() -> None:
    img = np.arange(5.0)
    out = M.imfilter(img[None], np.array([[1.0, 10.0]]))[0]
    # MATLAB anchors a length-2 kernel at its first tap: out[i] = x[i] + 10 x[i+1]
    assert out.tolist() == [10.0, 21.0, 32.0, 43.0, 4.0]


def test_pad_larger_than_image() -> None:
    t = torch.arange(3.0)[None, None, None]
    assert M.pad2d(t, (0, 0, 4, 4), "circular")[0, 0, 0].tolist() == [2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    assert M.pad2d(t, (0, 0, 4, 4), "symmetric")[0, 0, 0].tolist() == [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]


def test_conv2_same_and_filter2_valid() -> None:
    rng = np.random.default_rng(1)
    img = rng.normal(size=(12, 9))
    k = rng.normal(size=(3, 5))
    np.testing.assert_allclose(M.conv2_same(img, k), sps.convolve2d(img, k, "same"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(M.filter2_valid(img, k), sps.correlate2d(img, k, "valid"), rtol=1e-12, atol=1e-12)


def test_gradient_matches_numpy() -> None:
    img = np.random.default_rng(2).normal(size=(7, 5))
    gx, gy = M.gradient(img)
    ref_y, ref_x = np.gradient(img)
    np.testing.assert_allclose(gx, ref_x, rtol=1e-14)
    np.testing.assert_allclose(gy, ref_y, rtol=1e-14)


def test_imresize_matches_matlab_printed_value() -> None:
    # MATLAB: imresize([1 2 3 4], 0.5) = [1.4609 3.5391] (exactly 1.4609375, 3.5390625)
    out = M.imresize_bicubic(np.tile([1.0, 2.0, 3.0, 4.0], (4, 1)), 0.5)
    np.testing.assert_allclose(out, [[1.4609375, 3.5390625]] * 2, rtol=0, atol=1e-15)


def _imresize_loop(x: np.ndarray, scale: float) -> np.ndarray:
    """Straight per-output-sample transcription of the imresize definition (MATLAB documentation), 1-D."""

    def cubic(d: float) -> float:
        a = abs(d)
        if a <= 1:
            return 1.5 * a**3 - 2.5 * a**2 + 1
        if a <= 2:
            return -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2
        return 0.0

    n = len(x)
    out = []
    for u in range(1, int(np.ceil(n * scale)) + 1):
        centre = u / scale + 0.5 * (1 - 1 / scale)
        acc = wsum = 0.0
        for j in range(int(np.floor(centre - 2 / scale)) - 1, int(np.ceil(centre + 2 / scale)) + 2):
            w = scale * cubic(scale * (centre - j)) if scale < 1 else cubic(centre - j)
            m = (j - 1) % (2 * n)
            src = m if m < n else 2 * n - 1 - m
            acc += w * x[src]
            wsum += w
        out.append(acc / wsum)
    return np.array(out)


@pytest.mark.parametrize("scale", [0.25, 0.5, 1 / 3, 2.0])
def test_imresize_separable_matches_loop(scale: float) -> None:
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 2047, size=(24, 20))
    ours = M.imresize_bicubic(img, scale)
    rows = np.stack([_imresize_loop(r, scale) for r in img])
    ref = np.stack([_imresize_loop(c, scale) for c in rows.T]).T
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (8, 8), elements=st.floats(0, 2047)), st.sampled_from([0.25, 0.5]))
def test_imresize_preserves_constants_and_numpy_torch_parity(img: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(M.imresize_bicubic(np.full((8, 8), 5.0), scale), 5.0, rtol=1e-14)
    np.testing.assert_array_equal(M.imresize_bicubic(img, scale), M.imresize_bicubic(torch.tensor(img), scale).numpy())


def test_crop_border_is_matlab_inclusive() -> None:
    img = np.zeros((3, 256, 256))
    assert M.crop_border(img, 30).shape == (3, 197, 197)
    assert M.crop_border(img, 21).shape == (3, 215, 215)
    assert M.crop_border(img, 0).shape == (3, 256, 256)
    ramp = np.arange(10.0)[None, :].repeat(10, 0)
    assert M.crop_border(ramp, 2)[0].tolist() == [1, 2, 3, 4, 5, 6, 7]  # MATLAB I(2:end-2)


def test_nearest_decimate_phase() -> None:
    x = np.arange(16.0)[None, :].repeat(16, 0)
    assert M.nearest_decimate(x, 4)[0].tolist() == [2, 6, 10, 14]
