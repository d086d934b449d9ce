"""The low-pass operators of the toolbox baselines, built on :mod:`fusionbench.imaging`.

Nothing here re-implements an MTF filter or the 23-tap interpolator: the sensor-matched kernels,
the FFT correlation with replicate borders, the Wald decimation phase and ``interp23tap`` all come
from the shared imaging package, so the baselines degrade PAN exactly as the data was simulated.
What this module adds is how the baselines *combine* them (spec §E.1):

- :func:`lp_gauss`: the toolbox's ``LPfilterGauss`` (GNyq 0.3, alpha computed with N, not N-1);
- :func:`glp_lowpass`: the MTF-GLP low-pass PAN ``interp23tap(decimate(MTF_b * PAN))`` per band;
- :func:`atrous_lowpass`: the approximation part of the undecimated B3-spline wavelet transform
  (``ndwt2_working`` + ``indwt2_working`` with the details zeroed) used by GSA and AWLP.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Sequence

import numpy as np
import torch

from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.matlab import correlate, fspecial_gaussian, imresize_bicubic, nearest_decimate
from fusionbench.imaging.mtf import filter_fft, fir_by_frequency_sampling, kaiser_window_2d, mtf_filter
from fusionbench.sensors import DEFAULT_PAN_GNYQ, get_sensor
from fusionbench.specs import DataCard

from ._base import InputError

LP_GAUSS_GNYQ = 0.3
"""``LPfilterGauss``'s fixed Nyquist gain, whatever the sensor."""

KERNEL_SIZE = 41
"""The toolbox's FIR size for every Gaussian/MTF low-pass."""

B3_SPLINE = (1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16)
"""The starlet (B3-spline) scaling filter of the toolbox's à-trous transforms."""


# -- sensor constants ------------------------------------------------------------------------------
def ms_gnyq(card: DataCard, bands: int) -> tuple[float, ...]:
    """Per-band MTF gains: the card's ``mtf_gnyq``, else the toolbox lookup of ``card.sensor``.

    The lookup is case-sensitive like the toolbox (unknown names fall back to 0.3 for every band).
    """
    if card.mtf_gnyq is not None:
        gains = tuple(float(g) for g in card.mtf_gnyq)
        if len(gains) != bands:
            raise InputError(f"data card gives {len(gains)} MTF gains (mtf_gnyq) for an image with {bands} bands")
        return gains
    return tuple(get_sensor(card.sensor, bands).ms_gnyq)


def pan_gnyq(card: DataCard, bands: int, missing: str = "default") -> float:
    """PAN MTF gain at Nyquist: the card's ``pan_gnyq``, else the sensor table's.

    The toolbox's ``MTF_PAN`` has no GF2 entry and errors; ``missing="default"`` uses the generic
    0.15 instead (documented deviation), ``missing="error"`` reproduces the toolbox failure.
    """
    if card.pan_gnyq is not None:
        return float(card.pan_gnyq)
    value = get_sensor(card.sensor, bands).pan_gnyq
    if value is not None:
        return float(value)
    if missing == "error":
        raise InputError(
            f"sensor {card.sensor!r} has no PAN MTF gain (the toolbox's MTF_PAN has no entry for it); "
            "pass missing_pan_gnyq=default to use the generic 0.15"
        )
    warnings.warn(f"sensor {card.sensor!r} has no PAN GNyq: using the generic {DEFAULT_PAN_GNYQ}", stacklevel=2)
    return DEFAULT_PAN_GNYQ


# -- LPfilterGauss ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def lp_gauss_kernel(ratio: int, size: int = KERNEL_SIZE) -> np.ndarray:
    """``LPfilterGauss``'s FIR: the §A.4 construction with GNyq 0.3 but ``alpha`` computed with N.

    The MTF kernels use ``(N-1) fcut / 2``; ``LPfilterGauss`` uses ``N fcut / 2``, a slightly wider
    passband. Built from the shared ``fwind1`` pieces so only the width differs.
    """
    fcut = 1.0 / ratio
    alpha = math.sqrt((size * fcut / 2.0) ** 2 / (-2.0 * math.log(LP_GAUSS_GNYQ)))
    hd = fspecial_gaussian(size, alpha)
    kernel = fir_by_frequency_sampling(hd / hd.max(), kaiser_window_2d(size, 0.5))
    kernel.setflags(write=False)
    return kernel


def lp_gauss(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """``imfilter(img, LPfilterGauss kernel, 'replicate')`` on every channel of ``(B, C, H, W)``."""
    k = torch.from_numpy(np.array(lp_gauss_kernel(int(ratio)))).to(img)
    return filter_fft(img, k.expand(img.shape[1], *k.shape))


# -- MTF-GLP low-pass ------------------------------------------------------------------------------
def check_dyadic(method: str, ratio: int) -> None:
    """``interp23tap`` only exists for power-of-two ratios; say so before it fails deep inside."""
    if ratio < 2 or ratio & (ratio - 1):
        raise InputError(f"{method}: needs a power-of-two ratio (the 23-tap interpolator), got {ratio}")


def glp_lowpass(x: torch.Tensor, gnyq: Sequence[float], ratio: int) -> torch.Tensor:
    """``interp23tap(decimate(imfilter(x_b, MTF_b, 'replicate')))`` for every band b of ``x``.

    ``x`` is ``(B, C, H, W)`` with one GNyq per channel (pass the PAN expanded to C channels to get
    the per-band low-pass PAN of MTF-GLP). The decimation keeps 0-based rows ``ratio//2 :: ratio``,
    the phase of the Wald simulation, so the result is aligned with ``lms``.
    """
    return interp23tap(nearest_decimate(mtf_filter(x, list(gnyq), ratio), ratio), ratio)


# -- à trous (undecimated B3-spline wavelet) low-pass -----------------------------------------------
def _atrous_kernel(level: int, like: torch.Tensor) -> torch.Tensor:
    """B3 spline dilated by ``2**level`` (holes filled with zeros), as a 1-D tensor."""
    step = 2**level
    k = like.new_zeros(4 * step + 1)
    k[::step] = torch.tensor(B3_SPLINE, dtype=like.dtype, device=like.device)
    return k


def _separable(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    x = correlate(x, k[None, :], "symmetric", "same")
    return correlate(x, k[:, None], "symmetric", "same")


def atrous_lowpass(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """Approximation band of the toolbox's undecimated wavelet pair with all details zeroed.

    The toolbox (``ndwt2_working``/``indwt2_working``, filters ``sqrt(2)[1 4 6 4 1]/16``,
    synthesis low-pass equal to the analysis one, ``ceil(log2 ratio)`` levels) keeps only the
    approximation: analysis low-pass at levels 1..L, then synthesis low-pass at levels L..1, each
    separable and dilated by 2^(level-1); the sqrt(2) gains cancel against the inverse's 1/2 per
    axis. Borders use half-sample symmetric extension (MATLAB ``dwtmode('sym')``, the default).
    [Spec §E.1 marks this border handling unverified: the interior is exact, the outermost
    ``2 (4 * 2^(L-1))`` pixels may differ from MATLAB.]
    """
    levels = max(1, math.ceil(math.log2(ratio)))
    out = img
    for level in range(levels):
        out = _separable(out, _atrous_kernel(level, img))
    for level in reversed(range(levels)):
        out = _separable(out, _atrous_kernel(level, img))
    return out


def lowpass_decimate(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """``LPfilterPlusDec``: à-trous low-pass, then MATLAB nearest decimation (phase ``ratio//2``)."""
    return nearest_decimate(atrous_lowpass(img, ratio), ratio)


def down_up_bicubic(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """``imresize(imresize(img, 1/ratio), ratio)`` (MATLAB bicubic, antialiased shrink)."""
    return imresize_bicubic(imresize_bicubic(img, 1.0 / ratio), float(ratio))


__all__ = [
    "B3_SPLINE",
    "KERNEL_SIZE",
    "LP_GAUSS_GNYQ",
    "atrous_lowpass",
    "check_dyadic",
    "down_up_bicubic",
    "glp_lowpass",
    "lowpass_decimate",
    "lp_gauss",
    "lp_gauss_kernel",
    "ms_gnyq",
    "pan_gnyq",
]
