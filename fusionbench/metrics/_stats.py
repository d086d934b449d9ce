"""Vectorised statistics shared by several metrics: tiling, box sums, block UIQI, correlation.

Everything takes batched float64 tensors and avoids Python loops over blocks or pixels; the
per-block formulas are written once here so Q_avg, D_lambda and D_s cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

CHUNK_ELEMENTS = 1 << 21
"""Batches are processed in chunks of about this many values (16 MiB of float64) per tensor.

Metrics create many temporaries of the input's size. Above glibc's largest mmap threshold
(32 MiB) every temporary is a fresh mapping whose pages fault in on first touch, which costs more
than the arithmetic; below it the allocator recycles warm memory. A chunk holds at least one image."""


def chunked(fn: Callable[..., torch.Tensor], *tensors: torch.Tensor) -> torch.Tensor:
    """Apply ``fn`` to slices of the batch (dim 0) of every tensor and concatenate the results."""
    per_image = max(t[0].numel() for t in tensors) if tensors[0].shape[0] else 1
    step = max(1, CHUNK_ELEMENTS // max(per_image, 1))
    n = tensors[0].shape[0]
    if n <= step:
        return fn(*tensors)
    return torch.cat([fn(*(t[i : i + step] for t in tensors)) for i in range(0, n, step)])


def tiles(x: torch.Tensor, size: int, step: int | None = None) -> torch.Tensor:
    """``(B,C,H,W)`` -> ``(B, n_tiles, C, size*size)``, tiles in row-major order.

    ``step == size`` (default) gives MATLAB ``blockproc``'s distinct tiles; the image must already
    be a whole number of tiles (checked by the caller, whose error names the metric).
    """
    step = size if step is None else step
    b, c = x.shape[:2]
    t = x.unfold(2, size, step).unfold(3, size, step)  # (B, C, ny, nx, size, size)
    ny, nx = t.shape[2:4]
    return t.permute(0, 2, 3, 1, 4, 5).reshape(b, ny * nx, c, size * size)


def uiqi_from_moments(
    mx: torch.Tensor, my: torch.Tensor, vx: torch.Tensor, vy: torch.Tensor, cov: torch.Tensor
) -> torch.Tensor:
    """``4 cov mx my / (vx + vy) / (mx^2 + my^2)``: the toolbox's block UIQI (0/0 -> NaN)."""
    return 4 * cov * mx * my / (vx + vy) / (mx * mx + my * my)


def box_sums(x: torch.Tensor, k: int) -> torch.Tensor:
    """Sums over every ``k x k`` window fully inside the image ('valid'), via running sums.

    ``filter2(ones(k), x, 'valid')`` in O(1) per output; float64 keeps the cancellation error of
    the differences near 1e-16 of the running total, far below the 1e-6 tolerance.
    """
    c = torch.nn.functional.pad(x.cumsum(-1), (1, 0))
    x = c[..., k:] - c[..., :-k]
    c = torch.nn.functional.pad(x.cumsum(-2), (0, 0, 1, 0))
    return c[..., k:, :] - c[..., :-k, :]


def pearson(x: torch.Tensor, y: torch.Tensor, dims: tuple[int, ...] = (-2, -1)) -> torch.Tensor:
    """Pearson correlation over ``dims`` (NumPy-style: centred sums, no ddof issue)."""
    dx = x - x.mean(dims, keepdim=True)
    dy = y - y.mean(dims, keepdim=True)
    return (dx * dy).sum(dims) / torch.sqrt((dx * dx).sum(dims) * (dy * dy).sum(dims))
