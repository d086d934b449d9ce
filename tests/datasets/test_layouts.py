"""Every alternative layout that docs/datasets.md and the catalog promise, written into a temporary
data root as the downloads unpack, and read back through the registered dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fusionbench.datasets import hsi, pairs, pancollection
from fusionbench.datasets.images import read_image
from fusionbench.datasets.writers import write_h5_stacks, write_pair_folders
from fusionbench.testing.synthetic import pan_stacks


def _rgb(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3)).astype(np.float64)


def _grey(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w)).astype(np.float64)


def _open(module: object, name: str, root: Path) -> object:
    return getattr(module.openers, name)(root=root)  # type: ignore[attr-defined]


def _y(rgb: np.ndarray) -> np.ndarray:
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


# -- IVF ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("folders", [("M3FD_Fusion/Ir", "M3FD_Fusion/Vis"), ("Ir", "Vis"), ("ir", "vi")])
def test_m3fd_layouts(tmp_path: Path, folders: tuple[str, str]) -> None:
    rng = np.random.default_rng(0)
    data = [(f"{k:05d}", _grey(rng, 12, 16), _rgb(rng, 12, 16)) for k in range(3)]
    ir_dir, vi_dir = (tmp_path / "ivf" / "M3FD" / f for f in folders)  # folder names match case-insensitively
    write_pair_folders(ir_dir, vi_dir, data)
    ds = _open(pairs, "m3fd", tmp_path)
    assert ds.available_splits() == ("test",) and len(ds) == 3
    items = list(ds.items())
    assert [i.image_id for i in items] == ["00000", "00001", "00002"]
    for item, (_, ir, vi) in zip(items, data):
        np.testing.assert_array_equal(item.inputs["ir"][0], ir)
        np.testing.assert_allclose(item.inputs["vi"][0], _y(vi), atol=1e-3)
        assert item.extras["vi_kind"] == "colour" and item.extras["vi_cbcr"].shape == (2, 12, 16)


def test_llvip_official_layout_with_both_splits(tmp_path: Path) -> None:
    """LLVIP unpacks as infrared/{test,train} + visible/{test,train}, JPEG, IR stored as 3 equal channels."""
    rng = np.random.default_rng(1)
    splits = {"test": ["190001", "190002"], "train": ["010001", "010002", "010003"]}
    for split, stems in splits.items():
        grey_rgb = lambda: np.repeat(_grey(rng, 16, 20)[..., None], 3, axis=-1)  # noqa: E731
        write_pair_folders(
            tmp_path / "ivf/LLVIP/infrared" / split,
            tmp_path / "ivf/LLVIP/visible" / split,
            [(s, grey_rgb(), _rgb(rng, 16, 20)) for s in stems],
            suffix=".jpg",
        )
    ds = _open(pairs, "llvip", tmp_path)
    assert ds.available_splits() == ("test", "train")
    assert ds.n_items("test") == 2 and ds.n_items("train") == 3
    assert [i.image_id for i in ds.items("train")] == splits["train"]
    item = ds.get("test", 1)
    assert item.image_id == "190002"
    ir_file = tmp_path / "ivf/LLVIP/infrared/test/190002.jpg"
    vi_file = tmp_path / "ivf/LLVIP/visible/test/190002.jpg"
    assert item.extras["source"] == {"ir": str(ir_file), "vi": str(vi_file)}
    assert item.extras["ir_kind"] == "grey-in-rgb"  # the JPEG's three equal channels, handed out exactly
    np.testing.assert_array_equal(item.inputs["ir"][0], read_image(ir_file)[..., 0])
    np.testing.assert_allclose(item.inputs["vi"][0], _y(read_image(vi_file)), atol=1e-3)
    assert ds.sources("train")[0] == tmp_path / "ivf/LLVIP/infrared/train/010001.jpg"


def test_roadscene_original_folder_names(tmp_path: Path) -> None:
    """hanna-xu/RoadScene: cropinfrared/ (grey) + crop_HR_visible/ (colour), FLIR_xxxxx.jpg."""
    rng = np.random.default_rng(2)
    stems = ["FLIR_00006", "FLIR_00018"]
    base = tmp_path / "ivf/roadscene"
    (base / "cropinfrared").mkdir(parents=True)
    (base / "crop_HR_visible").mkdir(parents=True)
    for stem in stems:
        Image.fromarray(_grey(rng, 14, 18).astype(np.uint8)).save(base / "cropinfrared" / f"{stem}.jpg")
        Image.fromarray(_rgb(rng, 14, 18).astype(np.uint8)).save(base / "crop_HR_visible" / f"{stem}.jpg")
    ds = _open(pairs, "roadscene", tmp_path)
    items = list(ds.items())
    assert [i.image_id for i in items] == stems
    ir = read_image(base / "cropinfrared/FLIR_00018.jpg")
    vi = read_image(base / "crop_HR_visible/FLIR_00018.jpg")
    np.testing.assert_array_equal(items[1].inputs["ir"][0], ir)
    np.testing.assert_allclose(items[1].inputs["vi"][0], _y(vi), atol=1e-3)
    # the short names win when both are present (first candidate), and are found case-insensitively
    write_pair_folders(base / "IR", base / "VI", [("only", _grey(rng, 4, 4), _grey(rng, 4, 4))])
    assert [i.image_id for i in _open(pairs, "roadscene", tmp_path).items()] == ["only"]


@pytest.mark.parametrize("other", ["CT", "PET", "SPECT"])
def test_harvard_medical_under_mif_harvard(tmp_path: Path, other: str) -> None:
    rng = np.random.default_rng(3)
    colour = other != "CT"
    data = [(str(k), _grey(rng, 16, 16), _rgb(rng, 16, 16) if colour else _grey(rng, 16, 16)) for k in (11, 12)]
    write_pair_folders(tmp_path / f"mif/harvard/MRI_{other}/MRI", tmp_path / f"mif/harvard/MRI_{other}/{other}", data)
    ds = _open(pairs, f"harvard-mri-{other.lower()}", tmp_path)
    items = list(ds.items())
    assert [i.image_id for i in items] == ["11", "12"] and set(items[0].inputs) == {"mri", "other"}
    np.testing.assert_array_equal(items[0].inputs["mri"][0], data[0][1])
    assert ("other_cbcr" in items[0].extras) == colour
    if not colour:
        np.testing.assert_array_equal(items[0].inputs["other"][0], data[0][2])


# -- PanCollection: training and validation splits ---------------------------------------------------
@pytest.mark.parametrize(
    ("sensor", "bands", "peak", "valid_name"),
    [
        ("wv3", 8, 2047.0, "valid_wv3.h5"),
        ("gf2", 4, 1023.0, "valid_gf2_19809.h5"),
        ("qb", 4, 2047.0, "valid_qb_17139.h5"),
    ],
)
def test_pancollection_train_and_valid_splits(
    tmp_path: Path, sensor: str, bands: int, peak: float, valid_name: str
) -> None:
    folder = tmp_path / "pansharpening" / sensor.upper()
    train = pan_stacks(n=6, bands=bands, lr=4, seed=1, max_value=peak)
    valid = pan_stacks(n=2, bands=bands, lr=4, seed=2, max_value=peak)
    write_h5_stacks(folder / f"train_{sensor}.h5", train)
    write_h5_stacks(folder / valid_name, valid)
    ds = _open(pancollection, f"{sensor}-rr", tmp_path)
    assert ds.available_splits() == ("train", "valid")  # no test file: the other splits still work
    assert ds.n_items("train") == 6 and ds.n_items("valid") == 2
    assert ds.sources("valid") == [folder / valid_name]
    item = ds.get("train", 4)
    assert item.image_id == "04"
    for key in ("ms", "lms", "pan"):
        np.testing.assert_array_equal(item.inputs[key], train[key][4])
    np.testing.assert_array_equal(item.reference, train["gt"][4])
    assert item.inputs["ms"].shape == (bands, 4, 4) and item.inputs["pan"].shape == (1, 16, 16)
    assert ds.card.max_value == peak
    np.testing.assert_array_equal(ds.get("valid", -1).inputs["ms"], valid["ms"][1])
    assert ds.content_sha256("train") != ds.content_sha256("valid")


def test_pancollection_download_tree_with_validation_file(tmp_path: Path) -> None:
    base = tmp_path / "PanCollection" / "training_data" / "wv3"
    write_h5_stacks(base / "valid_wv3_1080.h5", pan_stacks(n=3, lr=2))
    ds = _open(pancollection, "wv3-rr", tmp_path)
    assert ds.available_splits() == ("valid",) and ds.n_items("valid") == 3


# -- MHIF: CAVE / Harvard training and validation splits ----------------------------------------------
def _hsi(n: int, hr: int, ratio: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "GT": rng.random((n, 31, hr, hr)),
        "LRHSI": rng.random((n, 31, hr // ratio, hr // ratio)),
        "RGB": rng.random((n, 3, hr, hr)),
        "HSI_up": rng.random((n, 31, hr, hr)),
    }


@pytest.mark.parametrize(
    ("name", "folder", "ratio", "files"),
    [
        ("cave-x4", "cave", 4, {"train": "train_cave(with_up)x4.h5", "valid": "validation_cave(with_up)x4.h5"}),
        ("cave-x8", "cave", 8, {"train": "train_cave(with_up)x8_rgb.h5", "valid": "validation_cave(with_up)x8_rgb.h5"}),
        ("harvard-x4", "harvard", 4, {"train": "train_harvard(with_up)x4.h5"}),
    ],
)
def test_hsi_train_and_valid_splits(tmp_path: Path, name: str, folder: str, ratio: int, files: dict[str, str]) -> None:
    written = {}
    for k, (split, file_name) in enumerate(files.items()):
        written[split] = _hsi(n=3 + k, hr=2 * ratio, ratio=ratio, seed=k)
        write_h5_stacks(tmp_path / "mhif" / folder / file_name, written[split])
    ds = _open(hsi, name, tmp_path)
    assert ds.available_splits() == tuple(files)
    for split, stacks in written.items():
        assert ds.n_items(split) == len(stacks["GT"])
        item = ds.get(split, 2)
        np.testing.assert_array_equal(item.reference, stacks["GT"][2])
        np.testing.assert_array_equal(item.inputs["lrhsi"], stacks["LRHSI"][2])
        np.testing.assert_array_equal(item.inputs["hrmsi"], stacks["RGB"][2])
        np.testing.assert_array_equal(item.inputs["hsi_up"], stacks["HSI_up"][2])
        assert item.extras["rgb_order"] == ("bgr" if folder == "cave" else "rgb")
        assert ds.sources(split) == [tmp_path / "mhif" / folder / files[split]]
