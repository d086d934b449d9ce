"""Two-source fusion baselines for IVF and MIF (VIFB's MATLAB baselines): average, max-abs, DWT, Laplacian pyramid.

All take two single-channel images in the dataset's units (0..255 luminance) and return the fused
luminance; colour, when the dataset has it, is rebuilt by the core from the visible image's CbCr.
Multi-scale methods share one rule (mean of the coarsest approximation, larger-magnitude
coefficient for every detail band), so they differ only in the decomposition.
"""

from __future__ import annotations

import math

import numpy as np
import pywt
import torch

from fusionbench.imaging.matlab import correlate
from fusionbench.specs import DataCard

from ._base import PairFusionMethod
from ._filters import B3_SPLINE


def select_max_abs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pixelwise the coefficient of larger magnitude; ties go to the first source."""
    return torch.where(a.abs() >= b.abs(), a, b)


class Average(PairFusionMethod):
    """``F = (A + B) / 2``."""

    name = "average"

    def _fuse(self, a, b, card: DataCard) -> torch.Tensor:
        return 0.5 * (a + b)


class MaxAbs(PairFusionMethod):
    """Pixelwise larger-magnitude source (for non-negative images: the maximum)."""

    name = "max-abs"

    def _fuse(self, a, b, card: DataCard) -> torch.Tensor:
        return select_max_abs(a, b)


def _positive_int(method: str, label: str, value: int) -> int:
    if int(value) < 1:
        raise ValueError(f"{method}: {label} must be >= 1, got {value}")
    return int(value)


class DWT(PairFusionMethod):
    """Discrete wavelet fusion with PyWavelets (symmetric extension), batched over images.

    Levels are capped at PyWavelets' maximum useful level for the image size and wavelet.
    """

    name = "dwt"

    def __init__(self, wavelet: str = "db2", levels: int = 3) -> None:
        if wavelet not in pywt.wavelist(kind="discrete"):
            raise ValueError(f"dwt: unknown discrete wavelet {wavelet!r}; e.g. haar, db1, db2, sym4, bior2.2")
        self.wavelet = wavelet
        self.levels = _positive_int(self.name, "levels", levels)

    def _fuse(self, a, b, card: DataCard) -> torch.Tensor:
        h, w = a.shape[-2:]
        wav = pywt.Wavelet(self.wavelet)
        levels = max(1, min(self.levels, pywt.dwt_max_level(min(h, w), wav.dec_len)))
        ca = pywt.wavedec2(a.detach().cpu().numpy(), wav, mode="symmetric", level=levels, axes=(-2, -1))
        cb = pywt.wavedec2(b.detach().cpu().numpy(), wav, mode="symmetric", level=levels, axes=(-2, -1))
        fused = [(ca[0] + cb[0]) / 2.0]
        for da, db in zip(ca[1:], cb[1:]):
            fused.append(tuple(np.where(np.abs(x) >= np.abs(y), x, y) for x, y in zip(da, db)))
        out = pywt.waverec2(fused, wav, mode="symmetric", axes=(-2, -1))[..., :h, :w]
        return torch.from_numpy(np.ascontiguousarray(out)).to(a)


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Separable 5-tap B3-spline (Burt-Adelson a = 0.375) blur, symmetric borders."""
    k = torch.tensor(B3_SPLINE, dtype=x.dtype, device=x.device) * gain
    return correlate(x, torch.outer(k, k), "symmetric", "same")


def pyr_down(x: torch.Tensor) -> torch.Tensor:
    """REDUCE: blur, keep every second row and column (sizes round up)."""
    return _blur(x)[..., ::2, ::2]


def pyr_up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """EXPAND to ``size``: zero-stuff at even positions, blur with gain 2 per axis."""
    up = x.new_zeros(*x.shape[:-2], *size)
    up[..., ::2, ::2] = x
    return _blur(up, 2.0)


class LaplacianPyramid(PairFusionMethod):
    """Laplacian-pyramid fusion: mean of the top Gaussian level, max-abs of each Laplacian level.

    Reconstruction inverts the decomposition exactly (each level stores ``G_i - EXPAND(G_i+1)``),
    so fusing an image with itself returns it.
    """

    name = "laplacian-pyramid"

    def __init__(self, levels: int = 4) -> None:
        self.levels = _positive_int(self.name, "levels", levels)

    def _decompose(self, x: torch.Tensor, levels: int) -> list[torch.Tensor]:
        pyramid = []
        for _ in range(levels):
            down = pyr_down(x)
            pyramid.append(x - pyr_up(down, tuple(x.shape[-2:])))
            x = down
        pyramid.append(x)
        return pyramid

    def _fuse(self, a, b, card: DataCard) -> torch.Tensor:
        levels = max(1, min(self.levels, int(math.log2(max(2, min(a.shape[-2:])))) - 2))
        pa, pb = self._decompose(a, levels), self._decompose(b, levels)
        out = 0.5 * (pa[-1] + pb[-1])
        for la, lb in zip(reversed(pa[:-1]), reversed(pb[:-1])):
            out = select_max_abs(la, lb) + pyr_up(out, tuple(la.shape[-2:]))
        return out


__all__ = ["DWT", "Average", "LaplacianPyramid", "MaxAbs", "pyr_down", "pyr_up", "select_max_abs"]
