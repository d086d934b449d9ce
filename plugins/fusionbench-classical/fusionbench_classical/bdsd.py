"""BDSD-PC: band-dependent spatial detail with physical constraints (Vivone 2019), the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

Each fused band is ``lms_b + gamma_0 PAN + sum_k gamma_k lms_k``: a per-band linear detail model
whose coefficients are fitted one scale down (Wald's scale invariance), where a reference exists:
``I_GT = imresize(lms, 1/r)`` (bicubic), ``I_MS_LR = MTF(I_GT)``, ``PAN_LR = decimate(MTF_PAN(PAN))``,
fitting ``I_GT_b - I_MS_LR_b`` on ``[PAN_LR, I_MS_LR]``. The physical constraints (PAN coefficient
>= 0, MS coefficients <= 0: details come from the PAN, the MS terms only remove its low-pass) make it
a sign-constrained least-squares problem. The toolbox solves it with ``lsqlin``; here the sign flip
``beta = diag(1, -1, ..., -1) gamma`` turns it into non-negative least squares, solved exactly by
Lawson-Hanson (SciPy ``nnls``) on the QR-reduced system. With full-column-rank data the minimiser
is unique, so both agree up to ``lsqlin``'s tolerance.
"""

from __future__ import annotations

import torch

from fusionbench.imaging.matlab import imresize_bicubic, nearest_decimate
from fusionbench.imaging.mtf import mtf_filter
from fusionbench.specs import DataCard

from ._base import InputError, PansharpeningMethod
from ._filters import ms_gnyq, pan_gnyq
from ._stats import flatten_bands, signed_nnls

MISSING_PAN_GNYQ = ("default", "error")


def sign_constrained_lstsq(design: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """min ||design gamma - y||^2 with gamma_0 >= 0 (PAN) and gamma_k <= 0 (MS), per column of y.

    ``design``: ``(B, N, K)``; ``targets``: ``(B, N, M)``; returns ``(B, K, M)``.
    """
    signs = -torch.ones(design.shape[-1], dtype=design.dtype)
    signs[0] = 1.0
    return signed_nnls(design, targets, signs)


def bdsd_coefficients(pan: torch.Tensor, lms: torch.Tensor, gnyq, gnyq_pan: float, ratio: int) -> torch.Tensor:
    """The constrained coefficients ``(B, C+1, C)`` fitted at the reduced scale (column b: band b)."""
    gt_lr = imresize_bicubic(lms, 1.0 / ratio)
    ms_lr = mtf_filter(gt_lr, list(gnyq), ratio)
    pan_lr = nearest_decimate(mtf_filter(pan, gnyq_pan, ratio), ratio)
    if pan_lr.shape[-2:] != gt_lr.shape[-2:]:
        raise InputError(
            f"bdsd-pc: the reduced-scale PAN {tuple(pan_lr.shape[-2:])} and MS {tuple(gt_lr.shape[-2:])} differ; "
            "image sizes must be multiples of the ratio"
        )
    design = flatten_bands(torch.cat([pan_lr, ms_lr], dim=1))
    return sign_constrained_lstsq(design, flatten_bands(gt_lr - ms_lr))


class BDSDPC(PansharpeningMethod):
    """BDSD-PC; ``missing_pan_gnyq`` decides what a sensor without PAN MTF (GF2) does."""

    name = "bdsd-pc"

    def __init__(self, missing_pan_gnyq: str = "default") -> None:
        if missing_pan_gnyq not in MISSING_PAN_GNYQ:
            raise ValueError(
                f"bdsd-pc: missing_pan_gnyq must be one of {list(MISSING_PAN_GNYQ)}, got {missing_pan_gnyq!r}"
            )
        self.missing_pan_gnyq = missing_pan_gnyq

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        bands = lms.shape[1]
        gamma = bdsd_coefficients(pan, lms, ms_gnyq(card, bands), pan_gnyq(card, bands, self.missing_pan_gnyq), ratio)
        b, c, h, w = lms.shape
        detail = flatten_bands(torch.cat([pan, lms], dim=1)) @ gamma  # (B, H*W, C)
        return lms + detail.transpose(1, 2).reshape(b, c, h, w)


__all__ = ["BDSDPC", "bdsd_coefficients", "sign_constrained_lstsq"]
