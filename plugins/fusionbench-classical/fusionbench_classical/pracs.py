"""PRACS: partial replacement adaptive component substitution (Choi, Yu, Kim 2011), the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

[Approximation.] The spec lists PRACS's ingredients (beta = 0.95 for 11-bit data, band-wise
histogram matching, regression against a bicubic down-up PAN, correlation-weighted high-resolution
components) but not every step of the toolbox code; this follows the paper's structure:

1. each band matched to the PAN; CC_b = corr(lms_b, PAN);
2. partial replacement: the band's own high-resolution component
   ``I_h,b = CC_b PAN + (1 - CC_b) lms_b'`` (lms_b' = band matched to PAN), so poorly correlated
   bands (NIR) take less of the PAN;
3. the low-resolution intensity I_L = LS fit of the down-up PAN on [lms, 1]; each I_h,b matched
   to I_L, and its own low-resolution version I_L,b = LS fit of its down-up image on [lms, 1];
4. gains ``g_b = beta CC(I_L, lms_b) std(lms_b) / mean_k std(lms_k)`` modulated by the local
   factor ``L_b = 1 - |1 - CC(I_L, lms_b) lms_b / I_L|``;
5. ``F_b = lms_b + g_b L_b (I_h,b - I_L,b)``.
"""

from __future__ import annotations

import torch

from fusionbench.specs import DataCard

from ._base import PansharpeningMethod
from ._filters import down_up_bicubic
from ._stats import corr2, flatten_bands, lstsq, match_moments, mean2, safe_div, std2, with_ones


def regress_on_ms(lms: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Project each target channel on the span of [lms, 1] (LS fit), same shape as ``targets``."""
    b, c, h, w = targets.shape
    design = flatten_bands(with_ones(lms))
    coef = lstsq(design, flatten_bands(targets))  # (B, C+1, T)
    return (design @ coef).transpose(1, 2).reshape(b, c, h, w)


class PRACS(PansharpeningMethod):
    """PRACS with ``beta`` (0.95 for 11-bit data in the toolbox)."""

    name = "pracs"

    def __init__(self, beta: float = 0.95) -> None:
        if not 0.0 < float(beta) <= 1.0:
            raise ValueError(f"pracs: beta must lie in (0, 1], got {beta}")
        self.beta = float(beta)

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        cc = corr2(lms, pan)
        lms_matched = match_moments(lms, mean2(pan), std2(pan))
        high = cc * pan + (1.0 - cc) * lms_matched
        i_low = regress_on_ms(lms, down_up_bicubic(pan, ratio))
        high = match_moments(high, mean2(i_low), std2(i_low))
        high_low = regress_on_ms(lms, down_up_bicubic(high, ratio))
        cc_low = corr2(i_low, lms)
        band_std = std2(lms)
        gains = self.beta * cc_low * safe_div(band_std, band_std.mean(dim=1, keepdim=True))
        local = 1.0 - (1.0 - cc_low * safe_div(lms, i_low)).abs()
        return lms + gains * local * (high - high_low)


__all__ = ["PRACS", "regress_on_ms"]
