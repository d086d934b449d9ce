"""The two SSIM variants the field uses (spec §C.3, §D.3, §D.4), per channel, batched.

- :func:`ssim_gaussian`: Wang et al.'s MATLAB ``ssim_index``: 11x11 Gaussian window (sigma 1.5),
  ``filter2(..., 'valid')``, population moments, K = (0.01, 0.03). Used by the MHIF package (data
  scaled to 0-255) and by VIFB.
- :func:`ssim_uniform`: scikit-image ``structural_similarity`` defaults, as the CDDFuse evaluator
  calls it: 7x7 uniform window, sample covariance (``N/(N-1)``), mean over the map without its
  3-pixel frame (the frame is where skimage's reflect padding enters, so this equals 'valid').
"""

from __future__ import annotations

import torch

from fusionbench.imaging.matlab import correlate, fspecial_gaussian

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


def ssim_gaussian(x: torch.Tensor, y: torch.Tensor, data_range: float = 255.0) -> torch.Tensor:
    """Mean SSIM per image and channel, ``(B,C,H,W)`` -> ``(B,C)``; images need >= 11x11 pixels."""
    w = torch.from_numpy(fspecial_gaussian(11, 1.5)).to(x)
    f = lambda t: correlate(t, w, "zero", "valid")  # noqa: E731
    mu_x, mu_y = f(x), f(y)
    var_x = f(x * x) - mu_x * mu_x
    var_y = f(y * y) - mu_y * mu_y
    cov = f(x * y) - mu_x * mu_y
    return _ssim_map(mu_x, mu_y, var_x, var_y, cov, data_range).mean((-2, -1))


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
