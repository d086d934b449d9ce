"""The four VIFB metrics the CDDFuse evaluator does not have: CE, EI, Q_CB and Q_CV.

Definitions follow the VIFB MATLAB benchmark (Zhang, Ye & Xiao, CVPRW 2020), files
``metrics/metricsCross_entropy.m``, ``metricsEdge_intensity.m``, ``metricsQcb.m`` and
``metricsQcv.m``; VIFB calls each as ``metricsX(VI, IR, F)`` on the 8-bit images it read. Like the
rest of the ``vifb`` profile a colour fused image is scored per channel (VI channel k, IR channel
k or the grey IR, fused channel k) and the channel scores are averaged. All four are symmetric in
the two sources.

- **CE** (Bulanon et al. 2009): ``(CE(VI, F) + CE(IR, F)) / 2`` with ``CE(X, F) = sum_k p_X(k)
  log2(p_X(k) / p_F(k))`` over the 256 grey levels where *both* probabilities are non-zero: the
  source histogram comes first (a Kullback-Leibler divergence from F to X), and levels F lacks
  are skipped rather than making CE infinite. Lower is better, 0 for identical histograms.
- **EI**: the mean over pixels (and channels) of the Sobel gradient magnitude, both kernels
  correlated with *replicated* borders (``imfilter(F, fspecial('sobel'), 'replicate')`` and its
  transpose). Only the fused image is read.
- **Q_CB** (Chen & Blum 2009, Z. Liu's ``metricChenBlum.m``): each image min-max normalised to
  integers 0..255 (``normalize1``), filtered in the frequency domain by the contrast-sensitivity
  DoG ``exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2)`` with ``r`` in units of 1/30 of the image
  size, then local contrast ``|G2 * I / G4 * I - 1|`` with *unnormalised* 31x31 Gaussians (sigma
  2 and 4, ``filter2 'same'``, zero borders), masked contrast ``C^3 / (C^2 + 1e-4)``, and the
  preservation ratios weighted by the sources' squared masked contrast. Higher is better.
- **Q_CV** (Chen & Varshney 2007, Z. Liu's ``metricChen.m``): Sobel magnitudes (``filter2
  'same'``, zero borders) of the normalised images give each 16x16 region the saliency ``sum g^5``;
  the differences ``X - F`` are filtered by the Mannos-Sakrison CSF (``r`` in units of 1/8 of the
  image size) and the regional mean squares are averaged with those saliencies. ``blkproc`` pads
  partial regions with zeros, so an edge region's mean square still divides by 256. Lower is
  better, 0 for ``F == A == B``.

MATLAB semantics kept on purpose: ``normalize1`` maps a constant non-zero channel to ``0/0``, so
Q_CB and Q_CV are NaN there (VIFB averages with ``nanmean``); Q_CB's ``mask`` arithmetic turns a
zero or infinite contrast into NaN (``Inf * 0``). The CDDFuse evaluator defines none of the four,
so they refuse ``profile="cddfuse"`` rather than invent a grey variant.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar

import torch

from fusionbench.imaging.matlab import correlate, fspecial_sobel, round_half_away

from .ivf import ImageMetric, SourceMetric, _sobel, grey_histogram

VIFB_ONLY = ("vifb",)
CDDFUSE_LACKS = "the CDDFuse evaluator does not compute it; only VIFB's MATLAB benchmark defines it"

# Chen-Blum constants (metricChenBlum.m)
CB_F0, CB_F1, CB_A = 15.3870, 1.3456, 0.7622
CB_SCALE = 30.0  # DoG1: frequencies scaled by size/30
CB_Z = 1e-4  # masked contrast C^p / (h C^q + Z) with k = h = 1, p = 3, q = 2
CB_SIGMAS = (2.0, 4.0)
CB_HALF = 15  # gaussian2d samples meshgrid(-15:15)

# Chen-Varshney constants (metricChen.m)
CV_SCALE = 8.0  # "length 3": frequencies scaled by size/8
CV_WINDOW = 16
CV_ALPHA = 5.0


# -- CE --------------------------------------------------------------------------------------------
def cross_entropy(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(CE(A,F) + CE(B,F)) / 2`` per channel, ``(B,C,H,W)`` -> ``(B,C)``; grey levels by floor
    (VIFB indexes its histogram with the 8-bit values themselves)."""
    p_f = grey_histogram(f, torch.floor)

    def ce(src: torch.Tensor) -> torch.Tensor:
        p_s = grey_histogram(src, torch.floor)
        both = (p_s > 0) & (p_f > 0)
        ratio = torch.where(both, p_s / torch.where(both, p_f, 1.0), 1.0)
        return torch.where(both, p_s * torch.log2(ratio), 0.0).sum(-1)

    return (ce(a) + ce(b)) / 2.0


# -- EI --------------------------------------------------------------------------------------------
def edge_intensity(f: torch.Tensor) -> torch.Tensor:
    """Mean Sobel magnitude per channel, replicated borders (``imfilter(..., 'replicate')``)."""
    sobel = torch.from_numpy(fspecial_sobel()).to(f)
    gx = correlate(f, sobel, "replicate", "same")
    gy = correlate(f, sobel.T, "replicate", "same")
    return torch.sqrt(gx * gx + gy * gy).mean((-2, -1))


# -- shared by Q_CB and Q_CV ---------------------------------------------------------------------
def normalize1(x: torch.Tensor) -> torch.Tensor:
    """Z. Liu's ``normalize1`` per image and channel: ``round((x - min) / (max - min) * 255)``
    (MATLAB ``round``), an all-zero channel unchanged, a constant non-zero one NaN (0/0)."""
    lo = x.amin((-2, -1), keepdim=True)
    hi = x.amax((-2, -1), keepdim=True)
    scaled = round_half_away((x - lo) / (hi - lo) * 255.0)
    return torch.where((hi == 0) & (lo == 0), x, scaled)


def _radius(h: int, w: int, scale: float, like: torch.Tensor) -> torch.Tensor:
    """``r`` of ``[u, v] = freqspace([h w], 'meshgrid'); u = w/scale*u; v = h/scale*v`` in the
    *unshifted* FFT order (MATLAB multiplies ``fftshift(fft2(x))`` by the filter and shifts back;
    ``ifftshift`` of the filter is the same product), columns cut to ``rfft2``'s half."""

    def axis(n: int) -> torch.Tensor:
        f = (torch.arange(n, dtype=torch.float64) - n // 2) * (2.0 / n)
        return torch.fft.ifftshift(f * (n / scale))

    v, u = axis(h)[:, None], axis(w)[None, : w // 2 + 1]
    return torch.sqrt(u * u + v * v).to(device=like.device, dtype=like.dtype)


def csf_filter(x: torch.Tensor, response: torch.Tensor) -> torch.Tensor:
    """``real(ifft2(ifftshift(fftshift(fft2(x)) .* S)))`` for a real, even response ``S`` given
    on the ``rfft2`` half-plane (the product stays Hermitian, so the result is real)."""
    h, w = x.shape[-2:]
    return torch.fft.irfft2(torch.fft.rfft2(x) * response, s=(h, w))


# -- Q_CB ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _gaussian_taps(sigma: float) -> torch.Tensor:
    """1-D factor of ``gaussian2d``: ``exp(-(x^2+y^2)/(2 s^2)) / (2 pi s^2)`` on -15..15, *not*
    normalised to sum 1 (``outer(t, t)`` is the 2-D kernel)."""
    x = torch.arange(-CB_HALF, CB_HALF + 1, dtype=torch.float64)
    return torch.exp(-x * x / (2 * sigma * sigma)) / math.sqrt(2 * math.pi * sigma * sigma)


def _masked_contrast(x: torch.Tensor) -> torch.Tensor:
    """``C^3 / (C^2 + Z)`` of ``C = |G_2 * x / G_4 * x - 1|`` (``filter2 'same'``, zero borders)."""
    g2, g4 = (_gaussian_taps(s).to(x) for s in CB_SIGMAS)
    c = (correlate(x, torch.outer(g2, g2)) / correlate(x, torch.outer(g4, g4)) - 1.0).abs()
    return c**3 / (c * c + CB_Z)


def _preservation(c_x: torch.Tensor, c_f: torch.Tensor) -> torch.Tensor:
    """MATLAB's ``(Cx./Cf).*mask + (Cf./Cx).*(1-mask)`` with ``mask = Cx < Cf``, kept as written:
    the unused branch still enters (``Inf * 0`` is NaN where either contrast is 0)."""
    mask = (c_x < c_f).to(c_x.dtype)
    return (c_x / c_f) * mask + (c_f / c_x) * (1.0 - mask)


def q_cb(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Chen-Blum quality per channel, ``(B,C,H,W)`` -> ``(B,C)``."""
    h, w = f.shape[-2:]
    r = _radius(h, w, CB_SCALE, f)
    dog = torch.exp(-((r / CB_F0) ** 2)) - CB_A * torch.exp(-((r / CB_F1) ** 2))
    c_a, c_b, c_f = (_masked_contrast(csf_filter(normalize1(x), dog)) for x in (a, b, f))
    w_a, w_b = c_a * c_a, c_b * c_b
    quality = (w_a * _preservation(c_a, c_f) + w_b * _preservation(c_b, c_f)) / (w_a + w_b)
    return quality.mean((-2, -1))


# -- Q_CV ------------------------------------------------------------------------------------------
def _sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``filter2`` with ``[-1 0 1; -2 0 2; -1 0 1]`` and ``[-1 -2 -1; 0 0 0; 1 2 1]``, 'same' with
    zero borders: Qabf's Sobel pair (its y kernel is negated, which leaves magnitudes alone)."""
    gx, gy = _sobel(x, "zero")
    return torch.sqrt(gx * gx + gy * gy)


def _region_sums(x: torch.Tensor, size: int) -> torch.Tensor:
    """Sums over distinct ``size``x``size`` regions after ``blkproc``'s zero padding to whole
    regions: ``(B,C,ceil(H/size),ceil(W/size))``."""
    h, w = x.shape[-2:]
    x = torch.nn.functional.pad(x, (0, -w % size, 0, -h % size))
    b, c, hp, wp = x.shape
    return x.reshape(b, c, hp // size, size, wp // size, size).sum((3, 5))


def q_cv(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Chen-Varshney distortion per channel, ``(B,C,H,W)`` -> ``(B,C)``."""
    h, w = f.shape[-2:]
    r = _radius(h, w, CV_SCALE, f)
    mannos_sakrison = 2.6 * (0.0192 + 0.144 * r) * torch.exp(-((0.144 * r) ** 1.1))
    nf = normalize1(f)
    num = torch.zeros(f.shape[:2], dtype=f.dtype, device=f.device)
    den = torch.zeros_like(num)
    for src in (a, b):
        ns = normalize1(src)
        saliency = _region_sums(_sobel_magnitude(ns) ** CV_ALPHA, CV_WINDOW)
        diff = csf_filter(ns - nf, mannos_sakrison)
        distortion = _region_sums(diff * diff, CV_WINDOW) / (CV_WINDOW * CV_WINDOW)
        num = num + (saliency * distortion).sum((-2, -1))
        den = den + saliency.sum((-2, -1))
    return num / den


# -- metric plugins ------------------------------------------------------------------------------
class _VifbOnly:
    """Mixin: the metric exists only under ``profile="vifb"``."""

    profiles: ClassVar[tuple[str, ...]] = VIFB_ONLY
    missing_profile_reason: ClassVar[str] = CDDFUSE_LACKS


class CE(_VifbOnly, SourceMetric):
    """VIFB ``metricsCross_entropy``; lower is better (0 when every histogram equals F's)."""

    name = "ce"

    def __init__(self, profile: str = "vifb", quantize: str = "round") -> None:
        super().__init__(profile, quantize)

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return cross_entropy(f, a, b)


class EI(_VifbOnly, ImageMetric):
    """VIFB ``metricsEdge_intensity``; higher is better, no ideal value."""

    name = "ei"

    def __init__(self, profile: str = "vifb", quantize: str = "round") -> None:
        super().__init__(profile, quantize)

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        return edge_intensity(f)


class QCB(_VifbOnly, SourceMetric):
    """VIFB ``metricsQcb`` (Chen-Blum); higher is better, 1 for ``F == A == B``."""

    name = "qcb"

    def __init__(self, profile: str = "vifb", quantize: str = "round") -> None:
        super().__init__(profile, quantize)

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return q_cb(f, a, b)


class QCV(_VifbOnly, SourceMetric):
    """VIFB ``metricsQcv`` (Chen-Varshney); lower is better, 0 for ``F == A == B``."""

    name = "qcv"

    def __init__(self, profile: str = "vifb", quantize: str = "round") -> None:
        super().__init__(profile, quantize)

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return q_cv(f, a, b)


__all__ = ["CE", "EI", "QCB", "QCV", "cross_entropy", "edge_intensity", "normalize1", "q_cb", "q_cv"]
