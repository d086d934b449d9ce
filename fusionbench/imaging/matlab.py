"""MATLAB-exact imaging helpers (``imresize``, ``imfilter`` borders, ``round``, ``fspecial``).

The reference metric and simulation code of the field is MATLAB. Agreement to 1e-6 hinges on a
few semantics that Python libraries get subtly "wrong": rounding half away from zero, saturating
integer casts, correlation (not convolution) with MATLAB's border modes, ``fspecial``'s
eps-truncated Gaussian, and ``imresize``'s antialiased bicubic. Each helper here reproduces one of
those, in float64, for NumPy arrays and torch tensors alike (shapes ``(H,W)``, ``(C,H,W)`` or
``(B,C,H,W)``, filtering on the last two axes).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ._array import Array, as_4d, numpy_or_torch, to_tensor
from .banded import correlate_last_valid

PadMode = Literal["zero", "replicate", "circular", "symmetric"]

EPS = float(np.finfo(np.float64).eps)
"""MATLAB ``eps`` (2.220446049250313e-16)."""


# -- rounding and integer casts ------------------------------------------------------------------
def round_half_away(x: Array) -> Array:
    """MATLAB ``round``: halves go away from zero (``np.round`` rounds half to even)."""
    if isinstance(x, torch.Tensor):
        return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def saturate_cast(x: Array, lo: float, hi: float) -> Array:
    """MATLAB ``uintN(x)``/``intN(x)``: round half away from zero, then clip to [lo, hi].

    The result keeps a floating dtype (integer values) so it can enter float64 arithmetic;
    NaN becomes 0, as in MATLAB.
    """
    if lo >= 0:  # negatives saturate to lo anyway, so floor(x + 0.5) rounds every kept value
        if isinstance(x, torch.Tensor):
            return torch.nan_to_num(torch.floor(x + 0.5), nan=0.0).clamp_(lo, hi)
        return np.clip(np.nan_to_num(np.floor(np.asarray(x, dtype=np.float64) + 0.5), nan=0.0), lo, hi)
    r = round_half_away(x)
    if isinstance(r, torch.Tensor):
        return torch.nan_to_num(r, nan=0.0).clamp(lo, hi)
    return np.clip(np.nan_to_num(r, nan=0.0), lo, hi)


def uint16(x: Array) -> Array:
    """MATLAB ``uint16(x)`` as float values (``astype(np.uint16)`` truncates and wraps: wrong)."""
    return saturate_cast(x, 0.0, 65535.0)


def uint8(x: Array) -> Array:
    """MATLAB ``uint8(x)`` as float values."""
    return saturate_cast(x, 0.0, 255.0)


def int16(x: Array) -> Array:
    """MATLAB ``int16(x)`` as float values."""
    return saturate_cast(x, -32768.0, 32767.0)


# -- fspecial ------------------------------------------------------------------------------------
def fspecial_gaussian(size: int | tuple[int, int], sigma: float) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``.

    Entries below ``eps * max`` are zeroed before normalising to sum 1; that truncation is part
    of the definition (it changes far taps of wide kernels).
    """
    rows, cols = (size, size) if isinstance(size, int) else size
    y = np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0
    x = np.arange(cols, dtype=np.float64) - (cols - 1) / 2.0
    h = np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / (2.0 * sigma * sigma))
    h[h < EPS * h.max()] = 0.0
    s = h.sum()
    return h / s if s != 0 else h


def fspecial_sobel() -> np.ndarray:
    """MATLAB ``fspecial('sobel')``: the vertical-derivative kernel; transpose it for x."""
    return np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def fspecial_average(size: int) -> np.ndarray:
    """MATLAB ``fspecial('average', [n n])``."""
    return np.full((size, size), 1.0 / (size * size))


# -- padding and filtering -----------------------------------------------------------------------
def _pad_index(n: int, before: int, after: int, mode: PadMode) -> torch.Tensor:
    """Source indices for a padded axis; index arithmetic works for pads larger than ``n``."""
    idx = torch.arange(-before, n + after)
    if mode == "replicate":
        return idx.clamp(0, n - 1)
    if mode == "circular":
        return idx % n
    if mode == "symmetric":  # mirror including the edge sample (MATLAB 'symmetric')
        j = idx % (2 * n)
        return torch.where(j >= n, 2 * n - 1 - j, j)
    raise ValueError(f"unknown padding mode {mode!r}")


def pad2d(t: torch.Tensor, pads: tuple[int, int, int, int], mode: PadMode) -> torch.Tensor:
    """Pad the last two axes by ``(top, bottom, left, right)`` with a MATLAB border mode."""
    top, bottom, left, right = pads
    if mode == "zero":
        return F.pad(t, (left, right, top, bottom))
    h, w = t.shape[-2:]
    t = t.index_select(-2, _pad_index(h, top, bottom, mode).to(t.device))
    return t.index_select(-1, _pad_index(w, left, right, mode).to(t.device))


def _kernel_tensor(kernel: Array, like: torch.Tensor) -> torch.Tensor:
    k, _ = to_tensor(kernel, dtype=like.dtype)
    return k.to(like.device)


def separable_factors(kernel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(col, row)`` with ``kernel == outer(col, row)`` (to 1e-14 of its peak), else None.

    Gaussian, box, Sobel and 1-D kernels are separable; filtering them as two 1-D passes is what
    makes float64 filtering affordable on a CPU (torch's float64 conv2d is a slow path).
    """
    if kernel.ndim != 2:
        return None
    flat = kernel.abs().argmax()
    r0, c0 = divmod(int(flat), kernel.shape[1])
    pivot = kernel[r0, c0]
    if pivot == 0:
        return None
    col, row = kernel[:, c0], kernel[r0, :] / pivot
    if not torch.allclose(torch.outer(col, row), kernel, rtol=0, atol=1e-14 * float(pivot.abs())):
        return None
    return col, row


def correlate1d_valid(t: torch.Tensor, taps: torch.Tensor, dim: int) -> torch.Tensor:
    """1-D 'valid' correlation along ``dim`` (-1 or -2).

    Short kernels (Sobel, 3-5 taps) are shifted multiply-adds, skipping zero taps; long ones are
    products with a banded matrix (:mod:`.banded`; along columns via a transposed copy, so the
    taps run along contiguous samples).
    """
    k = taps.numel()
    if k == 1:
        return t if float(taps[0]) == 1.0 else t * taps[0]
    n_out = t.shape[dim] - k + 1
    if k <= 7:
        out: torch.Tensor | None = None
        for i, c in enumerate(taps.tolist()):
            if c == 0.0:
                continue
            term = t.narrow(dim, i, n_out)
            out = term * c if out is None else out.add_(term, alpha=c)
        return out if out is not None else t.narrow(dim, 0, n_out) * 0.0
    if dim == -1:
        return correlate_last_valid(t, taps)
    return correlate_last_valid(t.transpose(-1, -2), taps).transpose(-1, -2).contiguous()


def _correlate_valid_separable(t: torch.Tensor, col: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
    return correlate1d_valid(correlate1d_valid(t, row, -1), col, -2)


def correlate(
    t: torch.Tensor,
    kernel: Array,
    mode: PadMode = "zero",
    shape: Literal["same", "valid"] = "same",
) -> torch.Tensor:
    """Torch core of :func:`imfilter`/:func:`filter2` on a 4-D tensor ``(B,C,H,W)``.

    ``kernel`` is 2-D (every channel) or ``(C,kh,kw)`` (one per channel). The anchor of an
    even-sized kernel follows MATLAB: ``(k-1)//2`` samples before, ``k//2`` after. Separable
    kernels run as two 1-D passes (same values up to float64 rounding).
    """
    k = _kernel_tensor(kernel, t)
    b, c, h, w = t.shape
    kh, kw = k.shape[-2:]
    if shape == "same":
        t = pad2d(t, ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2), mode)
    elif shape != "valid":
        raise ValueError(f"unknown shape {shape!r}")
    if t.shape[-2] < kh or t.shape[-1] < kw:
        raise ValueError(f"image {h}x{w} is smaller than the {kh}x{kw} kernel ('valid')")
    factors = separable_factors(k)
    if factors is not None:
        return _correlate_valid_separable(t, *factors)
    if k.ndim == 2:
        k = k.expand(c, *k.shape)
    if k.ndim != 3 or k.shape[0] != c:
        raise ValueError(f"kernel shape {tuple(k.shape)} does not fit {c} channels")
    # torch's conv2d is a correlation, exactly MATLAB's imfilter/filter2 orientation.
    return F.conv2d(t, k[:, None].contiguous(), groups=c)


@numpy_or_torch
def imfilter(img: torch.Tensor, kernel: Array, mode: PadMode = "zero") -> torch.Tensor:
    """MATLAB ``imfilter(I, h, mode)``: correlation, same-size output.

    ``mode``: ``'zero'`` (MATLAB default), ``'replicate'``, ``'circular'``, ``'symmetric'``.
    """
    t, restore = as_4d(img)
    return restore(correlate(t, kernel, mode, "same"))


@numpy_or_torch
def filter2_valid(img: torch.Tensor, kernel: Array) -> torch.Tensor:
    """MATLAB ``filter2(h, X, 'valid')``: correlation restricted to the fully covered region."""
    t, restore = as_4d(img)
    return restore(correlate(t, kernel, "zero", "valid"))


@numpy_or_torch
def conv2_same(img: torch.Tensor, kernel: Array) -> torch.Tensor:
    """MATLAB ``conv2(X, h, 'same')``: true convolution (kernel rotated 180°), zero padding."""
    k, _ = to_tensor(kernel)
    kh, kw = k.shape[-2:]
    t, restore = as_4d(img)
    flipped = torch.flip(k, dims=(-2, -1))
    # conv2 'same' keeps the centre of the full result: k//2 samples before, (k-1)//2 after.
    padded = F.pad(t, (kw // 2, (kw - 1) // 2, kh // 2, (kh - 1) // 2))
    return restore(correlate(padded, flipped, "zero", "valid"))


@numpy_or_torch
def gradient(img: torch.Tensor) -> torch.Tensor:
    """MATLAB ``gradient`` (= ``np.gradient``): central differences, one-sided at the borders.

    Returns ``stack((gx, gy))`` on a new leading axis: gx along columns, gy along rows.
    """

    def along(x: torch.Tensor, dim: int) -> torch.Tensor:
        n = x.shape[dim]
        if n < 2:
            return torch.zeros_like(x)
        g = torch.empty_like(x)
        if n > 2:
            g.narrow(dim, 1, n - 2).copy_((x.narrow(dim, 2, n - 2) - x.narrow(dim, 0, n - 2)) / 2.0)
        g.narrow(dim, 0, 1).copy_(x.narrow(dim, 1, 1) - x.narrow(dim, 0, 1))
        g.narrow(dim, n - 1, 1).copy_(x.narrow(dim, n - 1, 1) - x.narrow(dim, n - 2, 1))
        return g

    return torch.stack((along(img, -1), along(img, -2)))


# -- imresize (bicubic, antialiased) --------------------------------------------------------------
def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


def imresize_weights(in_len: int, out_len: int, scale: float, antialias: bool = True) -> np.ndarray:
    """The ``(out_len, in_len)`` matrix MATLAB's ``imresize`` applies along one axis.

    When shrinking with antialiasing the kernel is stretched by ``1/scale``; output pixel ``u``
    (1-based) samples input coordinate ``u/scale + 0.5(1 - 1/scale)``; out-of-range taps are
    mirrored symmetrically; each row's weights are renormalised to sum to 1.
    """
    width = 4.0
    if scale < 1 and antialias:
        kernel = lambda x: scale * _cubic(scale * x)  # noqa: E731
        width = width / scale
    else:
        kernel = _cubic
    u = np.arange(1, out_len + 1, dtype=np.float64) / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    ind = left[:, None] + np.arange(taps)[None, :]  # 1-based input indices
    weights = kernel(u[:, None] - ind)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    src = mirror[(ind.astype(np.int64) - 1) % (2 * in_len)]
    mat = np.zeros((out_len, in_len))
    np.add.at(mat, (np.repeat(np.arange(out_len), taps), src.ravel()), weights.ravel())
    return mat


@numpy_or_torch
def imresize_bicubic(img: torch.Tensor, scale: float, antialias: bool = True) -> torch.Tensor:
    """MATLAB ``imresize(X, scale)`` (bicubic; antialiased when shrinking) on float data.

    Output size is ``ceil(scale * size)`` per axis. Only float input is reproduced: MATLAB
    rounds intermediate results for integer classes, which this function does not emulate.
    """
    h, w = img.shape[-2:]
    oh, ow = int(math.ceil(scale * h)), int(math.ceil(scale * w))
    wh = torch.from_numpy(imresize_weights(h, oh, scale, antialias)).to(img)
    ww = torch.from_numpy(imresize_weights(w, ow, scale, antialias)).to(img)
    return wh @ img @ ww.T


def nearest_decimate(img: Array, ratio: int) -> Array:
    """MATLAB ``imresize(X, 1/r, 'nearest')``: keep 0-based rows/cols ``r//2, r//2 + r, ...``."""
    return img[..., ratio // 2 :: ratio, ratio // 2 :: ratio]


def crop_border(img: Array, dim_cut: int) -> Array:
    """The toolbox border cut ``I(dim_cut:end-dim_cut, dim_cut:end-dim_cut, :)``.

    1-based inclusive, hence the asymmetric 0-based slice ``[dim_cut-1 : N-dim_cut]``;
    ``dim_cut = 0`` means no cut.
    """
    if dim_cut <= 0:
        return img
    h, w = img.shape[-2:]
    return img[..., dim_cut - 1 : h - dim_cut, dim_cut - 1 : w - dim_cut]


__all__ = [
    "EPS",
    "conv2_same",
    "correlate",
    "correlate1d_valid",
    "crop_border",
    "filter2_valid",
    "fspecial_average",
    "fspecial_gaussian",
    "fspecial_sobel",
    "gradient",
    "imfilter",
    "imresize_bicubic",
    "imresize_weights",
    "int16",
    "nearest_decimate",
    "pad2d",
    "round_half_away",
    "separable_factors",
    "saturate_cast",
    "uint16",
    "uint8",
]
