""".mat scenes: v5 (scipy) and v7.3 (h5py, reversed axes) round trips; toolbox key conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fusionbench.datasets.builders import pansharpening_item
from fusionbench.datasets.matfiles import load_mat, mat_version, save_mat_v73
from fusionbench.datasets.scenes import SceneFilesDataset, open_scenes_fr, open_scenes_rr, read_mat_scene
from fusionbench.datasets.writers import write_mat_scene
from fusionbench.errors import DataFormatError

FINITE = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arr=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), elements=FINITE),
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool),
    version=st.sampled_from(["v5", "v7.3"]),
)
def test_round_trip_both_versions(
    tmp_path_factory: pytest.TempPathFactory, arr: np.ndarray, text: str, version: str
) -> None:
    path = tmp_path_factory.mktemp("mat") / "x.mat"
    if version == "v7.3":
        save_mat_v73(path, {"A": arr, "sensor": text})
    else:
        scipy.io.savemat(path, {"A": arr, "sensor": text})
    assert mat_version(path) == version
    back = load_mat(path)
    np.testing.assert_array_equal(back["A"], arr)  # MATLAB axis order restored on both paths
    assert back["sensor"] == text


def test_v73_axes_are_reversed_in_the_file(tmp_path: Path) -> None:
    arr = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    save_mat_v73(tmp_path / "x.mat", {"A": arr})
    import h5py

    with h5py.File(tmp_path / "x.mat", "r") as fh:
        assert fh["A"].shape == (4, 3, 2)  # what MATLAB's column-major write looks like to h5py


def _item(bands: int = 4, lr: int = 8, seed: int = 0, gt: bool = True) -> object:
    rng = np.random.default_rng(seed)
    return pansharpening_item(
        "x",
        pan=rng.uniform(0, 2047, (1, 4 * lr, 4 * lr)),
        ms=rng.uniform(0, 2047, (bands, lr, lr)),
        gt=rng.uniform(0, 2047, (bands, 4 * lr, 4 * lr)) if gt else None,
        ratio=4,
    )


@pytest.mark.parametrize("version", ["v5", "v7.3"])
def test_toolbox_scene_round_trip(tmp_path: Path, version: str) -> None:
    item = _item()
    write_mat_scene(tmp_path / "scene.mat", item, version=version, sensor="QB", ratio=4)  # type: ignore[arg-type]
    scene = read_mat_scene(tmp_path / "scene.mat")
    assert scene.sensor == "QB" and scene.ratio == 4
    np.testing.assert_array_equal(scene.ms, item.inputs["ms"])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(scene.lms, item.inputs["lms"])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(scene.gt, item.reference)  # type: ignore[attr-defined]
    ds = open_scenes_rr(root=tmp_path, path="scene.mat")
    assert ds.card.sensor == "QB"
    got = next(ds.items())
    np.testing.assert_array_equal(got.reference, item.reference)  # type: ignore[attr-defined]


def test_grip_convention_i_ms_is_low_resolution(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    scipy.io.savemat(
        tmp_path / "img.mat",
        {
            "I_MS": rng.integers(1, 2047, (8, 8, 4)).astype(np.uint16),
            "I_PAN": rng.integers(1, 2047, (32, 32)).astype(np.uint16),
            "sensor": "IKONOS",
        },
    )
    scene = read_mat_scene(tmp_path / "img.mat")
    assert scene.ms.shape == (4, 8, 8) and scene.lms is None and scene.gt is None


def test_scene_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cases = {
        "no_pan.mat": ({"I_MS_LR": rng.random((8, 8, 4))}, "missing PAN"),
        "mismatch.mat": ({"I_MS_LR": rng.random((7, 7, 4)), "I_PAN": rng.random((32, 32))}, "mismatched PAN/MS sizes"),
        "chfirst.mat": ({"I_MS_LR": rng.random((4, 8, 8)), "I_PAN": rng.random((32, 32))}, "channel-first"),
        "nan.mat": ({"I_MS_LR": np.full((8, 8, 4), np.nan), "I_PAN": rng.random((32, 32))}, "NaN"),
        "only_hr.mat": ({"I_MS": rng.random((32, 32, 4)), "I_PAN": rng.random((32, 32))}, "no low-resolution MS"),
    }
    for name, (values, message) in cases.items():
        scipy.io.savemat(tmp_path / name, values)
        with pytest.raises(DataFormatError, match=message) as err:
            read_mat_scene(tmp_path / name)
        assert name in str(err.value)


def test_wrong_band_count_for_sensor(tmp_path: Path) -> None:
    write_mat_scene(tmp_path / "s.mat", _item(bands=4), sensor="WV3")  # type: ignore[arg-type]
    with pytest.raises(DataFormatError, match="MS has 4 bands, expected 8 for sensor WV3"):
        open_scenes_rr(root=tmp_path, path="s.mat", sensor="WV3")


def test_corrupt_mat(tmp_path: Path) -> None:
    (tmp_path / "bad.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 200)
    with pytest.raises(DataFormatError, match=r"bad\.mat: not a readable \.mat file"):
        load_mat(tmp_path / "bad.mat")
    good = tmp_path / "t.mat"
    save_mat_v73(good, {"A": np.ones((64, 64))})
    good.write_bytes(good.read_bytes()[:700])
    with pytest.raises(DataFormatError, match=r"t\.mat: not a readable MATLAB v7\.3"):
        load_mat(good)


def test_folder_of_scenes_simulates_full_resolution_ones(tmp_path: Path) -> None:
    for k in range(3):
        write_mat_scene(tmp_path / "scenes" / f"s{k}.mat", _item(seed=k, gt=False), sensor="QB")  # type: ignore[arg-type]
    ds = open_scenes_rr(root=tmp_path, path="scenes")
    assert isinstance(ds, SceneFilesDataset) and len(ds) == 3
    item = next(ds.items())
    assert item.extras["simulation"] == "wald"
    assert item.reference.shape == (4, 8, 8) and item.inputs["ms"].shape == (4, 2, 2)
    fr = open_scenes_fr(root=tmp_path, path="scenes")
    assert next(fr.items()).inputs["pan"].shape == (1, 32, 32)


# -- the real samples ----------------------------------------------------------------------------
def test_real_cdif_samples_in_dn(shared_data: Path) -> None:
    wv3 = open_scenes_rr(root=shared_data, path="pansharpening/cdif_WV3_test_RR.mat", sensor="WV3")
    item = next(wv3.items())
    assert item.extras["scale"] == 2047.0
    np.testing.assert_allclose(item.reference, np.round(item.reference), atol=1e-6)  # gt×2047 is integer DN
    assert item.inputs["ms"].shape == (8, 64, 64) and item.inputs["lms"].shape == (8, 256, 256)
    ple = open_scenes_rr(
        root=shared_data, path="pansharpening/cdif_Pleiades_test_RR.mat", sensor="Pleiades", max_value=1023
    )
    item = next(ple.items())
    assert ple.card.max_value == 1023 and ple.card.mtf_gnyq == (0.3,) * 4
    np.testing.assert_allclose(item.reference, np.round(item.reference), atol=1e-6)


def test_real_full_resolution_scenes(shared_data: Path) -> None:
    for path, sensor, bands in (
        ("pansharpening/zpnn_WV3_example_FR.mat", "WV3", 8),
        ("pansharpening/imgWV2_FR.mat", "auto", 8),
        ("pansharpening/grip_imgIK_FR.mat", "auto", 4),
    ):
        ds = open_scenes_fr(root=shared_data, path=path, sensor=sensor)
        assert ds.card.bands == bands
        scene = read_mat_scene(shared_data / path)
        assert scene.gt is None and scene.pan.shape[-1] == 4 * scene.ms.shape[-1]
        assert scene.ms.min() >= 1 and scene.ms.max() <= 2047  # uint16 DN
    item = next(open_scenes_fr(root=shared_data, path="pansharpening/zpnn_WV3_example_FR.mat", sensor="WV3").items())
    assert item.inputs["lms"].shape == (8, 128, 128) and item.reference is None
    assert open_scenes_fr(root=shared_data, path="pansharpening/imgWV2_FR.mat").card.sensor == "WV2"
    assert open_scenes_fr(root=shared_data, path="pansharpening/grip_imgIK_FR.mat").card.mtf_gnyq == (
        0.26,
        0.28,
        0.29,
        0.28,
    )


# -- axis order decided by geometry relative to PAN -------------------------------------------------
def test_more_bands_than_rows_is_a_valid_hwc_scene(tmp_path: Path) -> None:
    """MS 6×7×8 (H×W×C, 8 bands > 6 rows) beside a 24×28 PAN: H×W×C, not "channel-first"."""
    rng = np.random.default_rng(0)
    ms = rng.uniform(1, 2047, (6, 7, 8))
    gt = rng.uniform(1, 2047, (24, 28, 8))
    pan = rng.uniform(1, 2047, (24, 28))
    for version in ("v5", "v7.3"):
        path = tmp_path / version / "tall.mat"
        path.parent.mkdir()
        values = {"I_MS_LR": ms, "I_GT": gt, "I_PAN": pan}
        save_mat_v73(path, values) if version == "v7.3" else scipy.io.savemat(path, values)
        scene = read_mat_scene(path)
        assert scene.ms.shape == (8, 6, 7) and scene.ratio == 4 and scene.gt.shape == (8, 24, 28)
        np.testing.assert_array_equal(scene.ms, np.moveaxis(ms, -1, 0))
        ds = open_scenes_rr(root=path.parent, path="tall.mat", sensor="WV3")
        assert ds.card.bands == 8
        item = next(ds.items())
        np.testing.assert_array_equal(item.inputs["ms"], np.moveaxis(ms, -1, 0))
        np.testing.assert_array_equal(item.reference, np.moveaxis(gt, -1, 0))


def test_channel_first_is_diagnosed_from_geometry(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pan = rng.random((24, 28))
    scipy.io.savemat(tmp_path / "cf.mat", {"I_MS_LR": rng.random((8, 6, 7)), "I_PAN": pan})
    with pytest.raises(
        DataFormatError, match=r"cf\.mat.*'I_MS_LR' has shape \(8, 6, 7\): wrong axis order \(channel-first"
    ):
        read_mat_scene(tmp_path / "cf.mat")
    # many bands, channel-first: the old "first axis <= 16" guess let this one through as 6-band data
    scipy.io.savemat(tmp_path / "cf31.mat", {"I_MS_LR": rng.random((31, 6, 7)), "I_PAN": pan})
    with pytest.raises(DataFormatError, match="channel-first"):
        read_mat_scene(tmp_path / "cf31.mat")
    # a cube that fits both ways is taken in MATLAB order
    scipy.io.savemat(tmp_path / "cube.mat", {"I_MS_LR": rng.random((8, 8, 8)), "I_PAN": rng.random((32, 32))})
    assert read_mat_scene(tmp_path / "cube.mat").ms.shape == (8, 8, 8)
    scipy.io.savemat(
        tmp_path / "gt.mat", {"I_MS_LR": rng.random((6, 7, 4)), "I_GT": rng.random((6, 7, 4)), "I_PAN": pan}
    )
    with pytest.raises(DataFormatError, match=r"'I_GT' has shape \(6, 7, 4\) but PAN is 24×28"):
        read_mat_scene(tmp_path / "gt.mat")


def test_the_sensor_band_count_decides_ambiguous_shapes(tmp_path: Path) -> None:
    """8×16×32 beside a 32×64 PAN fits as H×W×C (32 bands, ratio 4) and as C×H×W (8 bands, ratio 2);
    with sensor=WV3 (8 bands) the card is built from the known band count, so it is channel-first."""
    rng = np.random.default_rng(2)
    scipy.io.savemat(tmp_path / "amb.mat", {"I_MS_LR": rng.random((8, 16, 32)) + 1, "I_PAN": rng.random((32, 64)) + 1})
    assert read_mat_scene(tmp_path / "amb.mat").ms.shape == (32, 8, 16)
    with pytest.raises(DataFormatError, match="wrong axis order"):
        open_scenes_fr(root=tmp_path, path="amb.mat", sensor="WV3")
    assert (
        open_scenes_fr(root=tmp_path, path="amb.mat", sensor="HS32").card.bands == 32
    )  # unknown sensor: the file decides
