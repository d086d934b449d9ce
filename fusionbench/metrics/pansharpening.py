"""Reduced-resolution pansharpening metrics, as the MATLAB toolbox defines them (Vivone et al., IEEE GRSM 2021, and its toolbox: SAM.m, ERGAS.m, Q.m, q2n.m, SCC.m).

All functions take batched ``(B,C,H,W)`` float64 tensors in DN and return ``(B,)``. SAM, ERGAS
and PSNR also serve MHIF (Deng's group's MHIF evaluation code): their definitions are the same there.
"""

from __future__ import annotations

import math

import torch

from fusionbench.imaging.matlab import correlate, fspecial_sobel
from fusionbench.specs import DataCard

from . import _validate as V
from ._stats import box_sums
from .base import ReferenceMetric, card_or_positive, int_param
from .q2n import min_side, q2n


# -- functional ----------------------------------------------------------------------------------
def sam(ref: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """Mean spectral angle in degrees; pixels where either vector is zero are left out.

    MATLAB keeps the real part of ``acos``, so a cosine pushed past +-1 by rounding contributes
    0 (or 180): clamping reproduces that. An image whose every pixel is excluded gives NaN.
    """
    dot = (ref * fused).sum(1)
    norm = torch.sqrt((ref * ref).sum(1) * (fused * fused).sum(1))
    valid = norm != 0
    cos = torch.where(valid, dot / torch.where(valid, norm, 1.0), 1.0).clamp(-1.0, 1.0)
    angle = torch.where(valid, torch.acos(cos), 0.0).sum((-2, -1)) / valid.sum((-2, -1))
    return angle * (180.0 / math.pi)


def ergas(ref: torch.Tensor, fused: torch.Tensor, ratio: float) -> torch.Tensor:
    """``(100/ratio) sqrt(mean_b MSE_b / mean(ref_b)^2)`` (reference-band means)."""
    mse = ((ref - fused) ** 2).mean((-2, -1))
    mu = ref.mean((-2, -1))
    return (100.0 / ratio) * torch.sqrt((mse / (mu * mu)).mean(1))


def psnr(ref: torch.Tensor, fused: torch.Tensor, data_range: float) -> torch.Tensor:
    """Band-wise ``10 log10(range^2 / MSE_b)``, averaged over bands (Deng-group convention)."""
    mse = ((ref - fused) ** 2).mean((-2, -1))
    return (10.0 * torch.log10(data_range * data_range / mse)).mean(1)


def q_avg(ref: torch.Tensor, fused: torch.Tensor, block: int = 32) -> torch.Tensor:
    """Band-wise UIQI over a sliding ``block``x``block`` window ('valid'), averaged over the map
    and over bands (the toolbox's ``Q``/``img_qi``, including its 0/0 conventions)."""
    n = float(block * block)
    sx, sy = box_sums(ref, block), box_sums(fused, block)
    sxx, syy, sxy = box_sums(ref * ref, block), box_sums(fused * fused, block), box_sums(ref * fused, block)
    mul = sx * sy
    sq = sx * sx + sy * sy
    num = 4.0 * (n * sxy - mul) * mul
    den1 = n * (sxx + syy) - sq
    den = den1 * sq
    qmap = torch.ones_like(den)
    qmap = torch.where((den1 == 0) & (sq != 0), 2.0 * mul / torch.where(sq != 0, sq, 1.0), qmap)
    qmap = torch.where(den != 0, num / torch.where(den != 0, den, 1.0), qmap)
    return qmap.mean((-2, -1)).mean(1)


def scc(fused: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Toolbox SCC: Sobel gradient magnitudes (zero-padded ``imfilter`` on the image without its
    1-px frame), uncentred correlation over all pixels and bands."""

    def magnitude(x: torch.Tensor) -> torch.Tensor:
        x = x[..., 1:-1, 1:-1]
        sobel = torch.from_numpy(fspecial_sobel()).to(x)
        gy = correlate(x, sobel, "zero", "same")
        gx = correlate(x, sobel.T, "zero", "same")
        return torch.sqrt(gx * gx + gy * gy)

    mf, mg = magnitude(fused), magnitude(ref)
    dims = (1, 2, 3)
    return (mf * mg).sum(dims) / torch.sqrt((mf * mf).sum(dims)) / torch.sqrt((mg * mg).sum(dims))


# -- metric plugins ------------------------------------------------------------------------------
class SAM(ReferenceMetric):
    name = "sam"

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        return sam(ref, pred)


class ERGAS(ReferenceMetric):
    name = "ergas"

    def __init__(self, dim_cut: int = 0, ratio: str | float = "card") -> None:
        super().__init__(dim_cut)
        self.ratio = card_or_positive(self.name, "ratio", ratio)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        ratio = V.card_number(self.name, "ratio", self.ratio, card.ratio, "ratio")
        return ergas(ref, pred, ratio)


class PSNR(ReferenceMetric):
    name = "psnr"

    def __init__(self, dim_cut: int = 0, data_range: str | float = "card") -> None:
        super().__init__(dim_cut)
        self.data_range = card_or_positive(self.name, "data_range", data_range)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        peak = V.card_number(self.name, "data_range", self.data_range, card.max_value, "max_value")
        return psnr(ref, pred, peak)


class Q2n(ReferenceMetric):
    name = "q2n"

    def __init__(self, dim_cut: int = 0, block: int = 32, shift: int = 32) -> None:
        super().__init__(dim_cut)
        self.block = int_param(self.name, "block", block, 2)
        self.shift = int_param(self.name, "shift", shift, 1)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        if card.max_value <= 1.0:
            V.fail(
                self.name,
                f"the data card's max_value is {card.max_value}: Q2n quantises to uint16 and is only "
                "meaningful on DN data (e.g. 0..2047); scale pred and ref to DN",
            )
        h, w = pred.shape[-2:]
        if not (min_side(self.block, self.shift, h) and min_side(self.block, self.shift, w)):
            V.fail(self.name, f"pred {h}x{w} is too small to pad to {self.block}-pixel blocks")
        return q2n(ref, pred, self.block, self.shift)


class QAvg(ReferenceMetric):
    name = "q-avg"

    def __init__(self, dim_cut: int = 0, block: int = 32) -> None:
        super().__init__(dim_cut)
        self.block = int_param(self.name, "block", block, 2)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        V.min_size(self.name, "pred", pred, self.block, self.block, "one sliding window")
        return q_avg(ref, pred, self.block)


class SCC(ReferenceMetric):
    name = "scc"

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        V.min_size(self.name, "pred", pred, 3, 3, "the 1-pixel frame is dropped")
        return scc(pred, ref)


__all__ = ["ERGAS", "PSNR", "Q2n", "QAvg", "SAM", "SCC", "ergas", "psnr", "q_avg", "sam", "scc"]
