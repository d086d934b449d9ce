"""Writers → readers round trips (property tests): PanCollection and MHIF HDF5, toolbox .mat scenes.

Arrays are small and example counts modest so each property runs in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionbench.datasets import hsi
from fusionbench.datasets.builders import mhif_item, pansharpening_item
from fusionbench.datasets.pancollection import open_custom_fr, open_custom_rr
from fusionbench.datasets.scenes import read_mat_scene
from fusionbench.datasets.writers import write_hsi_h5, write_mat_scene, write_pancollection_h5
from fusionbench.lazy import build
from fusionbench.registry import load_registry

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- PanCollection HDF5 ------------------------------------------------------------------------------
def _pan_items(n: int, bands: int, h: int, w: int, ratio: int, peak: float, seed: int) -> list:
    rng = np.random.default_rng(seed)
    H, W = h * ratio, w * ratio
    return [
        pansharpening_item(
            f"x{k}",
            pan=rng.uniform(2, peak, (1, H, W)),
            ms=rng.uniform(2, peak, (bands, h, w)),
            lms=rng.uniform(2, peak, (bands, H, W)),  # not interpolated: the stored key must come back
            gt=rng.uniform(2, peak, (bands, H, W)),
            ratio=ratio,
        )
        for k in range(n)
    ]


@PROPERTY
@given(
    protocol=st.sampled_from(["reduced", "full"]),
    sensor=st.sampled_from([("WV3", 8, 2047.0), ("QB", 4, 2047.0), ("GF2", 4, 1023.0)]),
    n=st.integers(1, 3),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_pancollection_writer_round_trip(
    tmp_path_factory: pytest.TempPathFactory, protocol: str, sensor: tuple, n: int, h: int, w: int, seed: int
) -> None:
    name, bands, peak = sensor
    items = _pan_items(n, bands, h, w, 4, peak, seed)
    path = write_pancollection_h5(tmp_path_factory.mktemp("pc") / "file.h5", items, protocol=protocol)
    keys = {"gt", "ms", "lms", "pan"} if protocol == "reduced" else {"ms", "lms", "pan"}
    with h5py.File(path, "r") as fh:
        assert set(fh.keys()) == keys
        assert fh["ms"].shape == (n, bands, h, w) and fh["pan"].shape == (n, 1, 4 * h, 4 * w)
        assert all(fh[k].dtype == np.float64 for k in keys)
    ds = (open_custom_rr if protocol == "reduced" else open_custom_fr)(root=None, path=str(path), sensor=name)
    back = list(ds.items())
    assert len(back) == n
    for got, want in zip(back, items):
        for key in ("pan", "ms", "lms"):
            np.testing.assert_array_equal(got.inputs[key], want.inputs[key])
        assert "lms_source" not in got.extras  # read from the file, not re-made
        if protocol == "reduced":
            np.testing.assert_array_equal(got.reference, want.reference)
        else:
            assert got.reference is None


def test_pancollection_writer_needs_gt_for_reduced(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    item = pansharpening_item("a", pan=rng.random((1, 8, 8)), ms=rng.random((4, 2, 2)), ratio=4)
    with pytest.raises(ValueError, match="no reference"):
        write_pancollection_h5(tmp_path / "x.h5", [item])
    write_pancollection_h5(tmp_path / "x.h5", [item], protocol="full")


# -- MHIF HDF5 -----------------------------------------------------------------------------------
LAYOUTS = {  # catalog dataset -> (folder, test file, the order the layout stores RGB in)
    "cave-x4": ("cave", "test_cave(with_up)x4.h5", 4, "bgr"),
    "cave-x8": ("cave", "test_cave(with_up)x8_rgb.h5", 8, "bgr"),
    "harvard-x4": ("harvard", "test_harvard(with_up)x4.h5", 4, "rgb"),
}


def _hsi_items(n: int, ratio: int, hr: int, order: str | None, seed: int) -> list:
    rng = np.random.default_rng(seed)
    extras = {} if order is None else {"rgb_order": order}
    return [
        mhif_item(
            f"h{k}",
            hrmsi=rng.random((3, hr, hr)),
            lrhsi=rng.random((31, hr // ratio, hr // ratio)),
            hsi_up=rng.random((31, hr, hr)),
            gt=rng.random((31, hr, hr)),
            ratio=ratio,
            extras=extras,
        )
        for k in range(n)
    ]


@PROPERTY
@given(
    name=st.sampled_from(sorted(LAYOUTS)),
    n=st.integers(1, 3),
    k=st.integers(1, 2),
    item_order=st.sampled_from(["rgb", "bgr", None]),
    explicit=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_hsi_writer_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    n: int,
    k: int,
    item_order: str | None,
    explicit: bool,
    seed: int,
) -> None:
    folder, file_name, ratio, stored = LAYOUTS[name]
    items = _hsi_items(n, ratio, k * ratio, item_order, seed)
    root = tmp_path_factory.mktemp("hsi")
    write_hsi_h5(root / "mhif" / folder / file_name, items, **({"rgb_order": stored} if explicit else {}))
    ds = getattr(hsi.openers, name)(root=root)
    back = list(ds.items())
    assert len(back) == n
    for got, want in zip(back, items):
        np.testing.assert_array_equal(got.reference, want.reference)
        np.testing.assert_array_equal(got.inputs["lrhsi"], want.inputs["lrhsi"])
        np.testing.assert_array_equal(got.inputs["hsi_up"], want.inputs["hsi_up"])
        assert got.extras["rgb_order"] == stored
        # the same colours under the reader's label: flip back to the item's order to compare
        same = got.extras["rgb_order"] == (item_order or "rgb")
        np.testing.assert_array_equal(got.inputs["hrmsi"] if same else got.inputs["hrmsi"][::-1], want.inputs["hrmsi"])


def test_rgb_dataset_written_as_cave_is_stored_bgr_and_read_back_as_rgb(tmp_path: Path) -> None:
    spec = load_registry().get("dataset", "synthetic-cave-x4").spec
    source = build(spec)
    item = source.get("test", 0)
    assert item.extras["rgb_order"] == "rgb"
    path = write_hsi_h5(tmp_path / "mhif/cave/test_cave(with_up)x4.h5", [item])
    with h5py.File(path, "r") as fh:  # what the Deng-group tools will see: B, G, R
        np.testing.assert_array_equal(fh["RGB"][0], item.inputs["hrmsi"][::-1])
    back = hsi.openers.__getattr__("cave-x4")(root=tmp_path).get("test", 0)
    assert back.extras["rgb_order"] == "bgr"
    red_first = back.inputs["hrmsi"][::-1]
    np.testing.assert_array_equal(red_first, item.inputs["hrmsi"])
    # into the Harvard layout (RGB) it is stored as is
    path = write_hsi_h5(tmp_path / "mhif/harvard/test_harvard(with_up)x4.h5", [item])
    with h5py.File(path, "r") as fh:
        np.testing.assert_array_equal(fh["RGB"][0], item.inputs["hrmsi"])


def test_hsi_writer_needs_the_layout_order(tmp_path: Path) -> None:
    items = _hsi_items(1, 4, 8, "rgb", 0)
    with pytest.raises(ValueError, match="rgb_order='bgr' \\(CAVE"):
        write_hsi_h5(tmp_path / "mine.h5", items)
    with pytest.raises(ValueError, match="rgb_order must be one of"):
        write_hsi_h5(tmp_path / "mine.h5", items, rgb_order="grb")
    write_hsi_h5(tmp_path / "mine.h5", items, rgb_order="bgr")
    with h5py.File(tmp_path / "mine.h5", "r") as fh:
        np.testing.assert_array_equal(fh["RGB"][0], items[0].inputs["hrmsi"][::-1])


# -- toolbox .mat scenes ---------------------------------------------------------------------------
@PROPERTY
@given(
    bands=st.integers(1, 9),
    ratio=st.sampled_from([2, 4, 8]),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    version=st.sampled_from(["v5", "v7.3"]),
    with_gt=st.booleans(),
    store_ratio=st.booleans(),
    sensor=st.sampled_from([None, "WV3", "Pleiades"]),
    seed=st.integers(0, 2**16),
)
def test_mat_scene_writer_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    bands: int,
    ratio: int,
    h: int,
    w: int,
    version: str,
    with_gt: bool,
    store_ratio: bool,
    sensor: str | None,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    H, W = h * ratio, w * ratio
    item = pansharpening_item(
        "s",
        pan=rng.uniform(0, 2047, (1, H, W)),
        ms=rng.uniform(0, 2047, (bands, h, w)),
        lms=rng.uniform(0, 2047, (bands, H, W)),
        gt=rng.uniform(0, 2047, (bands, H, W)) if with_gt else None,
        ratio=ratio,
    )
    path = tmp_path_factory.mktemp("mat") / "scene.mat"
    write_mat_scene(path, item, version=version, sensor=sensor, ratio=ratio if store_ratio else None)
    scene = read_mat_scene(path)
    assert scene.ratio == ratio and scene.bands == bands and scene.sensor == sensor
    np.testing.assert_array_equal(scene.pan, item.inputs["pan"])
    np.testing.assert_array_equal(scene.ms, item.inputs["ms"])
    np.testing.assert_array_equal(scene.lms, item.inputs["lms"])
    if with_gt:
        np.testing.assert_array_equal(scene.gt, item.reference)
    else:
        assert scene.gt is None
    # a known band count gives the same result
    np.testing.assert_array_equal(read_mat_scene(path, bands=bands).ms, item.inputs["ms"])
