"""The fast formulations agree with direct transcriptions wherever their bookkeeping could slip:
banded-matrix correlation (padding to whole blocks, sizes that are not multiples of the block,
any leading shape), Gaussian SSIM's band groups (a smaller last group, buffers reused across
groups), Q2n's moment algebra (constant blocks, zero bands, the toolbox's mean == 0 quirk) and
D_s / D_lambda's block moments (constant blocks keep the toolbox's NaN), on random sizes and
contents."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionbench.imaging.banded import correlate_last_valid
from fusionbench.imaging.matlab import correlate1d_valid, fspecial_gaussian
from fusionbench.metrics import naive
from fusionbench.metrics import ssim as ssim_module
from fusionbench.metrics.fullres import d_lambda, d_s
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
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n=st.integers(1, 90),
    k=st.integers(8, 41),
    dim=st.sampled_from([-1, -2]),
    seed=st.integers(0, 2**16),
)
def test_banded_correlation_matches_numpy(lead: list[int], n: int, k: int, dim: int, seed: int) -> None:
    """Long kernels (> 7 taps) run as banded products; every output equals ``np.correlate``."""
    rng = np.random.default_rng(seed)
    length = n + k - 1
    x = rng.normal(0, 100, (*lead, 5, length) if dim == -1 else (*lead, length, 5))
    taps = rng.normal(0, 1, k)
    got = correlate1d_valid(torch.from_numpy(x), torch.from_numpy(taps), dim).numpy()
    rows = np.moveaxis(x, dim, -1).reshape(-1, length)
    want = np.stack([np.correlate(r, taps, mode="valid") for r in rows]).reshape(*np.moveaxis(x, dim, -1).shape[:-1], n)
    np.testing.assert_allclose(got, np.moveaxis(want, -1, dim), rtol=1e-12, atol=1e-10)


def test_banded_correlation_refuses_too_few_samples() -> None:
    with pytest.raises(ValueError, match="fewer than the 12 taps"):
        correlate_last_valid(torch.zeros(3, 11, dtype=torch.float64), torch.ones(12, dtype=torch.float64))


@pytest.mark.parametrize("group_bytes", [1, 900_000, 2_000_000])
def test_ssim_band_groups_agree_with_one_group(group_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """7 bands in groups of 1, 2-and-a-smaller-last and 4+3: the reused buffers carry nothing over."""
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.uniform(0, 255, (1, 7, 70, 90)))
    y = (x + torch.from_numpy(rng.normal(0, 25, x.shape))).clamp(0, 255)
    x[0, 2] = 17.0  # a flat band between textured ones
    whole = ssim_gaussian(x, y, 255.0)
    monkeypatch.setattr(ssim_module, "GROUP_BYTES", group_bytes)
    # equal up to BLAS summation order (the product shapes differ with the group size)
    np.testing.assert_allclose(ssim_gaussian(x, y, 255.0).numpy(), whole.numpy(), rtol=1e-13, atol=0)
    want = [wang_ssim(x[0, k].numpy(), y[0, k].numpy(), 255.0) for k in range(7)]
    np.testing.assert_allclose(whole[0].numpy(), want, rtol=1e-12, atol=0)


@SETTINGS
@given(
    size=st.sampled_from([(32, 32), (64, 32), (64, 96)]),
    bands=st.integers(2, 5),
    seed=st.integers(0, 2**16),
    flat=st.sampled_from(["none", "fused", "fused-and-pan"]),
)
def test_block_moment_d_s_and_d_lambda_match_toolbox_loops(
    size: tuple[int, int], bands: int, seed: int, flat: str
) -> None:
    rng = np.random.default_rng(seed)
    lms = rng.uniform(100, 2000, (1, bands, *size))
    fused = np.clip(lms + rng.normal(0, 60, lms.shape), 0, None)
    pan = np.clip(lms.mean(1, keepdims=True) + rng.normal(0, 60, (1, 1, *size)), 0, None)
    if flat != "none":  # a constant fused block: UIQI 0 against a textured PAN, NaN against a flat one
        fused[..., :16, :16] = 640.0
        if flat == "fused-and-pan":
            pan[..., :16, :16] = 512.0
            lms[..., :16, :16] = 300.0
    t = {k: torch.from_numpy(v) for k, v in (("fused", fused), ("lms", lms), ("pan", pan))}
    hwc = lambda a: a[0].transpose(1, 2, 0)  # noqa: E731
    got_ds = d_s(t["fused"], t["lms"], t["pan"], 4, 16).item()
    want_ds = naive.d_s(hwc(fused), hwc(lms), pan[0, 0], 4, 16)
    got_dl = d_lambda(t["fused"], t["lms"], 16).item()
    want_dl = naive.d_lambda(hwc(fused), hwc(lms), 16)
    for got, want in ((got_ds, want_ds), (got_dl, want_dl)):
        if np.isnan(want):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


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
