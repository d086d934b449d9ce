"""Overlapping-tile inference with seamless blending, for any model and any image size.

Why: some networks cannot see a whole test image at once — SSDiff's level-1 attention is
quadratic in the number of pixels (a 512×512 PAN would be 262k tokens), and any diffusion model
on a 1000×1000 image may exceed the accelerator's memory. :func:`tiled_apply` cuts the inputs
into overlapping tiles, runs a function on batches of tiles, and blends the tile outputs back,
so peak memory is bounded by ``tile`` and ``tile_batch``, not by the image size::

    from fusionbench.tiling import tiled_apply

    def run(tiles):                      # tiles["pan"]: (k·B, 1, 64, 64), tiles["ms"]: (k·B, C, 16, 16)
        return net(tiles["pan"], tiles["ms"], tiles["lms"])   # -> (k·B, C_out, 64, 64)

    hrms = tiled_apply(run, {"pan": pan, "lms": lms, "ms": ms}, tile=64, overlap=16, tile_batch=8)

Geometry. The *grid* is the largest input's (H, W) (or ``size=``); the output has that size.
Every input is either on the grid or on a coarser grid whose scale divides evenly — ``ms`` at
1/ratio — and its tiles are the same boxes scaled accordingly (a 64-px PAN tile at offset 48 is
a 16-px MS tile at offset 12). Tile starts along an axis are ``0, s, 2s, …`` with stride
``s = tile - overlap``, plus a last tile flush with the far border, so the image is covered
and every overlap is at least ``overlap`` pixels. A tile is clamped to the image when the image
is smaller (then there is a single tile along that axis).

Blending. Each tile gets a separable window: 1 in its interior, rising over its first
``overlap`` pixels and falling over its last ``overlap`` pixels on every side that is *not* an
image border (``"cosine"``: sin² ramps, ``"linear"``, or ``"flat"`` for plain averaging). Ramp
values are sampled at pixel centres, so they are strictly positive, and opposite cosine ramps
sum to exactly one in a regular overlap. The output is the window-weighted mean of the tiles
covering each pixel, so the effective weights (:func:`blend_weights`) sum to one everywhere.

Exactness. The weighted mean is accumulated as a running update
``out += (w_i / W_i) · (y_i - out)`` with ``W_i`` the weight accumulated so far: the first tile
is copied exactly (its factor is ``w/w = 1``) and a tile that agrees with what is already there
adds an exact zero. Hence a function that returns its input gives the input back bit for bit,
whatever the tile, overlap or image size.

Randomness. The tiler draws nothing. A diffusion model that wants results independent of
``tile_batch`` draws its initial noise for the whole image once and passes it as one more input
(it is then tiled like the data); see the SSDiff plugin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import torch

WINDOWS = ("cosine", "linear", "flat")

TileFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]


class TilingError(ValueError):
    """Bad tile geometry or inputs that cannot be tiled together (the message says which)."""


@dataclass(frozen=True)
class Box:
    """One tile on the grid: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int

    def scaled(self, scale: Fraction) -> tuple[slice, slice]:
        """The box on an input grid ``scale`` times the reference (exact: checked by the plan)."""
        top, left = int(self.top * scale), int(self.left * scale)
        return slice(top, top + int(self.height * scale)), slice(left, left + int(self.width * scale))


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles are and how much each one weighs (windows are per axis, separable)."""

    height: int
    width: int
    tile: tuple[int, int]  # actual tile size (clamped to the image)
    overlap: tuple[int, int]
    rows: tuple[int, ...]  # start of every tile row
    cols: tuple[int, ...]  # start of every tile column
    window: str = "cosine"

    @property
    def boxes(self) -> list[Box]:
        th, tw = self.tile
        return [Box(r, c, th, tw) for r in self.rows for c in self.cols]

    def __len__(self) -> int:
        return len(self.rows) * len(self.cols)

    def window_2d(self, box: Box, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The (height, width) raw blending window of one tile."""
        wy = axis_window(
            box.height, self.overlap[0], box.top > 0, box.top + box.height < self.height, self.window, dtype
        )
        wx = axis_window(
            box.width, self.overlap[1], box.left > 0, box.left + box.width < self.width, self.window, dtype
        )
        return wy[:, None] * wx[None, :]


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TilingError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair  # type: ignore[return-value]


def tile_starts(size: int, tile: int, overlap: int) -> tuple[int, ...]:
    """Starts of the tiles covering ``size`` pixels: ``0, s, 2s, …`` (s = tile - overlap) and a
    last tile ending exactly at ``size``. ``tile`` is clamped to ``size``."""
    if size < 1:
        raise TilingError(f"cannot tile an axis of {size} pixels")
    if tile < 1:
        raise TilingError(f"tile must be >= 1, got {tile}")
    if not 0 <= overlap < tile:
        raise TilingError(f"overlap must satisfy 0 <= overlap < tile, got overlap={overlap}, tile={tile}")
    tile = min(tile, size)
    if tile == size:
        return (0,)
    starts = list(range(0, size - tile, tile - overlap))
    starts.append(size - tile)
    return tuple(starts)


def axis_window(
    length: int,
    overlap: int,
    ramp_start: bool,
    ramp_end: bool,
    window: str = "cosine",
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """1-D blending window of a tile side: ones, with ramps of ``overlap`` pixels at the ends
    that border another tile. Values at pixel centres, so every weight is > 0."""
    if window not in WINDOWS:
        raise TilingError(f"window must be one of {WINDOWS}, got {window!r}")
    w = torch.ones(length, dtype=torch.float64)
    ramp_len = min(overlap, length)
    if window == "flat" or ramp_len == 0:
        return w.to(dtype)
    u = (torch.arange(ramp_len, dtype=torch.float64) + 0.5) / ramp_len  # in (0, 1)
    ramp = torch.sin(0.5 * math.pi * u) ** 2 if window == "cosine" else u
    if ramp_start:
        w[:ramp_len] = torch.minimum(w[:ramp_len], ramp)
    if ramp_end:
        w[length - ramp_len :] = torch.minimum(w[length - ramp_len :], ramp.flip(0))
    return w.to(dtype)


def plan_tiles(
    height: int,
    width: int,
    tile: int | tuple[int, int],
    overlap: int | tuple[int, int] = 0,
    *,
    align: int = 1,
    window: str = "cosine",
) -> TilePlan:
    """The tiles covering an ``height × width`` grid.

    ``align``: every tile start and size must be a multiple of it (4 when an input lives at
    1/4 scale). It is checked, not silently rounded, so the caller sees geometry problems.
    """
    th, tw = _pair(tile, "tile")
    oh, ow = _pair(overlap, "overlap")
    if window not in WINDOWS:
        raise TilingError(f"window must be one of {WINDOWS}, got {window!r}")
    if align < 1:
        raise TilingError(f"align must be >= 1, got {align}")
    rows, cols = tile_starts(height, th, oh), tile_starts(width, tw, ow)
    th, tw = min(th, height), min(tw, width)
    for name, value in (("tile height", th), ("tile width", tw), *(("tile start", s) for s in (*rows, *cols))):
        if value % align:
            raise TilingError(
                f"{name} {value} is not a multiple of {align} (needed by an input at 1/{align} scale); "
                f"choose tile and overlap as multiples of {align} for an image of {height}×{width}"
            )
    return TilePlan(height, width, (th, tw), (oh, ow), rows, cols, window)


def blend_weights(plan: TilePlan) -> torch.Tensor:
    """The effective weight of every tile at every pixel, (n_tiles, H, W), zero outside its box.

    They sum to one at every pixel: this is what :func:`tiled_apply` computes, written out.
    """
    raw = torch.zeros(len(plan), plan.height, plan.width, dtype=torch.float64)
    for i, box in enumerate(plan.boxes):
        raw[i, box.top : box.top + box.height, box.left : box.left + box.width] = plan.window_2d(box)
    return raw / raw.sum(dim=0, keepdim=True)


def _scales(inputs: Mapping[str, torch.Tensor], height: int, width: int) -> dict[str, Fraction]:
    scales: dict[str, Fraction] = {}
    for name, x in inputs.items():
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            raise TilingError(
                f"input {name!r} must be a (B, C, H, W) tensor, got {getattr(x, 'shape', type(x).__name__)}"
            )
        sy, sx = Fraction(x.shape[-2], height), Fraction(x.shape[-1], width)
        if sy != sx or sy > 1 or sy.numerator != 1:
            raise TilingError(
                f"input {name!r} of size {tuple(x.shape[-2:])} is not the grid {height}×{width} or an integer "
                f"downscaling of it (the same factor on both axes)"
            )
        scales[name] = sy
    return scales


def tiled_apply(
    fn: TileFn,
    inputs: Mapping[str, torch.Tensor],
    *,
    tile: int | tuple[int, int],
    overlap: int | tuple[int, int] = 0,
    tile_batch: int = 1,
    window: str = "cosine",
    size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Run ``fn`` over overlapping tiles of ``inputs`` and blend the results (see the module doc).

    ``fn(tiles)`` gets a dict with the same keys, each ``(k·B, C, h, w)`` — ``k ≤ tile_batch``
    tiles of all B images, tile-major (the first B rows are tile 0) — and returns
    ``(k·B, C_out, th, tw)`` on the grid's tile size. The result is ``(B, C_out, H, W)`` in the
    dtype and device of ``fn``'s output. Memory: ``fn`` never sees more than ``tile_batch``
    tiles, and the blend keeps one output-sized canvas plus one (H, W) float64 weight map.
    """
    if not inputs:
        raise TilingError("tiled_apply needs at least one input")
    if not isinstance(tile_batch, int) or tile_batch < 1:
        raise TilingError(f"tile_batch must be a positive integer, got {tile_batch!r}")
    batch_sizes = {x.shape[0] for x in inputs.values() if isinstance(x, torch.Tensor)}
    if len(batch_sizes) != 1:
        raise TilingError(f"inputs have different batch sizes: {sorted(batch_sizes)}")
    batch = batch_sizes.pop()
    height, width = size if size is not None else max((x.shape[-2], x.shape[-1]) for x in inputs.values())
    scales = _scales(inputs, height, width)
    align = max(s.denominator for s in scales.values())
    plan = plan_tiles(height, width, tile, overlap, align=align, window=window)
    boxes = plan.boxes
    th, tw = plan.tile

    out: torch.Tensor | None = None
    weight: torch.Tensor | None = None
    for first in range(0, len(boxes), tile_batch):
        chunk = boxes[first : first + tile_batch]
        tiles = {
            name: torch.cat([x[(..., *box.scaled(scales[name]))] for box in chunk], dim=0) for name, x in inputs.items()
        }
        y = fn(tiles)
        if (
            not isinstance(y, torch.Tensor)
            or y.ndim != 4
            or y.shape[0] != len(chunk) * batch
            or tuple(y.shape[-2:]) != (th, tw)
        ):
            raise TilingError(
                f"the tile function returned {getattr(y, 'shape', type(y).__name__)}; expected "
                f"({len(chunk) * batch}, C, {th}, {tw}) for {len(chunk)} tile(s) of {batch} image(s)"
            )
        if out is None:
            out = torch.zeros(batch, y.shape[1], height, width, dtype=y.dtype, device=y.device)
            weight = torch.zeros(height, width, dtype=torch.float64, device=y.device)
        assert weight is not None
        for i, box in enumerate(chunk):
            rows, cols = slice(box.top, box.top + th), slice(box.left, box.left + tw)
            w = plan.window_2d(box).to(y.device)
            total = weight[rows, cols] + w
            factor = (w / total).to(y.dtype)
            region = out[:, :, rows, cols]
            region += factor * (y[i * batch : (i + 1) * batch] - region)
            weight[rows, cols] = total
    assert out is not None
    return out
