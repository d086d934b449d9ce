"""Input checks shared by every metric: one place that words the errors.

A metric that silently scores NaN, a transposed image or the wrong band count produces a number
that looks plausible in a table; these checks turn such inputs into a
:class:`~fusionbench.errors.MetricInputError` whose message names the metric and the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import torch

from fusionbench.errors import MetricInputError
from fusionbench.specs import DataCard


def fail(metric: str, message: str) -> NoReturn:
    raise MetricInputError(f"{metric}: {message}")


def image(metric: str, role: str, x: Any) -> torch.Tensor:
    """A finite, non-empty ``(B,C,H,W)`` real tensor, returned as float64 on its device."""
    if not isinstance(x, torch.Tensor):
        fail(metric, f"{role} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        fail(metric, f"{role} must have shape (B, C, H, W), got {tuple(x.shape)}")
    if x.is_complex() or x.dtype == torch.bool:
        fail(metric, f"{role} must be real-valued, got dtype {x.dtype}")
    if x.shape[1] == 0 or x.shape[2] == 0 or x.shape[3] == 0:
        fail(metric, f"{role} is empty (shape {tuple(x.shape)})")
    x = x.to(torch.float64)
    if x.numel() and bool(torch.isfinite(x.sum())):  # fast path: one reduction, no mask allocated
        return x
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        nan = int(torch.isnan(x).sum())
        inf = int((~finite).sum()) - nan
        b, c, h, w = (int(i) for i in torch.nonzero(~finite)[0])
        parts = [f"NaN at {nan} values" if nan else "", f"inf at {inf} values" if inf else ""]
        what = " and ".join(p for p in parts if p)
        fail(metric, f"{role} contains {what} (first at image {b}, band {c}, row {h}, col {w})")
    return x


def reference(metric: str, ref: Any) -> torch.Tensor:
    if ref is None:
        fail(metric, "ref is None, but this metric needs a reference image")
    return image(metric, "ref", ref)


def same_shape(metric: str, a_role: str, a: torch.Tensor, b_role: str, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        fail(metric, f"{a_role} {tuple(a.shape)} and {b_role} {tuple(b.shape)} have different shapes")


def same_size(metric: str, a_role: str, a: torch.Tensor, b_role: str, b: torch.Tensor) -> None:
    """Same batch and spatial size; channel counts may differ."""
    if a.shape[0] != b.shape[0] or a.shape[-2:] != b.shape[-2:]:
        fail(
            metric,
            f"{a_role} {tuple(a.shape)} and {b_role} {tuple(b.shape)} differ in batch or spatial size",
        )


def bands(metric: str, role: str, x: torch.Tensor, card: DataCard | None) -> None:
    """The band count must match the data card's when the card states one."""
    if card is not None and card.bands is not None and x.shape[1] != card.bands:
        fail(metric, f"{role} has {x.shape[1]} bands, the data card ({card.sensor}) says {card.bands}")


def channels(metric: str, role: str, x: torch.Tensor, allowed: tuple[int, ...]) -> None:
    if x.shape[1] not in allowed:
        want = " or ".join(str(a) for a in allowed)
        fail(metric, f"{role} has {x.shape[1]} channels, expected {want}")


def input_field(metric: str, inputs: Mapping[str, Any] | None, name: str) -> torch.Tensor:
    if not inputs or name not in inputs:
        have = ", ".join(sorted(inputs or {})) or "none"
        fail(metric, f"input {name!r} is missing (inputs given: {have})")
    return image(metric, f"input {name!r}", inputs[name])


def min_size(metric: str, role: str, x: torch.Tensor, rows: int, cols: int, why: str) -> None:
    if x.shape[-2] < rows or x.shape[-1] < cols:
        fail(metric, f"{role} is {x.shape[-2]}x{x.shape[-1]}, smaller than {rows}x{cols} ({why})")


def multiple_of(metric: str, role: str, x: torch.Tensor, block: int) -> None:
    h, w = x.shape[-2:]
    if h % block or w % block:
        fail(metric, f"{role} size {h}x{w} is not a multiple of the block size {block}")


def card_number(metric: str, param: str, value: Any, card_value: Any, card_field: str) -> float:
    """Resolve a parameter that may say ``"card"`` (take the data card's value) or a number."""
    if isinstance(value, str) and value.strip().lower() == "card":
        if card_value is None:
            fail(metric, f"{param}='card' but the data card has no {card_field}; pass {param}=<number>")
        return float(card_value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(metric, f"{param} must be 'card' or a number, got {value!r}")
    if not number > 0:
        fail(metric, f"{param} must be positive, got {value!r}")
    return number
