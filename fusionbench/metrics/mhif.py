"""MHIF metrics as the Deng-group MATLAB package computes them (its ``analysis_ref`` functions).

PSNR, SAM and ERGAS are the pansharpening definitions (:mod:`.pansharpening`), registered for
both tasks. Only SSIM is specific: band-wise Wang SSIM on the data rescaled to 0-255
(``x * 255 / data_range``; ``data_range`` 1 for CAVE/Harvard), averaged over bands.
"""

from __future__ import annotations

import torch

from fusionbench.specs import DataCard

from . import _validate as V
from .base import ReferenceMetric, card_or_positive
from .ssim import ssim_gaussian


def band_ssim(ref: torch.Tensor, fused: torch.Tensor, data_range: float) -> torch.Tensor:
    """Mean over bands of Wang SSIM (11x11 Gaussian, 'valid', L = 255) on 0-255 rescaled data.

    SSIM of ``x * 255 / r`` with ``L = 255`` is SSIM of ``x`` with ``L = r`` (every term scales by
    the same square), so the data are not copied to rescale them.
    """
    return ssim_gaussian(ref, fused, float(data_range)).mean(1)


class SSIM(ReferenceMetric):
    name = "ssim"
    chunks_batch = False  # ssim_gaussian filters cache-sized groups of bands itself

    def __init__(self, dim_cut: int = 0, data_range: str | float = "card") -> None:
        super().__init__(dim_cut)
        self.data_range = card_or_positive(self.name, "data_range", data_range)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        V.min_size(self.name, "pred", pred, 11, 11, "the 11x11 SSIM window, 'valid'")
        peak = V.card_number(self.name, "data_range", self.data_range, card.max_value, "max_value")
        return band_ssim(ref, pred, peak)


__all__ = ["SSIM", "band_ssim"]
