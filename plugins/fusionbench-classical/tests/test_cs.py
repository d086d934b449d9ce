"""Component-substitution methods: identities (hypothesis) and independent NumPy references
(MATLAB Pansharpening Toolbox, Vivone et al., IEEE GRSM 2021)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench import FusionBatch
from fusionbench.specs import DataCard
from fusionbench_classical._filters import lowpass_decimate, lp_gauss_kernel
from fusionbench_classical._stats import prctile
from fusionbench_classical.cs import BTH, GSA, IHS, PCA, Brovey, gsa_weights, principal_axis

CARD = DataCard(sensor="QB", ratio=4, bands=4, max_value=2047.0, mtf_gnyq=(0.34, 0.32, 0.30, 0.22), pan_gnyq=0.15)
SETTINGS = settings(max_examples=25, deadline=None)


def _random_lms(seed: int, bands: int, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 100.0 + 1000.0 * torch.rand(1, bands, size, size, generator=g, dtype=torch.float64)


def _batch(pan: torch.Tensor, ms: torch.Tensor, lms: torch.Tensor, card: DataCard = CARD) -> FusionBatch:
    return FusionBatch(("x",), {"pan": pan, "ms": ms, "lms": lms}, card)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), bands=st.integers(2, 8), scale=st.floats(0.1, 10.0), offset=st.floats(-500, 500))
@pytest.mark.parametrize("method", [Brovey, IHS], ids=["brovey", "ihs"])
def test_band_mean_intensity_pan_returns_lms(method, seed, bands, scale, offset):
    """PAN = any increasing affine map of I = mean_b lms: matching recovers I, nothing is injected."""
    lms = _random_lms(seed, bands)
    pan = scale * lms.mean(dim=1, keepdim=True) + offset
    out = method().fuse(_batch(pan, lms[..., 2::4, 2::4], lms, CARD if bands == 4 else DataCard(ratio=4)))
    torch.testing.assert_close(out, lms, rtol=1e-10, atol=1e-8)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), bands=st.integers(2, 8), scale=st.floats(0.1, 10.0))
def test_pca_first_component_pan_returns_lms(seed, bands, scale):
    lms = _random_lms(seed, bands)
    v = principal_axis(lms)
    # v is the top eigenvector of the band covariance, with MATLAB pca's sign convention
    x = lms.reshape(bands, -1)
    x = x - x.mean(dim=1, keepdim=True)
    cov = x @ x.T / (x.shape[1] - 1)
    eigval = torch.linalg.eigvalsh(cov)[-1]
    torch.testing.assert_close(cov @ v[0], eigval * v[0], rtol=1e-9, atol=1e-9)
    assert v[0, v[0].abs().argmax()] > 0
    pan = scale * torch.einsum("c,bchw->bhw", v[0], lms)[:, None] + 7.0
    out = PCA().fuse(_batch(pan, lms[..., 2::4, 2::4], lms, DataCard(ratio=4)))
    torch.testing.assert_close(out, lms, rtol=1e-9, atol=1e-7)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), bands=st.integers(1, 8), offset=st.floats(-1000, 1000))
def test_gsa_returns_lms_when_pan_is_the_regression_intensity(seed, bands, offset):
    """If ms = LPfilterPlusDec(lms) band-wise and PAN = sum_b w_b lms_b + c, the LR regression
    recovers w exactly, so I0 = PAN0, the detail is zero and GSA returns lms (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021))."""
    lms = _random_lms(seed, bands)
    w = torch.linspace(0.2, 1.0, bands, dtype=torch.float64)
    pan = torch.einsum("c,bchw->bhw", w, lms)[:, None] + offset
    ms = lowpass_decimate(lms, 4)
    alpha = gsa_weights(ms, pan, 4)
    torch.testing.assert_close(alpha[0, :bands], w, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(GSA().fuse(_batch(pan, ms, lms, DataCard(ratio=4))), lms, rtol=1e-10, atol=1e-7)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.05, 20.0), offset=st.floats(-1000, 1000))
def test_gsa_is_invariant_to_affine_pan_changes(seed, scale, offset):
    """Zero-mean PAN, regression weights and covariance gains make GSA blind to PAN gain/offset."""
    lms = _random_lms(seed, 4)
    g = torch.Generator().manual_seed(seed + 1)
    pan = 100 + 900 * torch.rand(1, 1, 16, 16, generator=g, dtype=torch.float64)
    ms = lms[..., 2::4, 2::4]
    ref = GSA().fuse(_batch(pan, ms, lms))
    torch.testing.assert_close(GSA().fuse(_batch(scale * pan + offset, ms, lms)), ref, rtol=1e-9, atol=1e-7)


# -- independent NumPy/SciPy references following the toolbox's text ------------------------------
def _np(t: torch.Tensor) -> np.ndarray:
    return t[0].numpy()


def test_gsa_matches_numpy_reference(ps_batch, ndwt_lowpass):
    """GSA with ``LPfilterPlusDec``'s low-pass read from the toolbox's MATLAB files (conftest)."""
    batch, _ = ps_batch(seed=5, bands=4, size=64)
    pan, ms, lms = (_np(batch.inputs[k]) for k in ("pan", "ms", "lms"))
    lms0 = lms - lms.mean(axis=(1, 2), keepdims=True)
    ms0 = ms - ms.mean(axis=(1, 2), keepdims=True)
    pan_lr = ndwt_lowpass(pan[0] - pan.mean(), 4)[2::4, 2::4]  # imresize(., 1/4, 'nearest')
    design = np.column_stack([ms0.reshape(4, -1).T, np.ones(ms0[0].size)])
    alpha = np.linalg.lstsq(design, pan_lr.ravel(), rcond=None)[0]
    intensity = np.tensordot(alpha[:4], lms0, axes=1) + alpha[4]
    i0 = intensity - intensity.mean()
    gains = [np.cov(i0.ravel(), b.ravel())[0, 1] / np.var(i0, ddof=1) for b in lms0]
    fused = np.stack([b + g * (pan[0] - pan.mean() - i0) for b, g in zip(lms0, gains)])
    fused = fused - fused.mean(axis=(1, 2), keepdims=True) + lms.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_np(GSA().fuse(batch)), fused, rtol=1e-10, atol=1e-8)


def test_prctile_is_matlab_hazen():
    x = torch.rand(2, 3, 7, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for p in (0.0, 1.0, 37.5, 99.9, 100.0):
        expected = np.percentile(x.reshape(2, 3, -1).numpy(), p, axis=-1, method="hazen")
        np.testing.assert_allclose(prctile(x, p)[..., 0, 0].numpy(), expected, rtol=1e-14)


def test_lp_gauss_kernel_uses_n_not_n_minus_1():
    """LPfilterGauss: alpha = sqrt((N fcut/2)^2 / (-2 ln 0.3)) (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)), built like the toolbox's MTF FIR."""
    from fusionbench.imaging.matlab import fspecial_gaussian
    from fusionbench.imaging.mtf import fir_by_frequency_sampling, kaiser_window_2d, mtf_kernel

    k = lp_gauss_kernel(4)
    alpha = np.sqrt((41 * 0.25 / 2) ** 2 / (-2 * np.log(0.3)))
    hd = fspecial_gaussian(41, alpha)
    np.testing.assert_allclose(k, fir_by_frequency_sampling(hd / hd.max(), kaiser_window_2d(41)), rtol=0, atol=1e-15)
    assert not np.allclose(k, mtf_kernel(0.3, 4))  # the MTF kernel uses N-1: a different filter
    assert k.sum() < 1.0  # not renormalised, like every toolbox fwind1 kernel


@pytest.mark.parametrize("bands", [4, 8])
def test_bt_h_matches_numpy_reference(ps_batch, bands):
    batch, _ = ps_batch(seed=6, bands=bands, size=64, sensor="QB" if bands == 4 else "WV3")
    pan, lms = _np(batch.inputs["pan"])[0], _np(batch.inputs["lms"])
    if bands == 4:
        flat = lms.reshape(4, -1)
        haze = np.array([0.95, 0.45, 0.40, 0.05]) * np.percentile(flat, 1, axis=1, method="hazen")
    else:
        haze = lms.min(axis=(1, 2))
    haze = haze[:, None, None]
    pan_lp = ndi.correlate(pan, lp_gauss_kernel(4), mode="nearest")
    w = np.linalg.lstsq(lms.reshape(bands, -1).T, pan_lp.ravel(), rcond=None)[0]
    intensity = np.tensordot(w, lms - haze, axes=1)
    matched = (pan - pan_lp.mean()) * intensity.std(ddof=1) / pan_lp.std(ddof=1) + intensity.mean()
    expected = np.maximum(lms - haze, 0) * matched / (intensity + np.finfo(float).eps) + haze
    np.testing.assert_allclose(_np(BTH().fuse(batch)), expected, rtol=1e-9, atol=1e-7)


def test_brovey_keeps_the_spectral_angle(ps_batch):
    batch, _ = ps_batch(seed=7)
    out, lms = Brovey().fuse(batch), batch.inputs["lms"]
    cos = (out * lms).sum(1) / (out.norm(dim=1) * lms.norm(dim=1))
    torch.testing.assert_close(cos, torch.ones_like(cos))


def test_cs_methods_inject_pan_detail(ps_batch):
    """Against the PAN-free EXP, every CS method moves the result toward the reference."""
    batch, gt = ps_batch(seed=8, size=64)
    err = lambda x: float(((x - gt) ** 2).mean())  # noqa: E731
    base = err(batch.inputs["lms"])
    for method in (Brovey(), IHS(), PCA(), BTH(), GSA()):
        assert err(method.fuse(batch)) < base, type(method).__name__
