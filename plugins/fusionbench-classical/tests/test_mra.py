"""MTF-GLP family and AWLP against independent NumPy/SciPy references of the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

The references filter with ``scipy.ndimage.correlate`` (mode 'nearest' = MATLAB 'replicate') and
the sensor's kernel from :func:`fusionbench.imaging.mtf.mtf_kernel`, so a method that used the
wrong GNyq, the PAN's GNyq, a normalised kernel or another decimation phase would fail.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from fusionbench import FusionBatch
from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.matlab import imresize_bicubic
from fusionbench.imaging.mtf import mtf_kernel
from fusionbench_classical._filters import atrous_lowpass
from fusionbench_classical.mra import AWLP, MTFGLP, MTFGLPFS, MTFGLPHPM, MTFGLPHPMR

EPS = np.finfo(float).eps


def _np(t: torch.Tensor) -> np.ndarray:
    return t[0].numpy()


def _glp_lowpass_reference(pan: np.ndarray, gains, ratio: int = 4) -> np.ndarray:
    """Per band: imfilter(PAN, MTF_b, 'replicate') -> MATLAB nearest decimation -> interp23tap."""
    out = []
    for g in gains:
        low = ndi.correlate(pan, mtf_kernel(g, ratio), mode="nearest")[ratio // 2 :: ratio, ratio // 2 :: ratio]
        out.append(interp23tap(low, ratio))
    return np.stack(out)


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.cov(a.ravel(), b.ravel())[0, 1])


@pytest.fixture
def wv3(ps_batch):
    return ps_batch(seed=11, bands=8, size=64, sensor="WV3")[0]


def test_mtf_glp_fs_matches_reference(wv3):
    pan, lms = _np(wv3.inputs["pan"])[0], _np(wv3.inputs["lms"])
    p_lp = _glp_lowpass_reference(pan, wv3.card.mtf_gnyq)
    expected = np.stack([m + _cov(m, pan) / _cov(p, pan) * (pan - p) for m, p in zip(lms, p_lp)])
    np.testing.assert_allclose(_np(MTFGLPFS().fuse(wv3)), expected, rtol=1e-10, atol=1e-8)


def test_mtf_glp_hpm_r_matches_reference(wv3):
    pan, lms = _np(wv3.inputs["pan"])[0], _np(wv3.inputs["lms"])
    p_lp = _glp_lowpass_reference(pan, wv3.card.mtf_gnyq)
    expected = []
    for m, p in zip(lms, p_lp):
        g = _cov(m, p) / np.var(p, ddof=1)
        cb = m.mean() / g - pan.mean()
        expected.append(m * (pan + cb) / (p + cb + EPS))
    np.testing.assert_allclose(_np(MTFGLPHPMR().fuse(wv3)), np.stack(expected), rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("method", [MTFGLP, MTFGLPFS, MTFGLPHPM, MTFGLPHPMR], ids=lambda m: m.name)
def test_glp_uses_the_cards_mtf_gains(wv3, method):
    """Changing one band's GNyq on the card changes that band only; dropping the card's gains
    falls back to the sensor table (same numbers for WV3)."""
    base = method().fuse(wv3)
    gains = list(wv3.card.mtf_gnyq)
    gains[3] = 0.2
    changed = method().fuse(
        FusionBatch(wv3.image_ids, wv3.inputs, dataclasses.replace(wv3.card, mtf_gnyq=tuple(gains)))
    )
    differs = [not torch.allclose(changed[:, b], base[:, b], rtol=0, atol=1e-9) for b in range(8)]
    assert differs == [b == 3 for b in range(8)]
    from_table = method().fuse(FusionBatch(wv3.image_ids, wv3.inputs, dataclasses.replace(wv3.card, mtf_gnyq=None)))
    torch.testing.assert_close(from_table, base, rtol=0, atol=0)


def test_mtf_glp_fs_recovers_reference_when_details_are_pan_details(ps_batch):
    """Wald-consistent data whose high frequencies are exactly g_b * PAN's: FS regression finds
    those gains, so the fused image is far closer to gt than EXP."""
    batch, gt = ps_batch(seed=12, bands=4, size=64)
    err = lambda x: float(((x - gt) ** 2).mean())  # noqa: E731
    assert err(MTFGLPFS().fuse(batch)) < 0.5 * err(batch.inputs["lms"])


@pytest.mark.parametrize("ratio", [2, 4, 8])
@pytest.mark.parametrize("shape", [(40, 33), (17, 64)])
def test_atrous_lowpass_matches_the_toolbox_and_keeps_constants(ndwt_lowpass, ratio, shape):
    img = np.random.default_rng(ratio).random((1, 1, *shape)) * 2047
    ours = atrous_lowpass(torch.from_numpy(img), ratio)[0, 0].numpy()
    np.testing.assert_allclose(ours, ndwt_lowpass(img[0, 0], ratio), rtol=1e-12, atol=1e-9)
    const = torch.full((1, 1, 20, 20), 3.5, dtype=torch.float64)
    torch.testing.assert_close(atrous_lowpass(const, ratio), const)


def test_atrous_lowpass_interior_is_the_undilated_b3_filter_repeated():
    """ndwt2_working / indwt2_working never dilate the filter: away from the borders the low-pass
    is [1 4 6 4 1]/16 convolved with itself 2 L times (ratio 4: L = 2, 17 taps per axis), not the
    starlet's dilated cascade (25 taps per axis)."""
    impulse = torch.zeros(1, 1, 41, 41, dtype=torch.float64)
    impulse[..., 20, 20] = 1.0
    response = atrous_lowpass(impulse, 4)[0, 0].numpy()
    taps = np.array([1.0])
    for _ in range(4):
        taps = np.convolve(taps, np.array([1, 4, 6, 4, 1]) / 16)
    expected = np.zeros((41, 41))
    expected[12:29, 12:29] = np.outer(taps, taps)
    np.testing.assert_allclose(response, expected, rtol=0, atol=1e-15)


def test_awlp_matches_reference(wv3, ndwt_lowpass):
    pan, lms = _np(wv3.inputs["pan"])[0], _np(wv3.inputs["lms"])
    pan_lr = imresize_bicubic(imresize_bicubic(pan, 0.25), 4.0)
    low = ndwt_lowpass(pan, 4)
    ratio = lms / (lms.mean(axis=0) + EPS)
    expected = []
    for m, r in zip(lms, ratio):
        matched = (pan - pan.mean()) * m.std(ddof=1) / pan_lr.std(ddof=1) + m.mean()
        matched_low = (low - pan.mean()) * m.std(ddof=1) / pan_lr.std(ddof=1) + m.mean()
        expected.append(m + (matched - matched_low) * r)
    np.testing.assert_allclose(_np(AWLP().fuse(wv3)), np.stack(expected), rtol=1e-10, atol=1e-8)


def test_constant_pan_injects_nothing_through_fs(ps_batch):
    """A flat PAN has zero covariance with everything: FS gains are 0 and the output is lms."""
    batch, _ = ps_batch(seed=13)
    flat = dict(batch.inputs, pan=torch.full_like(batch.inputs["pan"], 700.0))
    out = MTFGLPFS().fuse(FusionBatch(batch.image_ids, flat, batch.card))
    torch.testing.assert_close(out, batch.inputs["lms"], rtol=0, atol=0)
