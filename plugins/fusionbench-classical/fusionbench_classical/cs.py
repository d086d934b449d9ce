"""Component-substitution (CS) pansharpening: Brovey, IHS, PCA, BT-H, GSA (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)).

A CS method builds an intensity I from the upsampled MS bands, matches the PAN to it, and injects
``PAN - I`` (additively or multiplicatively) into every band. They differ in how I is formed and
how much of the detail each band receives. All work per image and band (toolbox statistics,
sample std), vectorised over the batch.
"""

from __future__ import annotations

import torch

from fusionbench.specs import DataCard

from ._base import PansharpeningMethod
from ._filters import lowpass_decimate, lp_gauss
from ._stats import (
    MATLAB_EPS,
    combine,
    cov2,
    flatten_bands,
    lstsq,
    match_moments,
    mean2,
    prctile,
    safe_div,
    std2,
    var2,
    with_ones,
)

HAZE_FACTORS_4 = (0.95, 0.45, 0.40, 0.05)
"""BT-H haze fractions of the 1st percentile for 4-band (B, G, R, NIR) data (toolbox constants)."""

HAZE_PERCENTILE = 1.0


def match_pan_to(pan: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
    """PAN with the mean and (sample) std of ``intensity``, per image."""
    return match_moments(pan, mean2(intensity), std2(intensity))


class Brovey(PansharpeningMethod):
    """Brovey transform (textbook version, the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)): ``F_b = lms_b * P' / I``.

    ``I`` is the band mean of ``lms`` and ``P'`` the PAN matched to I in mean and std. Multiplicative
    injection keeps each pixel's band ratios, hence its spectral angle: Brovey has EXP's SAM.
    """

    name = "brovey"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        intensity = lms.mean(dim=1, keepdim=True)
        return lms * (match_pan_to(pan, intensity) / (intensity + MATLAB_EPS))


class IHS(PansharpeningMethod):
    """Generalised (fast) IHS, the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021): ``F_b = lms_b + (P' - I)`` with I the band mean.

    Every band gets the same additive detail; with PAN equal to I (up to an affine map) the
    output is ``lms`` exactly.
    """

    name = "ihs"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        intensity = lms.mean(dim=1, keepdim=True)
        return lms + (match_pan_to(pan, intensity) - intensity)


def principal_axis(lms: torch.Tensor) -> torch.Tensor:
    """Unit eigenvector of the band covariance with the largest eigenvalue, ``(B, C)``.

    Sign convention of MATLAB's ``pca``: the largest-magnitude coefficient is positive, so the
    result is deterministic (``eigh``'s sign is arbitrary).
    """
    x = flatten_bands(lms)
    x = x - x.mean(dim=1, keepdim=True)
    cov = x.transpose(1, 2) @ x / (x.shape[1] - 1)
    _, vectors = torch.linalg.eigh(cov)
    v = vectors[..., -1]
    pivot = v.gather(1, v.abs().argmax(dim=1, keepdim=True))
    return v * torch.where(pivot < 0, -1.0, 1.0)


class PCA(PansharpeningMethod):
    """PCA substitution (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)): replace the first principal component by the matched PAN.

    With the orthonormal basis this is ``F = lms + v1 (P' - PC1)``, PC1 = v1 . (lms - band means);
    band means are preserved because P' has PC1's mean (0).
    """

    name = "pca"
    min_bands = 2

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        v = principal_axis(lms)
        pc1 = combine(v, lms - mean2(lms))
        detail = match_pan_to(pan, pc1) - pc1
        return lms + v[:, :, None, None] * detail


def haze(lms: torch.Tensor) -> torch.Tensor:
    """BT-H haze values L_b, ``(B, C, 1, 1)``: 4 bands: fractions of the 1st percentile, else minima."""
    if lms.shape[1] == 4:
        factors = torch.tensor(HAZE_FACTORS_4, dtype=lms.dtype, device=lms.device)[None, :, None, None]
        return factors * prctile(lms, HAZE_PERCENTILE)
    return lms.amin(dim=(-2, -1), keepdim=True)


class BTH(PansharpeningMethod):
    """BT-H: Brovey with haze correction and regression weights (toolbox ``BroveyRegHazeMin``).

    Exact per the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021): weights w = LS fit (no constant) of ``LPfilterGauss(PAN)`` on ``lms``;
    ``I = sum_b w_b (lms_b - L_b)``; PAN matched with the std of its low-pass;
    ``F_b = max(lms_b - L_b, 0) P' / (I + eps) + L_b``.
    """

    name = "bt-h"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        level = haze(lms)
        pan_lp = lp_gauss(pan, ratio)
        weights = lstsq(flatten_bands(lms), flatten_bands(pan_lp)[..., 0])
        intensity = combine(weights, lms - level)
        matched = (pan - mean2(pan_lp)) * safe_div(std2(intensity), std2(pan_lp)) + mean2(intensity)
        return (lms - level).clamp_min(0.0) * (matched / (intensity + MATLAB_EPS)) + level


def gsa_weights(ms: torch.Tensor, pan: torch.Tensor, ratio: int) -> torch.Tensor:
    """GSA's intensity weights ``(B, C+1)`` (last = constant): LS fit of the low-passed, decimated,
    zero-mean PAN on the zero-mean LR bands and a constant (toolbox ``GSA.m`` with ``LPfilterPlusDec.m``)."""
    pan_lr = lowpass_decimate(pan - mean2(pan), ratio)
    if pan_lr.shape[-2:] != ms.shape[-2:]:
        raise ValueError(f"gsa: decimated PAN {tuple(pan_lr.shape[-2:])} does not match ms {tuple(ms.shape[-2:])}")
    design = flatten_bands(with_ones(ms - mean2(ms)))
    return lstsq(design, flatten_bands(pan_lr)[..., 0])


class GSA(PansharpeningMethod):
    """Adaptive Gram-Schmidt (the Pansharpening Toolbox's ``GSA.m``).

    I = sum_b alpha_b (lms_b - mean) + alpha_0 with alpha from :func:`gsa_weights`; gains
    g_b = cov(I0, lms_b)/var(I0); ``F_b = lms_b + g_b (PAN0 - I0)``; band means restored. Exact,
    borders included: the PAN low-pass is the toolbox's undecimated wavelet pair (see
    :func:`fusionbench_classical._filters.atrous_lowpass`).
    """

    name = "gsa"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        alpha = gsa_weights(ms, pan, ratio)
        lms0 = lms - mean2(lms)
        intensity = combine(alpha, with_ones(lms0))
        i0 = intensity - mean2(intensity)
        gains = safe_div(cov2(i0, lms0), var2(i0))
        fused = lms0 + gains * ((pan - mean2(pan)) - i0)
        return fused - mean2(fused) + mean2(lms)


__all__ = ["BTH", "Brovey", "GSA", "IHS", "PCA", "gsa_weights", "haze", "match_pan_to", "principal_axis"]
