"""The core tiler: exact identity reconstruction, weights that sum to one, bounded batches,
inputs at 1/ratio scale, and clear errors for impossible geometry."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.tiling import TilingError, axis_window, blend_weights, plan_tiles, tile_starts, tiled_apply

FAST = settings(max_examples=60, deadline=None)


@st.composite
def geometries(draw: st.DrawFn, align: int = 1) -> tuple[int, int, int, int, int]:
    """(height, width, tile, overlap, align) with sizes, tiles and overlaps multiples of ``align``."""
    height = align * draw(st.integers(1, 48 // align))
    width = align * draw(st.integers(1, 48 // align))
    tile = align * draw(st.integers(1, 32 // align))
    overlap = align * draw(st.integers(0, tile // align - 1))
    return height, width, tile, overlap, align


@FAST
@given(geometries(), st.integers(1, 5), st.sampled_from(["cosine", "linear", "flat"]), st.integers(1, 2))
def test_identity_gives_the_input_back_exactly(geometry, tile_batch, window, batch):
    height, width, tile, overlap, _ = geometry
    x = torch.randn(batch, 3, height, width, dtype=torch.float32)
    out = tiled_apply(lambda t: t["x"], {"x": x}, tile=tile, overlap=overlap, tile_batch=tile_batch, window=window)
    assert out.dtype == x.dtype and out.shape == x.shape
    assert torch.equal(out, x)


@FAST
@given(geometries(align=4), st.integers(1, 4))
def test_scaled_inputs_are_cut_at_the_matching_boxes(geometry, tile_batch):
    """An MS input at 1/4 scale is tiled with the scaled geometry: upsampling its tile by
    nearest-neighbour gives exactly the tile of its grid-sized nearest upsampling."""
    height, width, tile, overlap, align = geometry
    ms = torch.randn(2, 4, height // align, width // align, dtype=torch.float64)
    pan = torch.randn(2, 1, height, width, dtype=torch.float64)
    up = ms.repeat_interleave(align, -2).repeat_interleave(align, -1)

    def fn(t):
        assert t["ms"].shape[-2:] == tuple(s // align for s in t["pan"].shape[-2:])
        return t["ms"].repeat_interleave(align, -2).repeat_interleave(align, -1) + t["pan"]

    out = tiled_apply(fn, {"pan": pan, "ms": ms}, tile=tile, overlap=overlap, tile_batch=tile_batch)
    assert torch.equal(out, up + pan)


@FAST
@given(geometries(), st.sampled_from(["cosine", "linear", "flat"]))
def test_blend_weights_sum_to_one_everywhere(geometry, window):
    height, width, tile, overlap, _ = geometry
    plan = plan_tiles(height, width, tile, overlap, window=window)
    weights = blend_weights(plan)
    assert weights.shape == (len(plan), height, width)
    assert bool((weights >= 0).all())
    torch.testing.assert_close(weights.sum(0), torch.ones(height, width, dtype=torch.float64), rtol=0, atol=1e-12)
    # every pixel is covered, and each tile has positive weight on its whole box
    for i, box in enumerate(plan.boxes):
        assert bool((weights[i, box.top : box.top + box.height, box.left : box.left + box.width] > 0).all())


@FAST
@given(geometries(), st.integers(1, 3))
def test_output_is_the_blend_weighted_mean_of_the_tiles(geometry, tile_batch):
    """A function that returns a different constant per tile: the result is Σ weight_i · i."""
    height, width, tile, overlap, _ = geometry
    plan = plan_tiles(height, width, tile, overlap)
    counter = iter(range(10**6))

    def fn(t):
        return torch.stack(
            [torch.full(t["x"].shape[1:], float(next(counter)), dtype=torch.float64) for _ in range(t["x"].shape[0])]
        )

    out = tiled_apply(fn, {"x": torch.zeros(1, 1, height, width)}, tile=tile, overlap=overlap, tile_batch=tile_batch)
    index = torch.arange(len(plan), dtype=torch.float64)[:, None, None]
    expected = (blend_weights(plan) * index).sum(0)
    torch.testing.assert_close(out[0, 0], expected, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 200), st.integers(1, 64), st.data())
@FAST
def test_tiles_cover_the_axis_with_at_least_the_requested_overlap(size, tile, data):
    overlap = data.draw(st.integers(0, tile - 1))
    starts = tile_starts(size, tile, overlap)
    t = min(tile, size)
    assert starts[0] == 0 and starts[-1] + t == size
    assert list(starts) == sorted(set(starts))
    for a, b in zip(starts, starts[1:]):
        assert a + t - b >= overlap  # consecutive tiles overlap by at least `overlap`


def test_cosine_ramps_of_neighbours_sum_to_one_in_a_regular_overlap():
    rise = axis_window(8, 8, True, False)
    fall = axis_window(8, 8, False, True)
    torch.testing.assert_close(rise + fall, torch.ones(8, dtype=torch.float64), rtol=0, atol=1e-15)
    assert bool((rise > 0).all())


def test_tile_batch_bounds_what_the_function_sees():
    seen: list[int] = []

    def fn(t):
        seen.append(t["x"].shape[0])
        return t["x"]

    x = torch.randn(2, 1, 40, 40)
    tiled_apply(fn, {"x": x}, tile=16, overlap=4, tile_batch=3)
    assert max(seen) == 3 * 2 and sum(seen) == 2 * len(plan_tiles(40, 40, 16, 4))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"tile": 0, "overlap": 0}, "tile must be >= 1"),
        ({"tile": 8, "overlap": 8}, "overlap must satisfy"),
        ({"tile": 8, "overlap": -1}, "overlap must satisfy"),
        ({"tile": 8, "overlap": 2, "tile_batch": 0}, "tile_batch"),
        ({"tile": 8, "overlap": 2, "window": "hann"}, "window must be one of"),
        ({"tile": 10, "overlap": 2}, "not a multiple of 4"),  # the 1/4-scale input needs aligned tiles
        ({"tile": 8, "overlap": 3}, "not a multiple of 4"),
    ],
)
def test_bad_geometry_is_refused_with_a_clear_message(kwargs, message):
    inputs = {"pan": torch.zeros(1, 1, 32, 32), "ms": torch.zeros(1, 4, 8, 8)}
    with pytest.raises(TilingError, match=message):
        tiled_apply(lambda t: t["pan"], inputs, **kwargs)


def test_inputs_that_do_not_share_a_grid_are_refused():
    with pytest.raises(TilingError, match="integer downscaling"):
        tiled_apply(lambda t: t["a"], {"a": torch.zeros(1, 1, 32, 32), "b": torch.zeros(1, 1, 12, 32)}, tile=8)
    with pytest.raises(TilingError, match="batch sizes"):
        tiled_apply(lambda t: t["a"], {"a": torch.zeros(1, 1, 8, 8), "b": torch.zeros(2, 1, 8, 8)}, tile=8)
    with pytest.raises(TilingError, match="returned"):
        tiled_apply(lambda t: t["a"][..., :4, :4], {"a": torch.zeros(1, 1, 16, 16)}, tile=8, overlap=2)
