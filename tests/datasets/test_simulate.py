"""Wald protocol: the real Deng-group samples are reproduced from their gt (Wald's protocol, toolbox MTF.m)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from fusionbench.datasets.scenes import open_scenes_rr, read_tiff_scene
from fusionbench.datasets.simulate import (
    WaldConfig,
    crop_to_multiple,
    resimulation_error,
    simulate_reduced_item,
    wald_reduce,
)
from fusionbench.errors import DataFormatError
from fusionbench.sensors import get_sensor

# Measured on the samples: WV3 2.3e-12 DN, Pléiades 1.6e-12 DN (spec: ~5e-12 / 4e-12).
WALD_TOLERANCE_DN = 1e-10


def _load_rr(path: Path, scale: float) -> tuple[np.ndarray, np.ndarray]:
    d = scipy.io.loadmat(path)
    return np.moveaxis(d["gt"], -1, 0) * scale, np.moveaxis(d["lrms"], -1, 0) * scale


def test_wv3_sample_resimulates_exactly(shared_data: Path) -> None:
    gt, lrms = _load_rr(shared_data / "pansharpening/cdif_WV3_test_RR.mat", 2047.0)
    err = resimulation_error(gt, lrms, get_sensor("WV3").ms_gnyq, 4)
    assert err < WALD_TOLERANCE_DN, err
    # the check is sharp: the generic GNyq or another decimation phase fail by tens of DN
    assert resimulation_error(gt, lrms, 0.3, 4) > 10
    from fusionbench.datasets.simulate import degrade_ms

    shifted = degrade_ms(np.roll(gt, 1, axis=-1), get_sensor("WV3").ms_gnyq, 4)
    assert np.abs(shifted - lrms).max() > 10


def test_pleiades_sample_resimulates_with_default_gnyq(shared_data: Path) -> None:
    gt, lrms = _load_rr(shared_data / "pansharpening/cdif_Pleiades_test_RR.mat", 1023.0)
    assert resimulation_error(gt, lrms, 0.3, 4) < WALD_TOLERANCE_DN


def test_reader_and_simulation_agree_on_the_sample(shared_data: Path) -> None:
    ds = open_scenes_rr(root=shared_data, path="pansharpening/cdif_WV3_test_RR.mat", sensor="WV3")
    stored = next(ds.items())
    assert resimulation_error(stored.reference, stored.inputs["ms"], ds.card.mtf_gnyq, 4) < WALD_TOLERANCE_DN
    # simulate='always' treats the stored gt-sized MS as a full-resolution scene one level down
    sim = next(
        open_scenes_rr(
            root=shared_data, path="pansharpening/cdif_WV3_test_RR.mat", sensor="WV3", simulate="always"
        ).items()
    )
    np.testing.assert_array_equal(sim.reference, stored.inputs["ms"])
    assert sim.inputs["ms"].shape == (8, 16, 16) and sim.inputs["pan"].shape == (1, 64, 64)


def test_wald_reduce_shapes_and_pan_modes() -> None:
    rng = np.random.default_rng(0)
    ms, pan = rng.uniform(0, 2047, (4, 18, 18)), rng.uniform(0, 2047, (1, 72, 72))
    for mode in ("imresize", "mtf"):
        cfg = WaldConfig(4, (0.34, 0.32, 0.30, 0.22), mode, 0.15)  # type: ignore[arg-type]
        gt, ms_lr, pan_lr = wald_reduce(ms, pan, cfg)
        assert gt.shape == (4, 16, 16) and ms_lr.shape == (4, 4, 4) and pan_lr.shape == (1, 16, 16)
    item = simulate_reduced_item("a", ms, pan, cfg)
    assert item.inputs["lms"].shape == (4, 16, 16) and item.extras["pan_mode"] == "mtf"
    with pytest.raises(ValueError, match="GF2"):
        WaldConfig(4, (0.3,) * 4, "mtf", None)


def test_simulation_errors_name_the_problem() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(DataFormatError, match="mismatched PAN/MS sizes"):
        crop_to_multiple(rng.random((4, 8, 8)), rng.random((1, 30, 32)), 4, "scene.mat")
    cfg = WaldConfig(4, (0.3,) * 8)
    with pytest.raises(DataFormatError, match="wrong band count"):
        wald_reduce(rng.random((4, 8, 8)), rng.random((1, 32, 32)), cfg, "scene.mat")


def test_geotiff_scene_pair(tmp_path: Path) -> None:
    import tifffile  # noqa: F401 - a dev requirement (the `geotiff` extra): missing means fail, not skip

    from fusionbench.datasets.rasters import read_raster, write_raster

    rng = np.random.default_rng(0)
    ms = rng.integers(0, 2047, (4, 16, 16)).astype(np.uint16)
    pan = rng.integers(0, 2047, (1, 64, 64)).astype(np.uint16)
    write_raster(tmp_path / "scene_ms.tif", ms)
    write_raster(tmp_path / "scene_pan.tif", pan)
    np.testing.assert_array_equal(read_raster(tmp_path / "scene_ms.tif"), ms)
    scene = read_tiff_scene(tmp_path / "scene_ms.tif", tmp_path / "scene_pan.tif")
    assert scene.ratio == 4 and scene.ms.shape == (4, 16, 16)
    ds = open_scenes_rr(root=tmp_path, path=".", sensor="QB")
    item = next(ds.items())
    assert item.extras["simulation"] == "wald" and item.reference.shape == (4, 16, 16)
    (tmp_path / "lonely_ms.tif").write_bytes((tmp_path / "scene_ms.tif").read_bytes())
    with pytest.raises(DataFormatError, match="without its PAN"):
        open_scenes_rr(root=tmp_path, path=".", sensor="QB")
