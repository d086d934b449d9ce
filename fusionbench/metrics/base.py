"""Base classes: the ``metric(pred, ref, inputs, card) -> (B,)`` protocol with checks done once.

A concrete metric only writes ``_score`` on validated float64 tensors; the base classes own input
validation, the border cut and the parameter checks, so every metric words errors the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from fusionbench.imaging.matlab import crop_border
from fusionbench.specs import DataCard

from . import _validate as V
from ._stats import chunked


def int_param(metric: str, name: str, value: Any, minimum: int) -> int:
    """An integer parameter (ints, integral floats and digit strings accepted), ``>= minimum``."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{metric}: {name} must be an integer >= {minimum}, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{metric}: {name} must be an integer >= {minimum}, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{metric}: {name} must be an integer >= {minimum}, got {value!r}")
    return number


def positive_param(metric: str, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{metric}: {name} must be a number, got {value!r}") from None
    if not number > 0:
        raise ValueError(f"{metric}: {name} must be positive, got {value!r}")
    return number


def card_or_positive(metric: str, name: str, value: Any) -> str | float:
    """A parameter that is either ``"card"`` (resolved from the data card per call) or a number."""
    if isinstance(value, str) and value.strip().lower() == "card":
        return "card"
    return positive_param(metric, name, value)


def choice_param(metric: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{metric}: {name} must be one of {list(choices)}, got {value!r}")
    return str(value)


class Metric:
    """Common call protocol; subclasses implement :meth:`__call__` pieces."""

    name: ClassVar[str] = "metric"

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ReferenceMetric(Metric):
    """Full-reference metrics (pansharpening reduced resolution, MHIF).

    Checks ``pred`` and ``ref`` (finite, same shape, the card's band count), applies the toolbox
    border cut ``dim_cut`` to both, then calls :meth:`_score` on chunks of the batch (or on the whole
    batch where the metric keeps its own working set small: ``chunks_batch = False``).
    """

    chunks_batch: ClassVar[bool] = True

    def __init__(self, dim_cut: int = 0) -> None:
        self.dim_cut = int_param(self.name, "dim_cut", dim_cut, 0)

    def __call__(
        self,
        pred: torch.Tensor,
        ref: torch.Tensor | None,
        inputs: Mapping[str, torch.Tensor] | None,
        card: DataCard,
    ) -> torch.Tensor:
        pred = V.image(self.name, "pred", pred)
        ref = V.reference(self.name, ref)
        V.same_shape(self.name, "pred", pred, "ref", ref)
        V.bands(self.name, "pred", pred, card)
        if self.dim_cut:
            h, w = pred.shape[-2:]
            if h - 2 * self.dim_cut + 1 < 1 or w - 2 * self.dim_cut + 1 < 1:
                V.fail(self.name, f"dim_cut={self.dim_cut} leaves no pixels of a {h}x{w} pred")
            pred, ref = crop_border(pred, self.dim_cut), crop_border(ref, self.dim_cut)
        if not self.chunks_batch:
            return self._score(pred, ref, card)
        return chunked(lambda p, r: self._score(p, r, card), pred, ref)

    def _score(self, pred: torch.Tensor, ref: torch.Tensor, card: DataCard) -> torch.Tensor:
        raise NotImplementedError
