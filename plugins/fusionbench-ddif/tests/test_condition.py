"""The condition tensor: torch Haar DWT against PyWavelets, channel layout per task (the DDIF paper (Cao et al., Information Fusion 2024; arXiv 2304.04774) and its released code)."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench_ddif.condition import build_condition, haar_dwt2, wavelet_stack


@settings(max_examples=25, deadline=None)
@given(
    channels=st.integers(1, 4),
    half_h=st.integers(1, 12),
    half_w=st.integers(1, 12),
    seed=st.integers(0, 2**31 - 1),
)
def test_torch_haar_equals_pywavelets_db1(channels, half_h, half_w, seed):
    x = np.random.default_rng(seed).normal(size=(2, channels, 2 * half_h, 2 * half_w))
    ll, (h, v, d) = pywt.wavedec2(x, "db1", level=1, axes=(-2, -1))
    got = haar_dwt2(torch.from_numpy(x))
    for ours, theirs in zip(got, (ll, h, v, d)):
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-12, atol=1e-12)


def test_haar_needs_even_sizes():
    with pytest.raises(ValueError, match="even"):
        haar_dwt2(torch.zeros(1, 1, 5, 4))


@pytest.mark.parametrize(
    "task, bands, pan_channels, total", [("pansharpening", 8, 1, 20), ("pansharpening", 4, 1, 12), ("mhif", 31, 3, 74)]
)
def test_condition_channel_counts(task, bands, pan_channels, total):
    cond = build_condition(torch.rand(2, bands, 16, 16), torch.rand(2, pan_channels, 16, 16), task)
    assert cond.shape == (2, total, 16, 16)


def test_pansharpening_layout_lms_pan_then_ll_h_d_v():
    lms, pan = torch.rand(1, 4, 16, 16), torch.rand(1, 1, 16, 16)
    cond = build_condition(lms, pan, "pansharpening")
    ll, _, _, _ = haar_dwt2(lms)
    _, h, v, d = haar_dwt2(pan)
    up = lambda t: F.interpolate(t, size=(16, 16), mode="bilinear", align_corners=False)  # noqa: E731
    torch.testing.assert_close(cond[:, :4], lms)
    torch.testing.assert_close(cond[:, 4:5], pan)
    torch.testing.assert_close(cond[:, 5:9], up(ll))
    torch.testing.assert_close(cond[:, 9:10], up(h))
    torch.testing.assert_close(cond[:, 10:11], up(d))  # diagonal before vertical for pansharpening
    torch.testing.assert_close(cond[:, 11:12], up(v))


def test_mhif_layout_is_ll_h_v_d():
    lms, rgb = torch.rand(1, 31, 8, 8), torch.rand(1, 3, 8, 8)
    stack = wavelet_stack(lms, rgb, "mhif")
    _, h, v, d = haar_dwt2(rgb)
    torch.testing.assert_close(stack[:, 31:34], h)
    torch.testing.assert_close(stack[:, 34:37], v)
    torch.testing.assert_close(stack[:, 37:40], d)


def test_haar_ll_is_twice_the_block_mean():
    x = torch.rand(1, 2, 8, 8)
    torch.testing.assert_close(haar_dwt2(x)[0], 2 * F.avg_pool2d(x, 2))
