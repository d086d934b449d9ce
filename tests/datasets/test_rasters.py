"""GeoTIFF rasters: planar (band-sequential) and contiguous (band-interleaved-by-pixel, as GDAL and
rasterio write by default) files read as (C, H, W); GeoTIFF scene pairs.

tifffile is a dev requirement (requirements-dev.txt, the `geotiff` extra), so it is imported
normally: without it these tests fail instead of being skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionbench.datasets.rasters import read_raster, write_raster
from fusionbench.datasets.scenes import open_scenes_rr, read_tiff_scene
from fusionbench.errors import DataFormatError


def test_three_band_contiguous_rgb_tiff(tmp_path: Path) -> None:
    """A 3-band Byte raster as GDAL writes it: H×W×3, PLANARCONFIG=CONTIG, PHOTOMETRIC=RGB."""
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (9, 13, 3)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", hwc, photometric="rgb")
    with tifffile.TiffFile(tmp_path / "rgb.tif") as tif:
        assert tif.pages[0].planarconfig == 1 and tif.series[0].axes == "YXS"  # really pixel-interleaved
    got = read_raster(tmp_path / "rgb.tif")
    assert got.shape == (3, 9, 13)
    np.testing.assert_array_equal(got, np.moveaxis(hwc, -1, 0))


def test_contiguous_multiband_scene_pair(tmp_path: Path) -> None:
    """A 3-band uint16 MS (MINISBLACK, pixel-interleaved) with its PAN, read as a Wald-simulated scene."""
    rng = np.random.default_rng(1)
    ms_hwc = rng.integers(1, 2047, (16, 12, 3)).astype(np.uint16)
    pan = rng.integers(1, 2047, (64, 48)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "a_ms.tif", ms_hwc, photometric="minisblack", planarconfig="contig")
    tifffile.imwrite(tmp_path / "a_pan.tif", pan, photometric="minisblack")
    scene = read_tiff_scene(tmp_path / "a_ms.tif", tmp_path / "a_pan.tif")
    assert scene.ratio == 4 and scene.ms.shape == (3, 16, 12) and scene.pan.shape == (1, 64, 48)
    np.testing.assert_array_equal(scene.ms, np.moveaxis(ms_hwc, -1, 0))
    ds = open_scenes_rr(root=tmp_path, path=".", sensor="MyCam3")  # unknown sensor: bands from the file
    assert ds.card.bands == 3
    item = next(ds.items())
    assert item.reference.shape == (3, 16, 12) and item.inputs["ms"].shape == (3, 4, 3)
    np.testing.assert_array_equal(item.reference, np.moveaxis(ms_hwc, -1, 0).astype(np.float64))


def test_planar_and_contiguous_files_read_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    chw = rng.integers(0, 4000, (4, 10, 7)).astype(np.uint16)
    write_raster(tmp_path / "planar.tif", chw)
    tifffile.imwrite(tmp_path / "contig.tif", np.moveaxis(chw, 0, -1), photometric="minisblack", planarconfig="contig")
    np.testing.assert_array_equal(read_raster(tmp_path / "planar.tif"), read_raster(tmp_path / "contig.tif"))
    np.testing.assert_array_equal(read_raster(tmp_path / "planar.tif"), chw)


def test_bad_rasters(tmp_path: Path) -> None:
    (tmp_path / "junk.tif").write_bytes(b"II*\x00 not really a tiff")
    with pytest.raises(DataFormatError, match=r"junk\.tif: not a readable TIFF"):
        read_raster(tmp_path / "junk.tif")
    with pytest.raises(DataFormatError, match="file not found"):
        read_raster(tmp_path / "absent.tif")
    tifffile.imwrite(
        tmp_path / "stack.tif", np.zeros((2, 3, 8, 8), np.uint8), photometric="minisblack", planarconfig="separate"
    )
    with pytest.raises(DataFormatError, match="one band axis at most"):
        read_raster(tmp_path / "stack.tif")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    c=st.integers(1, 5),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    dtype=st.sampled_from([np.uint8, np.uint16, np.int16, np.float32, np.float64]),
    contiguous=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_raster_round_trip(
    tmp_path_factory: pytest.TempPathFactory, c: int, h: int, w: int, dtype: type, contiguous: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    chw = (rng.uniform(0, 200, (c, h, w))).astype(dtype)
    path = tmp_path_factory.mktemp("tif") / "r.tif"
    if contiguous and c > 1:  # what GDAL's default INTERLEAVE=PIXEL produces
        tifffile.imwrite(path, np.moveaxis(chw, 0, -1), photometric="minisblack", planarconfig="contig")
    else:
        write_raster(path, chw)
    got = read_raster(path)
    assert got.shape == (c, h, w) and got.dtype == chw.dtype
    np.testing.assert_array_equal(got, chw)
