"""Full-resolution (no-reference) pansharpening metrics (toolbox D_lambda.m, D_s.m, QNR.m, D_lambda_K.m (Khan et al. 2009) and HQNR.m).

D_lambda and D_s compare UIQI values between band pairs / band-PAN pairs at the two scales,
averaging UIQI over distinct ``S``x``S`` blocks; D_lambda^K (Khan) is ``1 - Q2n`` between the
upsampled MS and the MTF-filtered fused image; HQNR (what Deng's group reports) combines
D_lambda^K with D_s. Inputs are DN: ``pred`` and ``lms`` ``(B,C,H,W)``, ``pan`` ``(B,1,H,W)``,
``H`` and ``W`` multiples of ``S``.

A block that is constant in both compared images makes UIQI 0/0; the toolbox then returns NaN for
the whole index and so do these functions (documented policy: follow MATLAB, never hide it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.matlab import imresize_bicubic
from fusionbench.imaging.mtf import mtf_filter
from fusionbench.sensors import get_sensor
from fusionbench.specs import DataCard

from . import _validate as V
from ._stats import chunked, tiles, uiqi_from_moments
from .base import Metric, int_param, positive_param
from .q2n import q2n


# -- functional ----------------------------------------------------------------------------------
def _pair_uiqi(x: torch.Tensor, block: int) -> torch.Tensor:
    """Mean block UIQI for every band pair i < j: ``(B, P)`` (band covariance matrices per block,
    one batched ``(C, S^2) @ (S^2, C)`` product over contiguous block rows)."""
    u = tiles(x, block)  # (B, n_blocks, C, S*S)
    mu = u.mean(-1, keepdim=True)
    du = u - mu
    cov = (du @ du.transpose(-1, -2)) / (block * block - 1)  # (B, n_blocks, C, C)
    var = torch.diagonal(cov, dim1=-2, dim2=-1)
    i, j = torch.triu_indices(x.shape[1], x.shape[1], offset=1)
    m = mu[..., 0]
    q = uiqi_from_moments(m[..., i], m[..., j], var[..., i], var[..., j], cov[..., i, j])
    return q.mean(1)


def _band_pan_uiqi(x: torch.Tensor, pan: torch.Tensor, block: int) -> torch.Tensor:
    """Mean block UIQI of every band of ``x`` with ``pan``: ``(B, C)``.

    The blocks are first copied out as contiguous rows (:func:`tiles`), so every moment is a
    reduction along the last axis and the band-PAN covariances one batched product
    (``(C, S^2) @ (S^2, 1)`` per block); the strided block reductions it replaces cost twice as
    much. Variances are two-pass (centred), so a constant block gives exactly 0 and the toolbox's
    0/0 -> NaN is kept.
    """
    u, p = tiles(x, block), tiles(pan, block)  # (B, n_blocks, C, S*S), (B, n_blocks, 1, S*S)
    n1 = block * block - 1
    mu, mp = u.mean(-1, keepdim=True), p.mean(-1, keepdim=True)
    du, dp = u - mu, p - mp
    var_u, var_p = torch.linalg.vecdot(du, du) / n1, torch.linalg.vecdot(dp, dp) / n1
    cov = (du @ dp.transpose(-1, -2))[..., 0] / n1
    q = uiqi_from_moments(mu[..., 0], mp[..., 0], var_u, var_p, cov)
    return q.mean(1)


def d_lambda(fused: torch.Tensor, lms: torch.Tensor, block: int = 32, p: float = 1.0) -> torch.Tensor:
    """QNR spectral distortion: ``(mean_{i<j} |Q(F_i,F_j) - Q(MS_i,MS_j)|^p)^(1/p)``."""
    q_f = chunked(lambda t: _pair_uiqi(t, block), fused)
    q_m = chunked(lambda t: _pair_uiqi(t, block), lms)
    return ((q_f - q_m).abs() ** p).mean(1) ** (1.0 / p)


def lowpass_pan(pan: torch.Tensor, ratio: int) -> torch.Tensor:
    """The toolbox's low-resolution PAN at PAN size: bicubic shrink (MATLAB ``imresize``), then
    23-tap upsampling."""
    return interp23tap(imresize_bicubic(pan, 1.0 / ratio), ratio)


def d_s(
    fused: torch.Tensor, lms: torch.Tensor, pan: torch.Tensor, ratio: int, block: int = 32, q: float = 1.0
) -> torch.Tensor:
    """QNR spatial distortion: ``(mean_b |Q(F_b, PAN) - Q(MS_b, PAN_lp)|^q)^(1/q)``."""
    pan_lp = lowpass_pan(pan, ratio)
    high = chunked(lambda f, p: _band_pan_uiqi(f, p, block), fused, pan)
    low = chunked(lambda m, p: _band_pan_uiqi(m, p, block), lms, pan_lp)
    return ((high - low).abs() ** q).mean(1) ** (1.0 / q)


def d_lambda_k(
    fused: torch.Tensor, lms: torch.Tensor, gnyq: Sequence[float], ratio: int, block: int = 32
) -> torch.Tensor:
    """Khan's spectral distortion: ``1 - Q2n(lms, MTF(fused))``, the filter kept at full size."""
    filtered = chunked(lambda f: mtf_filter(f, tuple(gnyq), ratio), fused)
    return 1.0 - q2n(lms, filtered, block, block)


# -- metric plugins ------------------------------------------------------------------------------
class FullResolutionMetric(Metric):
    """Checks ``pred`` against ``lms``/``pan`` and resolves the ratio; subclasses score."""

    needs_pan: bool = True

    def __init__(self, block: int = 32, ratio: str | int = "card") -> None:
        self.block = int_param(self.name, "block", block, 2)
        self.ratio = "card" if str(ratio).strip().lower() == "card" else int_param(self.name, "ratio", ratio, 2)

    def _ratio(self, card: DataCard) -> int:
        if self.ratio != "card":
            return int(self.ratio)
        if card.ratio is None:
            V.fail(self.name, "ratio='card' but the data card has no ratio; pass ratio=<int>")
        return int(card.ratio)

    def __call__(
        self,
        pred: torch.Tensor,
        ref: torch.Tensor | None,
        inputs: Mapping[str, torch.Tensor] | None,
        card: DataCard,
    ) -> torch.Tensor:
        pred = V.image(self.name, "pred", pred)
        V.bands(self.name, "pred", pred, card)
        lms = V.input_field(self.name, inputs, "lms")
        V.same_shape(self.name, "pred", pred, "input 'lms'", lms)
        V.multiple_of(self.name, "pred", pred, self.block)
        pan = None
        if self.needs_pan:
            pan = V.input_field(self.name, inputs, "pan")
            V.channels(self.name, "input 'pan'", pan, (1,))
            V.same_size(self.name, "pred", pred, "input 'pan'", pan)
        if pan is None:
            return chunked(lambda p, m: self._score(p, m, None, card), pred, lms)
        return chunked(lambda p, m, a: self._score(p, m, a, card), pred, lms, pan)

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        raise NotImplementedError


class DLambda(FullResolutionMetric):
    name = "d-lambda"
    needs_pan = False

    def __init__(self, block: int = 32, p: float = 1.0) -> None:
        super().__init__(block, "card")
        self.p = positive_param(self.name, "p", p)

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        if pred.shape[1] < 2:
            V.fail(self.name, "pred has 1 band; D_lambda compares band pairs")
        return d_lambda(pred, lms, self.block, self.p)


class DS(FullResolutionMetric):
    name = "d-s"

    def __init__(self, block: int = 32, ratio: str | int = "card", q: float = 1.0) -> None:
        super().__init__(block, ratio)
        self.q = positive_param(self.name, "q", q)

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        ratio = self._ratio(card)
        V.multiple_of(self.name, "pred", pred, ratio)
        return d_s(pred, lms, pan, ratio, self.block, self.q)


class QNR(DS):
    name = "qnr"

    def __init__(
        self,
        block: int = 32,
        ratio: str | int = "card",
        p: float = 1.0,
        q: float = 1.0,
        alpha: float = 1.0,
        beta: float = 1.0,
    ) -> None:
        super().__init__(block, ratio, q)
        self.p = positive_param(self.name, "p", p)
        self.alpha = positive_param(self.name, "alpha", alpha)
        self.beta = positive_param(self.name, "beta", beta)

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        if pred.shape[1] < 2:
            V.fail(self.name, "pred has 1 band; D_lambda compares band pairs")
        ds = super()._score(pred, lms, pan, card)
        dl = d_lambda(pred, lms, self.block, self.p)
        return (1.0 - dl) ** self.alpha * (1.0 - ds) ** self.beta


class KhanMetric(FullResolutionMetric):
    """Resolves the per-band MTF gains for D_lambda^K from a ``sensor`` parameter."""

    def __init__(self, block: int = 32, ratio: str | int = "card", sensor: str = "card") -> None:
        super().__init__(block, ratio)
        self.sensor = str(sensor)

    def _gnyq(self, card: DataCard, bands: int) -> tuple[float, ...]:
        if self.sensor == "card" and card.mtf_gnyq is not None:
            gnyq = tuple(card.mtf_gnyq)
        else:  # the toolbox's case-sensitive lookup, 0.3 fallback for unknown names
            name, origin = (card.sensor, "the data card's sensor") if self.sensor == "card" else (self.sensor, "sensor")
            try:
                gnyq = get_sensor(name, bands=bands).ms_gnyq
            except ValueError as exc:  # a known sensor with another band count
                V.fail(
                    self.name,
                    f"no MTF gains for a pred with {bands} bands: {origin} {name!r} does not fit ({exc}); "
                    "pass sensor=<toolbox name> or give the data card mtf_gnyq",
                )
        if len(gnyq) != bands:
            V.fail(self.name, f"{len(gnyq)} MTF gains for a pred with {bands} bands")
        return gnyq

    def _dlk(self, pred: torch.Tensor, lms: torch.Tensor, card: DataCard) -> torch.Tensor:
        if card.max_value <= 1.0:
            V.fail(self.name, f"the data card's max_value is {card.max_value}: Q2n needs DN data")
        return d_lambda_k(pred, lms, self._gnyq(card, pred.shape[1]), self._ratio(card), self.block)


class DLambdaK(KhanMetric):
    name = "d-lambda-k"
    needs_pan = False

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        return self._dlk(pred, lms, card)


class HQNR(KhanMetric):
    name = "hqnr"

    def __init__(self, block: int = 32, ratio: str | int = "card", sensor: str = "card", q: float = 1.0) -> None:
        super().__init__(block, ratio, sensor)
        self.q = positive_param(self.name, "q", q)

    def _score(self, pred: torch.Tensor, lms: torch.Tensor, pan: Any, card: DataCard) -> torch.Tensor:
        ratio = self._ratio(card)
        V.multiple_of(self.name, "pred", pred, ratio)
        return (1.0 - self._dlk(pred, lms, card)) * (1.0 - d_s(pred, lms, pan, ratio, self.block, self.q))


__all__ = ["DLambda", "DLambdaK", "DS", "HQNR", "QNR", "d_lambda", "d_lambda_k", "d_s", "lowpass_pan"]
