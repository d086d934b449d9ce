"""NumPy/torch interchange for the imaging primitives.

Every primitive is written once, in torch float64, and accepts NumPy arrays too: the dataset
readers work in NumPy, the metrics in batched torch. Converting at the boundary (rather than
keeping two implementations) is what guarantees that the data simulation and the metrics agree
bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Array = Any  # np.ndarray | torch.Tensor; kept loose so signatures stay readable


def to_tensor(x: Array, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, bool]:
    """Return ``(tensor, was_numpy)``; NumPy input becomes a float64 CPU tensor."""
    if isinstance(x, torch.Tensor):
        return (x if x.dtype == dtype else x.to(dtype)), False
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(dtype), True


def back(t: torch.Tensor, was_numpy: bool) -> Array:
    """Undo :func:`to_tensor`: NumPy in, NumPy out."""
    return t.detach().cpu().numpy() if was_numpy else t


def as_4d(t: torch.Tensor) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """View ``(H,W)``, ``(C,H,W)`` or ``(B,C,H,W)`` as 4-D; the returned function restores the rank.

    The restore function keeps the new spatial size, so it also works after resizing.
    """
    if t.ndim == 2:
        return t[None, None], lambda y: y[0, 0]
    if t.ndim == 3:
        return t[None], lambda y: y[0]
    if t.ndim == 4:
        return t, lambda y: y
    raise ValueError(f"expected an image of shape (H,W), (C,H,W) or (B,C,H,W), got {tuple(t.shape)}")


def numpy_or_torch(fn: Callable[..., torch.Tensor]) -> Callable[..., Array]:
    """Decorator: convert the first argument to float64 torch, convert the result back."""

    def wrapper(img: Array, *args: Any, **kwargs: Any) -> Array:
        t, was_numpy = to_tensor(img)
        return back(fn(t, *args, **kwargs), was_numpy)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper
