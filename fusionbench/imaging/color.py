"""Colour conversions used by IVF/MIF data handling and metrics (MATLAB's ``rgb2ycbcr``/``rgb2gray`` and OpenCV's conversions, as the evaluators use them).

Three different "grey" conventions coexist in the field and change metric values:

- :func:`rgb_to_ycrcb` / :func:`ycrcb_to_rgb`: OpenCV's full-range YCrCb, used to fuse only the
  luminance and rebuild colour afterwards (Y = 0.299R + 0.587G + 0.114B).
- :func:`rgb2gray_cddfuse`: how the CDDFuse/DDFM evaluator reads every image: OpenCV
  ``BGR2GRAY`` on float32 (no intermediate rounding), then ``np.round`` (half to even).
- :func:`rgb2gray_matlab`: MATLAB ``rgb2gray`` (different coefficients; rounded for uint8).

Images are channel-first: ``(3,H,W)`` or ``(B,3,H,W)`` in R, G, B order.
"""

from __future__ import annotations

import numpy as np
import torch

from ._array import Array, to_tensor
from .matlab import uint8

MATLAB_GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)
OPENCV_GRAY = (0.299, 0.587, 0.114)


def _split_rgb(img: Array) -> tuple[Array, Array, Array]:
    if img.shape[-3] != 3:
        raise ValueError(f"expected 3 colour channels on axis -3, got shape {tuple(img.shape)}")
    return img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]


def rgb_to_ycrcb(img: Array, delta: float = 128.0) -> Array:
    """OpenCV ``RGB2YCrCb`` (full range) in float64; channels out are (Y, Cr, Cb).

    ``delta`` is the chroma offset: 128 for 8-bit data, but OpenCV uses 0.5 for *float* input,
    which is what CDDFuse's colour reconstruction carries (it converts float arrays of 0-255).
    Luminance does not depend on ``delta``.
    """
    t, was_numpy = to_tensor(img)
    r, g, b = _split_rgb(t)
    y = OPENCV_GRAY[0] * r + OPENCV_GRAY[1] * g + OPENCV_GRAY[2] * b
    cr = (r - y) * 0.713 + delta
    cb = (b - y) * 0.564 + delta
    out = torch.stack([y, cr, cb], dim=-3)
    return out.numpy() if was_numpy else out


def ycrcb_to_rgb(img: Array, delta: float = 128.0) -> Array:
    """Inverse of :func:`rgb_to_ycrcb` with OpenCV's inverse coefficients (float64, unclipped)."""
    t, was_numpy = to_tensor(img)
    y, cr, cb = _split_rgb(t)
    r = y + 1.403 * (cr - delta)
    g = y - 0.714 * (cr - delta) - 0.344 * (cb - delta)
    b = y + 1.773 * (cb - delta)
    out = torch.stack([r, g, b], dim=-3)
    return out.numpy() if was_numpy else out


def rgb2gray_cddfuse(img: Array, round_result: bool = True) -> Array:
    """The CDDFuse evaluator's image read: float32 ``BGR2GRAY``, then ``np.round`` (half-even).

    The weighted sum is evaluated in float32 in OpenCV's order (B, G, R terms) so ties land
    where the evaluator's do; the result is returned as float64 (integer values when rounded).
    """
    r, g, b = _split_rgb(img)
    if isinstance(img, torch.Tensor):
        r32, g32, b32 = (c.to(torch.float32) for c in (r, g, b))
        y = b32 * np.float32(0.114) + g32 * np.float32(0.587) + r32 * np.float32(0.299)
        y = torch.round(y) if round_result else y  # torch.round is half-to-even, like np.round
        return y.to(torch.float64)
    r32, g32, b32 = (np.asarray(c, dtype=np.float32) for c in (r, g, b))
    y = b32 * np.float32(0.114) + g32 * np.float32(0.587) + r32 * np.float32(0.299)
    return (np.round(y) if round_result else y).astype(np.float64)


def rgb2gray_matlab(img: Array, integer_input: bool | None = None) -> Array:
    """MATLAB ``rgb2gray``; for uint8 data the result is rounded half away and saturated.

    ``integer_input`` defaults to "the array has an integer dtype"; pass ``True`` for float
    arrays that hold 8-bit values read elsewhere.
    """
    if integer_input is None:
        integer_input = not (
            (isinstance(img, torch.Tensor) and img.is_floating_point())
            or (isinstance(img, np.ndarray) and np.issubdtype(img.dtype, np.floating))
        )
    t, was_numpy = to_tensor(img)
    r, g, b = _split_rgb(t)
    y = MATLAB_GRAY[0] * r + MATLAB_GRAY[1] * g + MATLAB_GRAY[2] * b
    if integer_input:
        y = uint8(y)
    return y.numpy() if was_numpy else y


__all__ = [
    "MATLAB_GRAY",
    "OPENCV_GRAY",
    "rgb2gray_cddfuse",
    "rgb2gray_matlab",
    "rgb_to_ycrcb",
    "ycrcb_to_rgb",
]
