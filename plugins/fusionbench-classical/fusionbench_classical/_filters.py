"""The low-pass operators of the toolbox baselines, built on :mod:`fusionbench.imaging`.

Nothing here re-implements an MTF filter or the 23-tap interpolator: the sensor-matched kernels,
the FFT correlation with replicate borders, the Wald decimation phase and ``interp23tap`` all come
from the shared imaging package, so the baselines degrade PAN exactly as the data was simulated.
What this module adds is how the baselines of the MATLAB Pansharpening Toolbox (Vivone et al.,
IEEE GRSM 2021) *combine* them:

- :func:`lp_gauss`: the toolbox's ``LPfilterGauss`` (GNyq 0.3, alpha computed with N, not N-1);
- :func:`glp_lowpass`: the MTF-GLP low-pass PAN ``interp23tap(decimate(MTF_b * PAN))`` per band;
- :func:`atrous_lowpass`: the approximation part of the toolbox's undecimated B3-spline wavelet
  transform (``ndwt2_working`` + ``indwt2_working`` with the details zeroed) used by GSA and AWLP.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.matlab import correlate1d_valid, fspecial_gaussian, imresize_bicubic, nearest_decimate, pad2d
from fusionbench.imaging.mtf import filter_fft, fir_by_frequency_sampling, kaiser_window_2d, mtf_filter
from fusionbench.sensors import DEFAULT_PAN_GNYQ, get_sensor
from fusionbench.specs import DataCard

from ._base import InputError

LP_GAUSS_GNYQ = 0.3
"""``LPfilterGauss``'s fixed Nyquist gain, whatever the sensor."""

KERNEL_SIZE = 41
"""The toolbox's FIR size for every Gaussian/MTF low-pass."""

B3_SPLINE = (1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16)
"""The B3-spline scaling filter ``[1 4 6 4 1]/16`` of the toolbox's undecimated wavelet transforms."""


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
    """``LPfilterGauss``'s FIR: the toolbox MTF.m construction with GNyq 0.3 but ``alpha`` computed with N.

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


# -- the toolbox's undecimated B3-spline wavelet low-pass -----------------------------------------
def _b3_taps(like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(B3_SPLINE, dtype=like.dtype, device=like.device)


def atrous_lowpass(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """Approximation band of the toolbox's undecimated wavelet pair with all details zeroed.

    This is what ``LPfilterPlusDec.m`` (GSA) and ``AWLP.m`` compute with the Pansharpening
    Toolbox's ``ndwt2_working.m`` / ``indwt2_working.m`` (filters ``sqrt(2) [1 4 6 4 1]/16``,
    synthesis low-pass equal to the analysis one, ``ceil(log2 ratio)`` levels, extension mode
    ``'sym'``). Despite the "à trous" name, those files never dilate the filter: every level
    convolves with the *same* 5-tap filter while the arrays grow, so the result is much
    sharper than a true starlet approximation (in the interior, the B3 filter convolved with
    itself ``2 L`` times, 8 L + 1 taps). Per level and axis:

    - analysis (``wdec1D``): half-sample symmetric extension by 4 (MATLAB ``'symmetric'``), full
      convolution, keep ``n + 4`` samples, i.e. the filtered signal on ``-2 .. n + 1``; the
      next level extends *that* grown array symmetrically at its own edges;
    - synthesis (``recFUNC``): full convolution, then the central part of the finer level's
      size, i.e. a 'valid' correlation that shrinks ``n + 4`` back to ``n``.

    The ``sqrt(2)`` gains (2 per level in 2-D) cancel against ``recFUNC``'s division by 4, so
    the unit-sum B3 taps are used directly and constants pass unchanged.
    """
    levels = max(1, math.ceil(math.log2(ratio)))
    taps = _b3_taps(img)
    margin = taps.numel() - 1  # wdec1D extends by the filter length - 1 on each side
    out = img
    for _ in range(levels):
        out = pad2d(out, (margin,) * 4, "symmetric")
        out = correlate1d_valid(correlate1d_valid(out, taps, -1), taps, -2)
    for _ in range(levels):
        out = correlate1d_valid(correlate1d_valid(out, taps, -1), taps, -2)
    return out


def lowpass_decimate(img: torch.Tensor, ratio: int) -> torch.Tensor:
    """``LPfilterPlusDec``: the undecimated-wavelet low-pass, then MATLAB nearest decimation (phase ``ratio//2``)."""
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
