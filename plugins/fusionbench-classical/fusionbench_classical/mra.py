"""Multiresolution-analysis (MRA) pansharpening: the MTF-GLP family and AWLP (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)).

MRA methods take the PAN's details as PAN minus a low-pass PAN. MTF-GLP makes that low-pass with
each band's sensor MTF (``card.mtf_gnyq``), decimation at the Wald phase and the 23-tap
interpolator, i.e. exactly the way the MS was degraded, so the injected details are those the MS
lacks. The variants differ in the injection rule: additive with unit gains (MTF-GLP), additive
with full-scale regression gains (FS), multiplicative (HPM) and multiplicative with a regression
offset (HPM-R). AWLP uses the toolbox's undecimated B3-spline wavelet low-pass instead.
"""

from __future__ import annotations

import torch

from fusionbench.specs import DataCard

from ._base import PansharpeningMethod
from ._filters import atrous_lowpass, check_dyadic, down_up_bicubic, glp_lowpass, ms_gnyq
from ._stats import MATLAB_EPS, cov2, match_moments, mean2, safe_div, std2, var2


def pan_lowpass(pan: torch.Tensor, card: DataCard, bands: int, ratio: int, method: str) -> torch.Tensor:
    """The per-band MTF-GLP low-pass of the PAN, ``(B, C, H, W)``, with the card's MTF gains."""
    check_dyadic(method, ratio)
    return glp_lowpass(pan.expand(-1, bands, -1, -1), ms_gnyq(card, bands), ratio)


def equalized_pan(pan: torch.Tensor, lms: torch.Tensor) -> torch.Tensor:
    """PAN matched to each band's mean and std (toolbox "equalization"), ``(B, C, H, W)``."""
    return match_moments(pan.expand_as(lms), mean2(lms), std2(lms), std2(pan))


class MTFGLP(PansharpeningMethod):
    """MTF-GLP with unit injection gains on the per-band equalized PAN.

    ``F_b = lms_b + P_b - LP_b(P_b)``, ``P_b`` = PAN matched to band b. [Approximation: the spec
    names MTF-GLP without its constants; this is the classic unit-gain GLP.]
    """

    name = "mtf-glp"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        p = equalized_pan(pan, lms)
        check_dyadic(self.name, ratio)
        return lms + p - glp_lowpass(p, ms_gnyq(card, lms.shape[1]), ratio)


class MTFGLPFS(PansharpeningMethod):
    """MTF-GLP-FS (full-scale regression gains), exact per the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

    ``g_b = cov(lms_b, PAN) / cov(LP_b(PAN), PAN)``; ``F_b = lms_b + g_b (PAN - LP_b(PAN))``.
    """

    name = "mtf-glp-fs"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        p_lp = pan_lowpass(pan, card, lms.shape[1], ratio, self.name)
        gains = safe_div(cov2(lms, pan), cov2(p_lp, pan))
        return lms + gains * (pan - p_lp)


class MTFGLPHPM(PansharpeningMethod):
    """MTF-GLP with high-pass modulation: ``F_b = lms_b * P_b / (LP_b(P_b) + eps)``.

    ``P_b`` = PAN matched to band b. [Approximation: constants of the toolbox's MTF_GLP_HPM not
    in the spec; this is the textbook HPM form on the equalized PAN.]
    """

    name = "mtf-glp-hpm"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        p = equalized_pan(pan, lms)
        check_dyadic(self.name, ratio)
        return lms * (p / (glp_lowpass(p, ms_gnyq(card, lms.shape[1]), ratio) + MATLAB_EPS))


class MTFGLPHPMR(PansharpeningMethod):
    """MTF-GLP-HPM-R (HPM with a regression-based offset), exact per the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

    ``g = cov(lms_b, LP_b) / var(LP_b)``, ``cb = mean(lms_b)/g - mean(PAN)``,
    ``F_b = lms_b (PAN + cb) / (LP_b + cb + eps)``.
    """

    name = "mtf-glp-hpm-r"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        p_lp = pan_lowpass(pan, card, lms.shape[1], ratio, self.name)
        gain = safe_div(cov2(lms, p_lp), var2(p_lp))
        offset = safe_div(mean2(lms), gain) - mean2(pan)
        return lms * ((pan + offset) / (p_lp + offset + MATLAB_EPS))


class AWLP(PansharpeningMethod):
    """Additive wavelet luminance proportional (the Pansharpening Toolbox's ``AWLP.m``).

    Per band, PAN matched to ``lms_b`` with the std of a bicubic down-up PAN (scale
    ``std(lms_b) / std(down-up PAN)``); details = matched PAN - its undecimated-wavelet low-pass
    (:func:`~fusionbench_classical._filters.atrous_lowpass`, the toolbox's ``ndwt2_working`` /
    ``indwt2_working`` pair, borders included); ``F_b = lms_b + details_b * lms_b / (mean_b lms + eps)``.
    """

    name = "awlp"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        # Matching is affine (P_b = a_b PAN + c_b) and the wavelet low-pass keeps constants, so
        # the matched PAN's details are a_b times the PAN's: one low-pass serves every band.
        scale = safe_div(std2(lms), std2(down_up_bicubic(pan, ratio)))
        details = scale * (pan - atrous_lowpass(pan, ratio))
        return lms + details * (lms / (lms.mean(dim=1, keepdim=True) + MATLAB_EPS))


__all__ = ["AWLP", "MTFGLP", "MTFGLPFS", "MTFGLPHPM", "MTFGLPHPMR", "equalized_pan", "pan_lowpass"]
