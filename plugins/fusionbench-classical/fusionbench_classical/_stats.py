"""Per-image statistics and regressions with MATLAB's conventions, batched over ``(B, C, H, W)``.

The toolbox computes every statistic over one band of one image (``mean2``, ``std2``, ``cov``,
``var``: sample versions, divide by n-1) and solves regressions with MATLAB's backslash (a QR
least-squares solve). Doing the same here, per image and band, vectorised over the batch, is what
keeps each baseline independent of how images are batched.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import nnls

MATLAB_EPS = 2.220446049250313e-16
"""MATLAB ``eps``: the toolbox adds it to denominators (``I + eps``)."""

_SPATIAL = (-2, -1)


def mean2(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``mean2`` per image and band, keeping dims: ``(B, C, 1, 1)``."""
    return x.mean(dim=_SPATIAL, keepdim=True)


def cov2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sample covariance (n-1) of two images per band (broadcasting over B and C), ``(B, C, 1, 1)``."""
    n = x.shape[-2] * x.shape[-1]
    return ((x - mean2(x)) * (y - mean2(y))).sum(dim=_SPATIAL, keepdim=True) / (n - 1)


def var2(x: torch.Tensor) -> torch.Tensor:
    """Sample variance (n-1), MATLAB ``var(x(:))``."""
    return cov2(x, x)


def std2(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``std2``: sample standard deviation (n-1) over all pixels of one band."""
    return var2(x).sqrt()


def corr2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MATLAB ``corr2``: Pearson correlation of all pixels of one band (0 where a band is flat)."""
    den = (var2(x) * var2(y)).sqrt()
    return torch.where(den > 0, cov2(x, y) / torch.where(den > 0, den, 1.0), 0.0)


def safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` with 0 where ``den == 0`` (a flat image has no regression slope to speak of)."""
    return torch.where(den != 0, num / torch.where(den != 0, den, 1.0), 0.0)


def match_moments(
    x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, ref_std: torch.Tensor | None = None
) -> torch.Tensor:
    """``(x - mean2(x)) * std / ref_std + mean``: the toolbox's "histogram matching".

    ``ref_std`` defaults to ``std2(x)``; several methods divide by the std of a low-pass version
    of ``x`` instead (BT-H, AWLP), which is why it is a parameter.
    """
    ref = std2(x) if ref_std is None else ref_std
    return (x - mean2(x)) * safe_div(std, ref) + mean


def lstsq(design: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Least squares ``design \\ target`` per batch element, like MATLAB's backslash (QR).

    ``design``: ``(B, N, K)``; ``target``: ``(B, N)`` or ``(B, N, M)``. Returns ``(B, K)`` or
    ``(B, K, M)``. QR (not the normal equations) keeps the conditioning of the data, so
    coefficients agree with MATLAB's to ~1e-12 relative; it runs on CPU and GPU alike.
    """
    vector = target.ndim == design.ndim - 1
    rhs = target.unsqueeze(-1) if vector else target
    q, r = torch.linalg.qr(design, mode="reduced")
    coef = torch.linalg.solve_triangular(r, q.transpose(-2, -1) @ rhs, upper=True)
    return coef.squeeze(-1) if vector else coef


def signed_nnls(design: torch.Tensor, targets: torch.Tensor, signs: torch.Tensor | None = None) -> torch.Tensor:
    """Least squares with sign constraints ``signs[k] * coef[k] >= 0``, per target column.

    ``design``: ``(B, N, K)``; ``targets``: ``(B, N, M)``; ``signs``: ``(K,)`` of +-1 (default all
    +1: non-negative least squares). Substituting ``beta = signs * coef`` gives an NNLS problem,
    solved exactly by Lawson-Hanson (SciPy ``nnls``) on the QR-reduced K x K system, which has
    the same minimiser as the N x K one. Small K only (a Python loop over B x M problems).
    """
    q, r = torch.linalg.qr(design, mode="reduced")
    rhs = (q.transpose(-2, -1) @ targets).detach().cpu().numpy()
    k = design.shape[-1]
    flip = np.ones(k) if signs is None else signs.detach().cpu().numpy().astype(np.float64)
    r_np = r.detach().cpu().numpy() * flip[None, None, :]
    out = np.empty((design.shape[0], k, targets.shape[-1]))
    for i in range(design.shape[0]):
        for j in range(targets.shape[-1]):
            beta, _ = nnls(r_np[i], rhs[i, :, j], maxiter=50 * k)
            out[i, :, j] = beta * flip
    return torch.from_numpy(out).to(design)


def flatten_bands(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, H*W, C)``: pixels as rows, bands as columns (MATLAB ``reshape``)."""
    b, c = x.shape[:2]
    return x.reshape(b, c, -1).transpose(1, 2)


def with_ones(x: torch.Tensor) -> torch.Tensor:
    """Append a constant band of ones: ``(B, C, H, W)`` -> ``(B, C+1, H, W)`` (regression intercept)."""
    return torch.cat([x, torch.ones_like(x[:, :1])], dim=1)


def combine(weights: torch.Tensor, bands: torch.Tensor) -> torch.Tensor:
    """``sum_k weights[:, k] * bands[:, k]`` -> ``(B, 1, H, W)``; ``weights`` is ``(B, K)``."""
    return torch.einsum("bk,bkhw->bhw", weights, bands).unsqueeze(1)


def prctile(x: torch.Tensor, p: float) -> torch.Tensor:
    """MATLAB ``prctile(x(:), p)`` per image and band, ``(B, C, 1, 1)``.

    MATLAB places the i-th sorted sample (1-based) at percentile ``100 (i - 0.5) / n`` and
    interpolates linearly, clamping outside; that is NumPy's ``method='hazen'``, not its default.
    """
    b, c = x.shape[:2]
    flat = x.reshape(b, c, -1).sort(dim=-1).values
    n = flat.shape[-1]
    pos = min(max(p / 100.0 * n - 0.5, 0.0), n - 1.0)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    value = flat[..., lo] + frac * (flat[..., hi] - flat[..., lo])
    return value[..., None, None]


__all__ = [
    "MATLAB_EPS",
    "combine",
    "corr2",
    "cov2",
    "flatten_bands",
    "lstsq",
    "match_moments",
    "mean2",
    "prctile",
    "safe_div",
    "signed_nnls",
    "std2",
    "var2",
    "with_ones",
]
