"""DDIF's condition tensor (the DDIF paper (Cao et al., Information Fusion 2024; arXiv 2304.04774) and its released code): [LMS, PAN, bilinear-upsampled Haar wavelets].

The wavelet part is a single-level 2-D Haar (``db1``) transform: the approximation LL of every
LMS band and the three detail sub-bands of the PAN (or the HR RGB for MHIF). It is computed here
in torch (no NumPy round trip, works on GPU) and checked against PyWavelets' ``wavedec2`` in the
tests. For a 2×2 block [[a, b], [c, d]] PyWavelets gives LL = (a+b+c+d)/2, H = (a+b-c-d)/2,
V = (a-b+c-d)/2, D = (a-b-c+d)/2.

Sub-band order differs between the two released dataset classes and is kept:
pansharpening [LL_M, H_P, D_P, V_P]; MHIF [LL_M, H_P, V_P, D_P].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WAVELET_ORDERS = {"pansharpening": ("H", "D", "V"), "mhif": ("H", "V", "D")}


def haar_dwt2(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Single-level orthonormal Haar DWT over the last two axes: (LL, H, V, D), each half size.

    Matches ``pywt.wavedec2(x, "db1", level=1, axes=(-2, -1))`` = ``[LL, (H, V, D)]`` for even sizes.
    """
    if x.shape[-1] % 2 or x.shape[-2] % 2:
        raise ValueError(f"Haar DWT needs even height and width, got {tuple(x.shape[-2:])}")
    a = x[..., 0::2, 0::2]
    b = x[..., 0::2, 1::2]
    c = x[..., 1::2, 0::2]
    d = x[..., 1::2, 1::2]
    return (a + b + c + d) / 2, (a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2


def wavelet_stack(lms: torch.Tensor, pan: torch.Tensor, task: str) -> torch.Tensor:
    """[LL(LMS) (C), detail sub-bands of PAN (3·Cp) in the task's order], at half resolution."""
    try:
        order = WAVELET_ORDERS[task]
    except KeyError:
        raise ValueError(f"DDIF has no wavelet layout for task {task!r}") from None
    ll_m = haar_dwt2(lms)[0]
    _, h, v, d = haar_dwt2(pan)
    bands = {"H": h, "V": v, "D": d}
    return torch.cat([ll_m, *(bands[name] for name in order)], dim=1)


def build_condition(lms: torch.Tensor, pan: torch.Tensor, task: str) -> torch.Tensor:
    """The network condition for normalised (÷ max value) LMS (B, C, H, W) and PAN (B, Cp, H, W):
    cat([LMS, PAN, bilinear(align_corners=False) upsampled wavelet stack]) with 2C + 4Cp channels."""
    if lms.shape[-2:] != pan.shape[-2:]:
        raise ValueError(f"LMS {tuple(lms.shape[-2:])} and PAN {tuple(pan.shape[-2:])} sizes differ")
    wavelets = wavelet_stack(lms, pan, task)
    wavelets = F.interpolate(wavelets, size=lms.shape[-2:], mode="bilinear", align_corners=False)
    return torch.cat([lms, pan, wavelets], dim=1)
