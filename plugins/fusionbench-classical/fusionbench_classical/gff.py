"""Guided filtering fusion (GFF; Li, Kang & Hu 2013) with VIFB's ``GFF.m`` constants, VIFB's MATLAB baselines.

Two-scale fusion: base = 31x31 mean, detail = image - base. A pixel's saliency is the local
Laplacian energy (|Laplacian| smoothed by an 11x11, sigma 5 Gaussian); the binary "which source is
most salient" maps are then refined by guided filtering with each source as guide, a wide smooth
filter (r1, eps1) for the base weights and a narrow edge-preserving one (r2, eps2) for the
details. Weights are quantised to 8 bits (``uint8(W*255)/255``) like the reference, and the
result is saved as ``uint8(F*255)``. All MATLAB border and rounding conventions are kept, so on
the VIFB pairs the output matches VIFB's own GFF images up to their JPEG compression.
"""

from __future__ import annotations

import torch

from fusionbench.imaging.matlab import correlate, fspecial_gaussian, uint8
from fusionbench.specs import DataCard

from ._base import PairFusionMethod

BASE_SIZE = 31
SALIENCY_SIZE, SALIENCY_SIGMA = 11, 5.0
LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
"""MATLAB ``fspecial('laplacian', 0)``."""
WEIGHT_FLOOR = 1e-12


def box_sum(x: torch.Tensor, r: int) -> torch.Tensor:
    """Sum over the (2r+1)^2 window clipped to the image (He et al.'s cumulative-sum ``boxfilter``)."""
    for dim in (-2, -1):
        n = x.shape[dim]
        pad = [0, 0, 0, 0]
        pad_index = 2 if dim == -2 else 0
        pad[pad_index], pad[pad_index + 1] = r + 1, r
        c = torch.nn.functional.pad(x, pad).cumsum(dim=dim)
        x = c.narrow(dim, 2 * r + 1, n) - c.narrow(dim, 0, n)
    return x


def guided_filter(guide: torch.Tensor, src: torch.Tensor, r: int, eps: float) -> torch.Tensor:
    """He, Sun & Tang's grey guided filter with window radius ``r`` and regularisation ``eps``.

    Window means divide by the number of in-image pixels N (smaller at the borders), as the
    reference ``guidedfilter.m`` does.
    """
    n = box_sum(torch.ones_like(guide[:1, :1]), r)
    mean = lambda t: box_sum(t, r) / n  # noqa: E731
    mean_i, mean_p = mean(guide), mean(src)
    cov_ip = mean(guide * src) - mean_i * mean_p
    var_i = mean(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return mean(a) * guide + mean(b)


def _quantised_weights(weights: torch.Tensor) -> torch.Tensor:
    """``uint8(W*255)/255 + 1e-12``, normalised over sources (dim 0)."""
    w = uint8(weights * 255.0) / 255.0 + WEIGHT_FLOOR
    return w / w.sum(dim=0, keepdim=True)


def gff(sources: torch.Tensor, r1: int = 45, eps1: float = 0.3, r2: int = 7, eps2: float = 1e-6) -> torch.Tensor:
    """Fuse ``sources`` ``(S, B, 1, H, W)`` in [0, 1]; returns the unquantised fused image in [0, 1]-ish.

    Ties in saliency go to the first source (MATLAB ``max`` returns the first index).
    """
    s = sources.shape[0]
    flat = sources.reshape(-1, 1, *sources.shape[-2:])  # (S*B, 1, H, W)
    box = torch.full((BASE_SIZE, BASE_SIZE), 1.0 / BASE_SIZE**2, dtype=flat.dtype)
    base = correlate(flat, box, "replicate")
    lap = correlate(flat, torch.tensor(LAPLACIAN, dtype=flat.dtype), "replicate").abs()
    saliency = correlate(lap, fspecial_gaussian(SALIENCY_SIZE, SALIENCY_SIGMA), "replicate")
    saliency = saliency.reshape(sources.shape)
    winner = saliency.argmax(dim=0, keepdim=True)
    masks = (torch.arange(s, device=sources.device).view(-1, 1, 1, 1, 1) == winner).to(flat.dtype)
    masks = masks.reshape(flat.shape)
    w_base = _quantised_weights(guided_filter(flat, masks, r1, eps1).reshape(sources.shape))
    w_detail = _quantised_weights(guided_filter(flat, masks, r2, eps2).reshape(sources.shape))
    base = base.reshape(sources.shape)
    return (w_base * base + w_detail * (sources - base)).sum(dim=0)


class GFF(PairFusionMethod):
    """GFF on the two sources (IR/VI or MRI/other), scaled by the card's ``max_value`` to [0, 1]."""

    name = "gff"

    def __init__(self, r1: int = 45, eps1: float = 0.3, r2: int = 7, eps2: float = 1e-6) -> None:
        for label, value in (("r1", r1), ("r2", r2)):
            if int(value) < 1:
                raise ValueError(f"gff: {label} must be >= 1, got {value}")
        for label, value in (("eps1", eps1), ("eps2", eps2)):
            if not float(value) > 0:
                raise ValueError(f"gff: {label} must be positive, got {value}")
        self.r1, self.eps1, self.r2, self.eps2 = int(r1), float(eps1), int(r2), float(eps2)

    def _fuse(self, a, b, card: DataCard) -> torch.Tensor:
        peak = float(card.max_value) if card.max_value else 255.0
        fused = gff(torch.stack([a, b]) / peak, self.r1, self.eps1, self.r2, self.eps2)
        return uint8(fused * 255.0) * (peak / 255.0)


__all__ = ["GFF", "box_sum", "gff", "guided_filter"]
