"""interp23tap (toolbox interp23tap.m) against a per-stage NumPy transcription."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.imaging.interp import KERNEL_23, interp23tap


def _reference(x: np.ndarray, ratio: int) -> np.ndarray:
    for stage in range(int(np.log2(ratio))):
        c, h, w = x.shape
        up = np.zeros((c, 2 * h, 2 * w))
        off = 1 if stage == 0 else 0
        up[:, off::2, off::2] = x
        up = ndi.correlate1d(up, KERNEL_23, axis=2, mode="grid-wrap")
        x = ndi.correlate1d(up, KERNEL_23, axis=1, mode="grid-wrap")
    return x


def test_kernel_shape() -> None:
    assert KERNEL_23.shape == (23,)
    assert KERNEL_23[11] == 1.0 and abs(KERNEL_23.sum() - 2.0) < 1e-6
    np.testing.assert_array_equal(KERNEL_23, KERNEL_23[::-1])


@pytest.mark.parametrize("ratio", [2, 4, 8])
def test_matches_reference(ratio: int) -> None:
    x = np.random.default_rng(ratio).uniform(0, 2047, size=(3, 16, 12))
    ours = interp23tap(x, ratio)
    assert ours.shape == (3, 16 * ratio, 12 * ratio)
    np.testing.assert_allclose(ours, _reference(x, ratio), rtol=0, atol=1e-9)


def test_batched_torch_and_tiny_images() -> None:
    x = torch.rand(2, 3, 3, 5, dtype=torch.float64)  # smaller than the 23 taps: wraps several times
    out = interp23tap(x, 4)
    assert out.shape == (2, 3, 12, 20)
    np.testing.assert_allclose(out[1].numpy(), _reference(x[1].numpy(), 4), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.floats(0, 4000), st.sampled_from([2, 4]))
def test_constant_images_stay_constant(value: float, ratio: int) -> None:
    out = interp23tap(np.full((1, 8, 8), value), ratio)
    # the published taps are rounded to 12 decimals: each phase sums to 1 within ~1e-9
    np.testing.assert_allclose(out, value, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("ratio", [1, 3, 6])
def test_rejects_non_power_of_two(ratio: int) -> None:
    with pytest.raises(ValueError, match="power-of-two"):
        interp23tap(np.zeros((4, 4)), ratio)
