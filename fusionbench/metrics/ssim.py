"""The two SSIM variants the field uses (Wang et al.'s ssim_index.m as Deng's group uses it; scikit-image's as the CDDFuse evaluator uses it), per channel, batched.

- :func:`ssim_gaussian`: Wang et al.'s MATLAB ``ssim_index``: 11x11 Gaussian window (sigma 1.5),
  ``filter2(..., 'valid')``, population moments, K = (0.01, 0.03). Used by the MHIF package (data
  scaled to 0-255) and by VIFB.
- :func:`ssim_uniform`: scikit-image ``structural_similarity`` defaults, as the CDDFuse evaluator
  calls it: 7x7 uniform window, sample covariance (``N/(N-1)``), mean over the map without its
  3-pixel frame (the frame is where skimage's reflect padding enters, so this equals 'valid').
"""

from __future__ import annotations

import numpy as np
import torch

from fusionbench.imaging.matlab import fspecial_gaussian

from ._stats import box_sums

K1, K2 = 0.01, 0.03


def _ssim_map(
    mu_x: torch.Tensor,
    mu_y: torch.Tensor,
    var_x: torch.Tensor,
    var_y: torch.Tensor,
    cov: torch.Tensor,
    data_range: float,
) -> torch.Tensor:
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return num / den


GAUSS_SIZE, GAUSS_SIGMA = 11, 1.5
BAND_BLOCK = 64
"""Outputs per block of the banded filter matrices: a block costs ``BAND_BLOCK + 10`` multiply-adds
per output (the 11 taps plus the band's zeros) but runs as one large matrix product."""


def _gaussian_taps(like: torch.Tensor) -> torch.Tensor:
    """The 1-D factor ``g`` of ``fspecial('gaussian', 11, 1.5) == outer(g, g)``."""
    w = fspecial_gaussian(GAUSS_SIZE, GAUSS_SIGMA)
    c = GAUSS_SIZE // 2
    return torch.from_numpy(w[:, c] / np.sqrt(w[c, c])).to(like)


def _blocks(n_out: int) -> tuple[int, int]:
    """``(count, size)`` of equal blocks covering ``n_out`` outputs with the least padding."""
    count = -(-n_out // BAND_BLOCK)
    return count, -(-n_out // count)


def _band(taps: torch.Tensor, size: int) -> torch.Tensor:
    """``(size + k - 1, size)`` matrix whose column ``j`` holds the taps at rows ``j..j+k-1``: a
    block of 'valid' correlation outputs is ``rows @ band``."""
    k = taps.numel()
    band = taps.new_zeros(size + k - 1, size)
    for j in range(size):  # size <= BAND_BLOCK assignments, once per call
        band[j : j + k, j] = taps
    return band


def _gaussian_moments(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``filter2(g g', m, 'valid')`` of ``x``, ``y``, ``x^2 + y^2`` and ``xy`` at once.

    The four maps are laid out ``(4, H, B, C, W)``, zero-padded to whole blocks, so the vertical
    pass is one matrix product per block of rows for every column of every map and image
    (``band' @ rows``) and the horizontal pass one per block of columns (``rows @ band``): a few
    large BLAS calls instead of eleven memory-bound passes per direction, and no transposed
    copies. SSIM needs ``var_x + var_y`` only, so ``x^2`` and ``y^2`` share a map. Returns
    ``mu_x, mu_y, E[x^2 + y^2], E[xy]``, each ``(nbw, nbh, bh, B, C, bw)``: rows and columns come
    in blocks, and only the first ``H_out``/``W_out`` of them are real (:func:`_valid_mean`).
    """
    b, c, h, w = x.shape
    k = GAUSS_SIZE
    (nbh, bh), (nbw, bw) = _blocks(h - k + 1), _blocks(w - k + 1)
    hp, wp = nbh * bh + k - 1, nbw * bw + k - 1
    maps = x.new_empty(4, hp, b, c, wp)
    maps[:, h:].zero_()
    maps[:, :h, :, :, w:].zero_()
    rows = maps[:, :h, :, :, :w]
    xt, yt = x.permute(2, 0, 1, 3), y.permute(2, 0, 1, 3)
    rows[0], rows[1] = xt, yt
    torch.addcmul(xt * xt, yt, yt, out=rows[2])
    torch.mul(xt, yt, out=rows[3])
    taps = _gaussian_taps(x)
    flat = maps.view(4, hp, -1)
    band_h = _band(taps, bh).T.contiguous()
    vertical = flat.new_empty(nbh, 4, bh, flat.shape[-1])
    for i in range(nbh):
        torch.matmul(band_h, flat[:, i * bh : i * bh + bh + k - 1], out=vertical[i])
    vertical = vertical.view(-1, wp)  # one row per (row block, map, row, image, band)
    band_w = _band(taps, bw)
    out = flat.new_empty(nbw, vertical.shape[0], bw)
    for j in range(nbw):
        torch.mm(vertical[:, j * bw : j * bw + bw + k - 1], band_w, out=out[j])
    out = out.view(nbw, nbh, 4, bh, b, c, bw)
    return tuple(out[:, :, m] for m in range(4))


def _valid_mean(ssim_map: torch.Tensor, h_out: int, w_out: int) -> torch.Tensor:
    """Mean over the real outputs of a ``(nbw, nbh, bh, B, C, bw)`` map -> ``(B, C)``."""
    nbw, nbh, bh, _, _, bw = ssim_map.shape
    dev = ssim_map.device
    real_rows = torch.arange(nbh * bh, device=dev).view(1, nbh, bh, 1, 1, 1) < h_out
    real_cols = torch.arange(nbw * bw, device=dev).view(nbw, 1, 1, 1, 1, bw) < w_out
    return torch.where(real_rows & real_cols, ssim_map, 0.0).sum((0, 1, 2, 5)) / (h_out * w_out)


def ssim_gaussian(x: torch.Tensor, y: torch.Tensor, data_range: float = 255.0) -> torch.Tensor:
    """Mean SSIM per image and channel, ``(B,C,H,W)`` -> ``(B,C)``; images need >= 11x11 pixels.

    Separable Gaussian filtering as banded matrix products (:func:`_gaussian_moments`).
    """
    if x.shape[-2] < GAUSS_SIZE or x.shape[-1] < GAUSS_SIZE:
        raise ValueError(f"image {x.shape[-2]}x{x.shape[-1]} is smaller than the 11x11 SSIM window")
    mu_x, mu_y, sq, xy = _gaussian_moments(x, y)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mxy = mu_x * mu_y
    msq = torch.addcmul(mu_x * mu_x, mu_y, mu_y)
    # (2 mxy + c1)(2 (xy - mxy) + c2) / ((msq + c1)(sq - msq + c2)), in place on the temporaries
    num = (2 * mxy + c1).mul_(xy.sub(mxy).mul_(2).add_(c2))
    den = (msq + c1).mul_(sq.sub(msq).add_(c2))
    return _valid_mean(num.div_(den), x.shape[-2] - GAUSS_SIZE + 1, x.shape[-1] - GAUSS_SIZE + 1)


def ssim_uniform(x: torch.Tensor, y: torch.Tensor, data_range: float, win: int = 7) -> torch.Tensor:
    """scikit-image SSIM defaults, ``(B,C,H,W)`` -> ``(B,C)``; images need >= ``win`` pixels."""
    n = float(win * win)
    mean = lambda t: box_sums(t, win) / n  # noqa: E731
    mu_x, mu_y = mean(x), mean(y)
    norm = n / (n - 1.0)
    var_x = norm * (mean(x * x) - mu_x * mu_x)
    var_y = norm * (mean(y * y) - mu_y * mu_y)
    cov = norm * (mean(x * y) - mu_x * mu_y)
    return _ssim_map(mu_x, mu_y, var_x, var_y, cov, data_range).mean((-2, -1))


__all__ = ["ssim_gaussian", "ssim_uniform"]
