"""Input checking shared by every baseline, so each method body is only its formula.

The core hands models ``FusionBatch.inputs`` as float64 ``(B, C, H, W)`` tensors in the dataset's
native units; these base classes check the fields a task needs, their shapes and the resolution
ratio once, with messages that name the method and the offending field, and then call the
method's ``_fuse`` with plain tensors. Methods never mutate their inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch

from fusionbench import FusionBatch
from fusionbench.errors import FusionbenchError
from fusionbench.specs import DataCard

PAIR_FIELDS: dict[str, tuple[str, str]] = {"ivf": ("ir", "vi"), "mif": ("mri", "other")}
"""The two sources of each two-image task, in the order the methods receive them."""


class InputError(FusionbenchError, ValueError):
    """Inputs that a baseline cannot fuse (missing field, wrong shape, bad ratio)."""


def _field(method: str, inputs: Mapping[str, torch.Tensor], name: str) -> torch.Tensor:
    if name not in inputs:
        raise InputError(f"{method}: input {name!r} is missing (got {sorted(inputs)})")
    t = inputs[name]
    if not isinstance(t, torch.Tensor):
        raise InputError(f"{method}: input {name!r} must be a torch tensor, got {type(t).__name__}")
    if t.ndim != 4:
        raise InputError(f"{method}: input {name!r} must be (B, C, H, W), got shape {tuple(t.shape)}")
    if t.is_complex():
        raise InputError(f"{method}: input {name!r} must be real, got {t.dtype}")
    t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        raise InputError(f"{method}: input {name!r} contains NaN or inf")
    return t


class FusionMethod:
    """Common ``__repr__`` and naming for error messages."""

    name: ClassVar[str] = "method"

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class PansharpeningMethod(FusionMethod):
    """Checks ``pan`` (B,1,H,W), ``ms`` (B,C,h,w), ``lms`` (B,C,H,W) and the ratio H/h.

    The ratio is the card's when set (it must then match the shapes), otherwise H // h.
    Subclasses implement :meth:`_fuse` and return a ``(B, C, H, W)`` float64 tensor.
    """

    min_bands: ClassVar[int] = 1

    def fuse(self, batch: FusionBatch, *, sampler=None, generator=None) -> torch.Tensor:
        pan = _field(self.name, batch.inputs, "pan")
        ms = _field(self.name, batch.inputs, "ms")
        lms = _field(self.name, batch.inputs, "lms")
        b, c, h, w = lms.shape
        if pan.shape != (b, 1, h, w):
            raise InputError(f"{self.name}: pan must be (B, 1, H, W) = {(b, 1, h, w)}, got {tuple(pan.shape)}")
        if ms.shape[:2] != (b, c):
            raise InputError(f"{self.name}: ms has shape {tuple(ms.shape)}, lms {tuple(lms.shape)}: batch/bands differ")
        if c < self.min_bands:
            raise InputError(f"{self.name}: needs at least {self.min_bands} bands, got {c}")
        ratio = resolve_ratio(self.name, batch.card, (h, w), tuple(ms.shape[-2:]))
        out = self._fuse(pan, ms, lms, batch.card, ratio)
        return out.to(torch.float64)

    def _fuse(self, pan: torch.Tensor, ms: torch.Tensor, lms: torch.Tensor, card: DataCard, ratio: int) -> torch.Tensor:
        raise NotImplementedError


class MHIFMethod(FusionMethod):
    """Checks ``hrmsi`` (B,M,H,W), ``lrhsi`` (B,C,h,w), ``hsi_up`` (B,C,H,W) and the ratio."""

    def fuse(self, batch: FusionBatch, *, sampler=None, generator=None) -> torch.Tensor:
        msi = _field(self.name, batch.inputs, "hrmsi")
        lrhsi = _field(self.name, batch.inputs, "lrhsi")
        hsi_up = _field(self.name, batch.inputs, "hsi_up")
        b, c, h, w = hsi_up.shape
        if msi.shape[0] != b or msi.shape[-2:] != (h, w):
            raise InputError(f"{self.name}: hrmsi {tuple(msi.shape)} does not match hsi_up {tuple(hsi_up.shape)}")
        if lrhsi.shape[:2] != (b, c):
            raise InputError(f"{self.name}: lrhsi {tuple(lrhsi.shape)} does not match hsi_up {tuple(hsi_up.shape)}")
        ratio = resolve_ratio(self.name, batch.card, (h, w), tuple(lrhsi.shape[-2:]))
        return self._fuse(msi, lrhsi, hsi_up, batch.card, ratio).to(torch.float64)

    def _fuse(
        self, msi: torch.Tensor, lrhsi: torch.Tensor, hsi_up: torch.Tensor, card: DataCard, ratio: int
    ) -> torch.Tensor:
        raise NotImplementedError


class PairFusionMethod(FusionMethod):
    """IVF (``ir``, ``vi``) or MIF (``mri``, ``other``): two single-channel images of one size.

    The task is recognised from the field names, so one class serves both tasks.
    """

    def fuse(self, batch: FusionBatch, *, sampler=None, generator=None) -> torch.Tensor:
        names = next((pair for pair in PAIR_FIELDS.values() if pair[0] in batch.inputs), None)
        if names is None:
            expected = " or ".join(f"{a!r}+{b!r}" for a, b in PAIR_FIELDS.values())
            raise InputError(f"{self.name}: expected inputs {expected}, got {sorted(batch.inputs)}")
        a = _field(self.name, batch.inputs, names[0])
        b = _field(self.name, batch.inputs, names[1])
        if a.shape != b.shape or a.shape[1] != 1:
            raise InputError(
                f"{self.name}: {names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)} must both be (B, 1, H, W)"
            )
        return self._fuse(a, b, batch.card).to(torch.float64)

    def _fuse(self, a: torch.Tensor, b: torch.Tensor, card: DataCard) -> torch.Tensor:
        raise NotImplementedError


def resolve_ratio(method: str, card: DataCard, hr: tuple[int, int], lr: tuple[int, int]) -> int:
    """The resolution ratio: the card's, checked against the shapes, or inferred from them."""
    ratio = card.ratio
    if ratio is None:
        if lr[0] == 0 or hr[0] % lr[0] or hr[0] // lr[0] < 1:
            raise InputError(f"{method}: cannot infer an integer ratio from sizes {hr} and {lr}")
        ratio = hr[0] // lr[0]
    ratio = int(ratio)
    if (lr[0] * ratio, lr[1] * ratio) != tuple(hr):
        raise InputError(f"{method}: sizes {hr} (high) and {lr} (low) do not differ by the ratio {ratio}")
    return ratio


__all__ = ["InputError", "MHIFMethod", "PAIR_FIELDS", "PairFusionMethod", "PansharpeningMethod", "resolve_ratio"]
