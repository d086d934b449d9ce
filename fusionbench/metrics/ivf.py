"""No-reference fusion metrics for infrared-visible (IVF) and medical (MIF) fusion.

The field computes "the same" metric in incompatible ways, so every metric takes a ``profile``:

- ``cddfuse``: the Python ``Evaluator`` CDDFuse/DDFM-era papers use (CDDFuse's ``utils/Evaluator.py``), grey images only.
- ``vifb``: the VIFB MATLAB benchmark (Zhang et al., VIFB, CVPR workshops 2020; values verified against its MATLAB output).
  Colour fused images are scored per channel and averaged (grey sources replicated), except SF,
  which VIFB computes on the channels laid side by side. Metrics VIFB does not have (SCD, VIF, CC,
  Nabf) use the CDDFuse/reference formula per channel under this profile.

Sources are A and B: ``ir``/``vi`` for IVF, ``other``/``mri`` for MIF (every metric is symmetric
in A and B). Values are 0-255 grey levels. ``quantize`` reproduces that the reference evaluators
score *saved 8-bit images*: ``round`` rounds pred and sources half to even and clips to 0..255 (the
CDDFuse read path), ``trunc`` truncates pred instead (``astype(uint8)``-style saving) and rounds
the sources, ``none`` scores the values as given.

Nabf (Kumar's modified artefact measure, ``analysis_nabf.m``) filters a one-pixel border built
by Kumar's ``per_extn_im_fn``. Descriptions of the metric call it a "periodically extended" image after the
helper's name, but the helper's code *mirrors without repeating the edge* (row 0 := row 2, row
H+1 := row H-1, then the columns likewise); :func:`kumar_extension` reproduces that code. Metric
version 1 used a circular wrap instead, which changes Nabf by up to ~27 % on real TNO and
RoadScene pairs (the wrap puts large false gradients on the border).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import torch

from fusionbench.imaging.matlab import correlate, fspecial_gaussian, gradient, int16
from fusionbench.specs import DataCard

from . import _validate as V
from ._stats import chunked, pearson
from .base import Metric, choice_param, positive_param
from .ssim import ssim_gaussian, ssim_uniform

PROFILES = ("cddfuse", "vifb")
QUANTIZE = ("round", "trunc", "none")
SOURCE_FIELDS = (("ir", "vi"), ("other", "mri"))
SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
SOBEL_Y = ((1.0, 2.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -2.0, -1.0))


# -- histogram helpers ---------------------------------------------------------------------------
def _flat_labels(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per-image integer labels ``(N, HW)`` and their count: grey levels when the values are
    integers in 0..255, otherwise the rank among the image's distinct values (what scikit-learn's
    contingency table does)."""
    flat = x.reshape(x.shape[0], -1)
    if bool(((flat == torch.round(flat)) & (flat >= 0) & (flat <= 255)).all()):
        return flat.long(), 256
    labels = torch.empty_like(flat, dtype=torch.long)
    for i in range(flat.shape[0]):
        labels[i] = torch.unique(flat[i], return_inverse=True)[1]
    return labels, int(labels.max()) + 1


def _joint_hist(a: torch.Tensor, na: int, b: torch.Tensor, nb: int) -> torch.Tensor:
    """Joint counts ``(N, na, nb)`` of two label images ``(N, HW)``, batched via one bincount."""
    n = a.shape[0]
    offset = torch.arange(n, device=a.device)[:, None] * (na * nb)
    counts = torch.bincount((offset + a * nb + b).reshape(-1), minlength=n * na * nb)
    return counts.reshape(n, na, nb).to(torch.float64)


def _entropy(
    p: torch.Tensor, dims: tuple[int, ...], log: Callable[[torch.Tensor], torch.Tensor] = torch.log
) -> torch.Tensor:
    return -torch.where(p > 0, p * log(torch.where(p > 0, p, 1.0)), 0.0).sum(dims)


def _mutual_information(joint: torch.Tensor) -> torch.Tensor:
    """MI in nats from joint counts ``(N, na, nb)``: ``H(A) + H(B) - H(A,B)``."""
    p = joint / joint.sum((-2, -1), keepdim=True)
    return _entropy(p.sum(-1), (-1,)) + _entropy(p.sum(-2), (-1,)) - _entropy(p, (-2, -1))


# -- per-channel functional metrics: (B,C,H,W) -> (B,C) ------------------------------------------
def grey_histogram(f: torch.Tensor, level: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Per image and channel probabilities of the 256 grey levels ``level(f)`` clipped to 0..255,
    ``(B,C,H,W)`` -> ``(B,C,256)`` float64, all histograms from one batched bincount."""
    b, c = f.shape[:2]
    labels = level(f).clamp(0, 255).long().reshape(b * c, -1)
    offset = torch.arange(b * c, device=f.device)[:, None] * 256
    hist = torch.bincount((labels + offset).reshape(-1), minlength=b * c * 256).reshape(b, c, 256)
    return hist.to(torch.float64) / labels.shape[1]


def entropy(f: torch.Tensor, profile: str) -> torch.Tensor:
    """Shannon entropy (bits) of the 256-bin grey histogram (cddfuse rounds, vifb floors)."""
    p = grey_histogram(f, torch.round if profile == "cddfuse" else torch.floor)
    return _entropy(p, (-1,), torch.log2)


def std_dev(f: torch.Tensor) -> torch.Tensor:
    """Population standard deviation (both profiles; VIFB calls it "Variance")."""
    return f.std((-2, -1), correction=0)


def spatial_frequency(f: torch.Tensor, profile: str) -> torch.Tensor:
    """``sqrt(RF^2 + CF^2)``; cddfuse averages each over its own difference count, vifb divides
    both sums by H*W and lays colour channels side by side (returns ``(B,1)`` then)."""
    dx = (f[..., :, 1:] - f[..., :, :-1]) ** 2
    dy = (f[..., 1:, :] - f[..., :-1, :]) ** 2
    if profile == "cddfuse":
        return torch.sqrt(dx.mean((-2, -1)) + dy.mean((-2, -1)))
    h, w = f.shape[-2:]
    c = f.shape[1]
    seams = ((f[:, 1:, :, 0] - f[:, :-1, :, -1]) ** 2).sum((-2, -1))  # MATLAB [m, n] = size(RGB)
    total = dx.sum((1, 2, 3)) + dy.sum((1, 2, 3)) + seams
    return torch.sqrt(total / (h * w * c))[:, None]


def average_gradient(f: torch.Tensor, profile: str) -> torch.Tensor:
    """Mean of ``sqrt((gx^2 + gy^2)/2)`` with MATLAB/NumPy ``gradient``; vifb divides the sum by
    ``(H-1)(W-1)`` instead of ``H*W``."""
    gx, gy = gradient(f)
    s = torch.sqrt((gx * gx + gy * gy) / 2.0)
    h, w = f.shape[-2:]
    return s.mean((-2, -1)) if profile == "cddfuse" else s.sum((-2, -1)) / ((h - 1) * (w - 1))


def mutual_information(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor, profile: str) -> torch.Tensor:
    """``MI(F,A) + MI(F,B)`` in nats.

    cddfuse: scikit-learn ``mutual_info_score`` on the raw values (a contingency table over
    distinct values). vifb: each image of a pair min-max normalised, ``int16(x*255)``, 256x256
    joint histogram (a constant image maps to zeros, like VIFB's code).
    """
    bsz, c = f.shape[:2]
    flat = lambda t: t.reshape(bsz * c, -1)  # noqa: E731
    total = torch.zeros(bsz * c, dtype=torch.float64, device=f.device)
    for src in (a, b):
        if profile == "cddfuse":
            lf, nf = _flat_labels(flat(f))
            ls, ns = _flat_labels(flat(src))
        else:
            lf, ls, nf, ns = _minmax_levels(flat(f)), _minmax_levels(flat(src)), 256, 256
        total = total + _mutual_information(_joint_hist(lf, nf, ls, ns))
    return total.reshape(bsz, c)


def _minmax_levels(x: torch.Tensor) -> torch.Tensor:
    lo, hi = x.min(-1, keepdim=True).values, x.max(-1, keepdim=True).values
    span = hi - lo
    norm = torch.where(span != 0, (x - lo) / torch.where(span != 0, span, 1.0), 0.0)
    return int16(norm * 255.0).long()


def scd(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Sum of the correlations of differences: ``r(A, F-B) + r(B, F-A)``."""
    return pearson(a, f - b) + pearson(b, f - a)


def correlation(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(r(A,F) + r(B,F)) / 2``."""
    return (pearson(a, f) + pearson(b, f)) / 2.0


def vif_pixel(ref: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """Pixel-domain multi-scale VIF (``vifp_mscale``): information of ``dist`` about ``ref``.

    ``sigma_n^2 = 2``, eps 1e-10, four scales with Gaussian windows 17/9/5/3 (sigma N/5), 'valid'
    filtering and x2 decimation between scales; 0/0 gives 1.0 as in the CDDFuse evaluator.
    """
    sigma_nsq, eps = 2.0, 1e-10
    num = torch.zeros(ref.shape[:2], dtype=torch.float64, device=ref.device)
    den = torch.zeros_like(num)
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = torch.from_numpy(fspecial_gaussian(n, n / 5.0)).to(ref)
        filt = lambda t: correlate(t, win, "zero", "valid")  # noqa: E731
        if scale > 1:
            ref, dist = filt(ref)[..., ::2, ::2], filt(dist)[..., ::2, ::2]
        mu1, mu2 = filt(ref), filt(dist)
        s1 = (filt(ref * ref) - mu1 * mu1).clamp_min(0.0)
        s2 = (filt(dist * dist) - mu2 * mu2).clamp_min(0.0)
        s12 = filt(ref * dist) - mu1 * mu2
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        low1 = s1 < eps
        g = torch.where(low1, 0.0, g)
        sv = torch.where(low1, s2, sv)
        s1 = torch.where(low1, 0.0, s1)
        low2 = s2 < eps
        g = torch.where(low2, 0.0, g)
        sv = torch.where(low2, 0.0, sv)
        neg = g < 0
        sv = torch.where(neg, s2, sv)
        g = torch.where(neg, 0.0, g)
        sv = sv.clamp_min(eps)
        num = num + torch.log10(1.0 + g * g * s1 / (sv + sigma_nsq)).sum((-2, -1))
        den = den + torch.log10(1.0 + s1 / sigma_nsq).sum((-2, -1))
    vif = num / den
    return torch.where(torch.isnan(vif), 1.0, vif)


def vif_min_size() -> int:
    """Smallest side for which all four VIF scales keep at least one 'valid' sample."""
    side = 1
    while True:
        n = side
        ok = True
        for scale in range(1, 5):
            w = 2 ** (4 - scale + 1) + 1
            if scale > 1:
                n = (n - w + 1 + 1) // 2 if n >= w else 0
            if n < w:
                ok = False
                break
        if ok:
            return side
        side += 1


def kumar_extension(x: torch.Tensor) -> torch.Tensor:
    """Kumar's ``per_extn_im_fn(x, 3)`` (used by ``analysis_nabf.m``): a one-pixel border that
    *mirrors without repeating the edge*, despite the helper's "periodic" name.

    ``x`` goes into the centre of an ``(H+2, W+2)`` zero array; then row 0 := row 2 and row H+1 :=
    row H-1, then (after the rows, so the corners follow) column 0 := column 2 and column W+1 :=
    column W-1. For ``H, W >= 2`` this is ``F.pad(mode="reflect")`` / scipy ``mode="mirror"``; a
    1-pixel side keeps the zeros, as the MATLAB assignments do.
    """
    h, w = x.shape[-2:]
    out = x.new_zeros(*x.shape[:-2], h + 2, w + 2)
    out[..., 1 : h + 1, 1 : w + 1] = x
    out[..., 0, :] = out[..., 2, :]
    out[..., h + 1, :] = out[..., h - 1, :]
    out[..., :, 0] = out[..., :, 2]
    out[..., :, w + 1] = out[..., :, w - 1]
    return out


def _sobel(x: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Responses to the x kernel ``[-1 0 1; -2 0 2; -1 0 1]`` and the y kernel ``[1 2 1; 0 0 0;
    -1 -2 -1]`` (zero-padded 'same', or /8 on Kumar's mirror extension for Nabf).

    The reference code convolves rather than correlates, which negates *both* responses: magnitudes
    and ``sy/sx`` are unchanged. The relative sign of the two kernels does matter for Qabf, whose
    orientation is pi/2 where ``sx == 0`` whatever the sign of ``sy``.
    """
    kx = torch.tensor(SOBEL_X, dtype=x.dtype, device=x.device)
    ky = torch.tensor(SOBEL_Y, dtype=x.dtype, device=x.device)
    if mode == "zero":
        return correlate(x, kx, "zero", "same"), correlate(x, ky, "zero", "same")
    padded = kumar_extension(x)
    return correlate(padded, kx / 8, "zero", "valid"), correlate(padded, ky / 8, "zero", "valid")


def _qabf_edges(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    sx, sy = _sobel(x, "zero")
    g = torch.sqrt(sx * sx + sy * sy)
    alpha = torch.where(sx == 0, math.pi / 2, torch.atan(sy / torch.where(sx == 0, 1.0, sx)))
    return g, alpha


def _qabf_pair(g_x: torch.Tensor, a_x: torch.Tensor, g_f: torch.Tensor, a_f: torch.Tensor) -> torch.Tensor:
    ratio = torch.where(
        g_x > g_f,
        g_f / torch.where(g_x > g_f, g_x, 1.0),
        torch.where(g_x == g_f, g_f, g_x / torch.where(g_x < g_f, g_f, 1.0)),
    )
    orient = 1.0 - (a_x - a_f).abs() / (math.pi / 2)
    q_g = 0.9994 / (1.0 + torch.exp(-15.0 * (ratio - 0.5)))
    q_a = 0.9879 / (1.0 + torch.exp(-22.0 * (orient - 0.8)))
    return q_g * q_a


def qabf(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Xydeas-Petrovic edge preservation, weights ``g`` (L = 1); identical in both profiles,
    including the ``g_X == g_F -> G = g_F`` quirk."""
    (ga, aa), (gb, ab), (gf, af) = _qabf_edges(a), _qabf_edges(b), _qabf_edges(f)
    num = (_qabf_pair(ga, aa, gf, af) * ga + _qabf_pair(gb, ab, gf, af) * gb).sum((-2, -1))
    return num / (ga + gb).sum((-2, -1))


def _nabf_edges(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # g_v: the vertical-edge (x) kernel, g_h: the horizontal-edge one; A_XF is invariant to the
    # sign conventions because it folds |alpha_X - alpha_F| around pi/2.
    gv, gh = _sobel(x, "kumar")
    g = torch.sqrt(gh * gh + gv * gv)
    both_zero = (gh == 0) & (gv == 0)
    alpha = torch.where(both_zero, 0.0, torch.atan(gv / torch.where(both_zero, 1.0, gh)))
    return g, alpha


def _nabf_pair(g_x: torch.Tensor, a_x: torch.Tensor, g_f: torch.Tensor, a_f: torch.Tensor) -> torch.Tensor:
    zero = (g_x == 0) | (g_f == 0)
    lo, hi = torch.minimum(g_x, g_f), torch.maximum(g_x, g_f)
    ratio = torch.where(zero, 0.0, lo / torch.where(zero, 1.0, hi))
    orient = ((a_x - a_f).abs() - math.pi / 2).abs() * 2.0 / math.pi
    q_g = 0.9999 / (1.0 + torch.exp(-19.0 * (ratio - 0.5)))
    q_a = 0.9995 / (1.0 + torch.exp(-22.0 * (orient - 0.5)))
    return torch.sqrt(q_g * q_a)


def nabf(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Kumar's modified fusion-artefact measure: edge-information loss where the fused gradient
    exceeds both sources, weighted by ``g^1.5`` (``g >= 2``, else 0.001). Gradients are Sobel/8
    on :func:`kumar_extension` (a mirror border, not a circular one)."""
    (ga, aa), (gb, ab), (gf, af) = _nabf_edges(a), _nabf_edges(b), _nabf_edges(f)
    wa = torch.where(ga >= 2.0, ga**1.5, 0.001)
    wb = torch.where(gb >= 2.0, gb**1.5, 0.001)
    artefact = (gf > ga) & (gf > gb)
    loss = (1.0 - _nabf_pair(ga, aa, gf, af)) * wa + (1.0 - _nabf_pair(gb, ab, gf, af)) * wb
    return torch.where(artefact, loss, 0.0).sum((-2, -1)) / (wa + wb).sum((-2, -1))


def ssim_pair(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor, profile: str, data_range: float) -> torch.Tensor:
    """``SSIM(F,A) + SSIM(F,B)``: skimage defaults for cddfuse, Wang's Gaussian SSIM for vifb."""
    ssim = ssim_uniform if profile == "cddfuse" else ssim_gaussian
    return ssim(f, a, data_range) + ssim(f, b, data_range)


def psnr_fusion(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor, profile: str) -> torch.Tensor:
    """cddfuse: ``10 log10(max(F)^2 / mean(MSE(A,F), MSE(B,F)))`` (peak = the fused maximum).
    vifb: "mse" is ``||X - F||_2 / (H W)``, PSNR ``= 20 log10(255 / sqrt(mean of the two))``."""
    if profile == "cddfuse":
        mse = (((a - f) ** 2).mean((-2, -1)) + ((b - f) ** 2).mean((-2, -1))) / 2.0
        peak = f.amax((-2, -1))
        return 10.0 * torch.log10(peak * peak / mse)
    return 20.0 * torch.log10(255.0 / torch.sqrt(rmse_vifb(f, a, b)))


def rmse_vifb(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """VIFB's ``metricsRmse``: the mean over the two sources of its "mse" ``||X - F||_2 / (H W)``
    (an L2 norm divided by the pixel count, *not* a root-mean-square error; VIFB ``metricsRmse.m``). The same
    quantity is the denominator of VIFB's PSNR."""
    hw = f.shape[-2] * f.shape[-1]
    return (torch.sqrt(((a - f) ** 2).sum((-2, -1))) + torch.sqrt(((b - f) ** 2).sum((-2, -1)))) / (2.0 * hw)


# -- metric plugins ------------------------------------------------------------------------------
class FusionMetric(Metric):
    """Validates ``pred`` (and, in subclasses, the two sources), applies the profile's channel
    rules and the quantisation, then averages per-channel scores over channels."""

    min_side: ClassVar[int] = 1
    profiles: ClassVar[tuple[str, ...]] = PROFILES
    """The profiles that define this metric; a metric only one reference evaluator has refuses
    the others at construction instead of inventing a variant."""
    missing_profile_reason: ClassVar[str] = ""

    def __init__(self, profile: str = "cddfuse", quantize: str = "round") -> None:
        self.profile = choice_param(self.name, "profile", profile, PROFILES)
        if self.profile not in self.profiles:
            only = " or ".join(repr(p) for p in self.profiles)
            raise ValueError(
                f"{self.name}: profile {self.profile!r} does not define this metric "
                f"({self.missing_profile_reason}); use profile={only}"
            )
        self.quantize = choice_param(self.name, "quantize", quantize, QUANTIZE)

    def __call__(
        self,
        pred: torch.Tensor,
        ref: torch.Tensor | None,
        inputs: Mapping[str, torch.Tensor] | None,
        card: DataCard,
    ) -> torch.Tensor:
        pred = V.image(self.name, "pred", pred)
        allowed = (1,) if self.profile == "cddfuse" else (1, 3)
        V.channels(self.name, f"pred ({self.profile} profile)", pred, allowed)
        side = self._min_side()
        V.min_size(self.name, "pred", pred, side, side, "the metric's windows")
        if self.quantize != "none" and card is not None and card.max_value != 255:
            V.fail(
                self.name,
                f"quantize={self.quantize!r} needs 8-bit grey data, the data card says max_value {card.max_value}",
            )
        return self._score(_quantize(pred, self.quantize), inputs)

    def _min_side(self) -> int:
        return self.min_side

    def _score(self, pred: torch.Tensor, inputs: Mapping[str, torch.Tensor] | None) -> torch.Tensor:
        raise NotImplementedError


def _quantize(x: torch.Tensor, rule: str) -> torch.Tensor:
    if rule == "round":
        return torch.round(x).clamp(0.0, 255.0)  # half to even, like np.round
    if rule == "trunc":
        return torch.floor(x.clamp(0.0, 255.0))
    return x


class ImageMetric(FusionMetric):
    """A statistic of the fused image alone (EN, SD, SF, AG); the sources are not read."""

    def _score(self, pred: torch.Tensor, inputs: Mapping[str, torch.Tensor] | None) -> torch.Tensor:
        return chunked(lambda f: self._image(f).mean(1), pred)

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class SourceMetric(FusionMetric):
    """A comparison of the fused image with both sources."""

    def _score(self, pred: torch.Tensor, inputs: Mapping[str, torch.Tensor] | None) -> torch.Tensor:
        names = next((pair for pair in SOURCE_FIELDS if inputs and all(k in inputs for k in pair)), None)
        if names is None:
            have = ", ".join(sorted(inputs or {})) or "none"
            V.fail(self.name, f"needs inputs 'ir' and 'vi' (IVF) or 'other' and 'mri' (MIF); got {have}")
        sources = []
        for key in names:
            src = V.input_field(self.name, inputs, key)
            V.same_size(self.name, "pred", pred, f"input {key!r}", src)
            V.channels(self.name, f"input {key!r}", src, tuple(sorted({1, pred.shape[1]})))
            src = _quantize(src, "round" if self.quantize != "none" else "none")  # the evaluators' read
            sources.append(src.expand(-1, pred.shape[1], -1, -1))  # VIFB replicates grey sources
        return chunked(lambda f, a, b: self._pair(f, a, b).mean(1), pred, *sources)

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class EN(ImageMetric):
    name = "en"

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        return entropy(f, self.profile)


class SD(ImageMetric):
    name = "sd"

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        return std_dev(f)


class SF(ImageMetric):
    name = "sf"
    min_side = 2

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        return spatial_frequency(f, self.profile)


class AG(ImageMetric):
    name = "ag"
    min_side = 2

    def _image(self, f: torch.Tensor) -> torch.Tensor:
        return average_gradient(f, self.profile)


class MI(SourceMetric):
    name = "mi"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return mutual_information(f, a, b, self.profile)


class SCD(SourceMetric):
    name = "scd"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return scd(f, a, b)


class CC(SourceMetric):
    name = "cc"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return correlation(f, a, b)


class VIF(SourceMetric):
    name = "vif"
    min_side = vif_min_size()

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return vif_pixel(a, f) + vif_pixel(b, f)


class Qabf(SourceMetric):
    name = "qabf"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return qabf(f, a, b)


class Nabf(SourceMetric):
    name = "nabf"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return nabf(f, a, b)


class PSNRFusion(SourceMetric):
    name = "psnr-fusion"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return psnr_fusion(f, a, b, self.profile)


class RMSE(SourceMetric):
    """VIFB's "Rmse" (``metricsRmse.m``) under both profiles: the CDDFuse evaluator has none, so the
    ``cddfuse`` profile scores the same formula on the grey image (like SCD/VIF/CC/Nabf under
    ``vifb``). Lower is better, 0 for ``F == A == B``."""

    name = "rmse"

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return rmse_vifb(f, a, b)


class SSIMFusion(SourceMetric):
    name = "ssim-fusion"

    def __init__(self, profile: str = "cddfuse", quantize: str = "round", data_range: str | float = "profile") -> None:
        super().__init__(profile, quantize)
        self.data_range: str | float = "profile"
        if not (isinstance(data_range, str) and data_range.strip().lower() == "profile"):
            self.data_range = positive_param(self.name, "data_range", data_range)

    @property
    def effective_data_range(self) -> float:
        """cddfuse: 2 (scikit-image < 0.20 took the float dtype range -1..1); vifb: 255."""
        if self.data_range == "profile":
            return 2.0 if self.profile == "cddfuse" else 255.0
        return float(self.data_range)

    def _min_side(self) -> int:
        return 7 if self.profile == "cddfuse" else 11  # the SSIM window

    def _pair(self, f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ssim_pair(f, a, b, self.profile, self.effective_data_range)


__all__ = [
    "AG",
    "CC",
    "EN",
    "MI",
    "PROFILES",
    "PSNRFusion",
    "RMSE",
    "SCD",
    "SD",
    "SF",
    "SSIMFusion",
    "VIF",
    "FusionMetric",
    "ImageMetric",
    "grey_histogram",
    "Nabf",
    "Qabf",
    "SourceMetric",
]
