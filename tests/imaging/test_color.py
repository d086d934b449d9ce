"""Colour and grey conversions (MATLAB rgb2ycbcr/rgb2gray, OpenCV)."""

from __future__ import annotations

import numpy as np
import torch

from fusionbench.imaging.color import (
    MATLAB_GRAY,
    rgb2gray_cddfuse,
    rgb2gray_matlab,
    rgb_to_ycrcb,
    ycrcb_to_rgb,
)


def test_ycrcb_round_trip_and_luma() -> None:
    rgb = np.random.default_rng(0).uniform(0, 255, size=(2, 3, 5, 4))
    ycc = rgb_to_ycrcb(rgb, delta=0.5)
    np.testing.assert_allclose(ycc[:, 0], 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2])
    # OpenCV's rounded inverse coefficients make the round trip approximate (about 1e-3 of range)
    np.testing.assert_allclose(ycrcb_to_rgb(ycc, delta=0.5), rgb, atol=0.5)
    grey = np.repeat(rgb[:, :1], 3, axis=1)
    np.testing.assert_allclose(rgb_to_ycrcb(grey)[:, 1:], 128.0, atol=1e-9)
    assert isinstance(rgb_to_ycrcb(torch.tensor(rgb)), torch.Tensor)


def test_cddfuse_grey_read() -> None:
    grey = np.arange(256, dtype=np.uint8)[None, None, :].repeat(3, 0)
    np.testing.assert_array_equal(rgb2gray_cddfuse(grey)[0], np.arange(256))
    rgb = np.array([[[10]], [[20]], [[31]]], dtype=np.uint8)  # 0.299*10 + 0.587*20 + 0.114*31 = 18.264
    assert rgb2gray_cddfuse(rgb).item() == 18.0
    assert abs(rgb2gray_cddfuse(rgb, round_result=False).item() - 18.264) < 1e-5
    assert rgb2gray_cddfuse(torch.tensor(rgb)).item() == 18.0


def test_matlab_rgb2gray_rounds_uint8_only() -> None:
    rgb = np.array([[[10]], [[20]], [[31]]], dtype=np.uint8)
    exact = MATLAB_GRAY[0] * 10 + MATLAB_GRAY[1] * 20 + MATLAB_GRAY[2] * 31
    assert rgb2gray_matlab(rgb).item() == np.floor(exact + 0.5)
    assert abs(rgb2gray_matlab(rgb.astype(np.float64)).item() - exact) < 1e-12
