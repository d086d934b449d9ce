"""IVF/MIF pair folders: written in each layout, read back; colour handling; the real samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from fusionbench.datasets.catalog import CATALOG
from fusionbench.datasets.images import restore_colour, to_luminance
from fusionbench.datasets.pairs import open_custom_ivf, open_custom_mif, openers
from fusionbench.datasets.writers import write_pair_folders
from fusionbench.errors import DataFormatError, DatasetUnavailable


def _rgb(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3)).astype(np.float64)


def test_grey_ir_and_colour_vi(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ir = rng.integers(0, 256, (24, 32)).astype(np.float64)
    vi = _rgb(rng, 24, 32)
    write_pair_folders(tmp_path / "ivf/tno/ir", tmp_path / "ivf/tno/vi", [("07", ir, vi)])
    ds = openers.tno(root=tmp_path)
    item = next(ds.items())
    assert item.image_id == "07" and item.inputs["ir"].dtype == np.float32
    np.testing.assert_array_equal(item.inputs["ir"][0], ir)
    y = 0.299 * vi[..., 0] + 0.587 * vi[..., 1] + 0.114 * vi[..., 2]
    np.testing.assert_allclose(item.inputs["vi"][0], y, atol=1e-3)
    assert item.extras["vi_kind"] == "colour" and item.extras["colour"]["delta"] == 128.0
    back = restore_colour(item.inputs["vi"], item.extras["vi_cbcr"])
    np.testing.assert_allclose(np.moveaxis(back, 0, -1), vi, atol=0.6)  # OpenCV's 3-decimal inverse


def test_grey_stored_as_rgb_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    g = rng.integers(0, 256, (16, 16)).astype(np.float64)
    lum = to_luminance(np.stack([g, g, g], -1))
    assert lum.kind == "grey-in-rgb" and lum.cbcr is None
    np.testing.assert_array_equal(lum.y[0], g)


def test_medical_colour_field_keeps_cbcr(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    write_pair_folders(
        tmp_path / "mif/MRI_PET/MRI",
        tmp_path / "mif/MRI_PET/PET",
        [("11", rng.integers(0, 256, (8, 8)), _rgb(rng, 8, 8))],
    )
    item = next(openers.__getattr__("harvard-mri-pet")(root=tmp_path).items())
    assert set(item.inputs) == {"mri", "other"} and item.extras["other_cbcr"].shape == (2, 8, 8)


def test_msrs_official_layout_and_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for split, stems in (("test", ["00001N", "00002D"]), ("train", ["00003D"])):
        write_pair_folders(
            tmp_path / f"ivf/MSRS/{split}/ir",
            tmp_path / f"ivf/MSRS/{split}/vi",
            [(s, rng.integers(0, 256, (8, 8)), _rgb(rng, 8, 8)) for s in stems],
        )
    ds = openers.msrs(root=tmp_path)
    assert ds.n_items("test") == 2 and ds.n_items("train") == 1
    assert [i.image_id for i in ds.items("test")] == ["00001N", "00002D"]


def test_unpaired_images_are_an_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    write_pair_folders(
        tmp_path / "ivf/tno/ir",
        tmp_path / "ivf/tno/vi",
        [("1", rng.integers(0, 256, (8, 8)), rng.integers(0, 256, (8, 8)))],
    )
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "ivf/tno/ir/2.png")
    with pytest.raises(DataFormatError, match=r"unpaired images: 1 in .*ivf/tno/ir have no partner.*\['2'\]"):
        len(openers.tno(root=tmp_path))


def test_size_mismatch_names_both_files(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(_mk(tmp_path / "ivf/tno/ir") / "1.png")
    Image.fromarray(np.zeros((8, 9), np.uint8)).save(_mk(tmp_path / "ivf/tno/vi") / "1.png")
    with pytest.raises(DataFormatError, match=r"ir/1\.png \+ .*vi/1\.png: sizes differ"):
        next(openers.tno(root=tmp_path).items())


def test_corrupt_image(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(_mk(tmp_path / "ivf/tno/ir") / "1.png")
    (_mk(tmp_path / "ivf/tno/vi") / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataFormatError, match=r"vi/1\.png: not a readable image"):
        next(openers.tno(root=tmp_path).items())


def test_duplicate_stems(tmp_path: Path) -> None:
    for ext in (".png", ".jpg"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(_mk(tmp_path / "ivf/tno/ir") / f"1{ext}")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(_mk(tmp_path / "ivf/tno/vi") / "1.png")
    with pytest.raises(DataFormatError, match="two images share the stem '1'"):
        len(openers.tno(root=tmp_path))


def test_absent_dataset_message(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as err:
        openers.m3fd(root=tmp_path)
    assert str(tmp_path / "ivf/m3fd/M3FD_Fusion/Ir") in str(err.value) and "TarDAL" in str(err.value)


def test_custom_pairs(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    write_pair_folders(
        tmp_path / "a", tmp_path / "b", [("x", rng.integers(0, 256, (8, 8)), rng.integers(0, 256, (8, 8)))]
    )
    assert len(open_custom_ivf(root=tmp_path, ir="a", vi="b")) == 1
    assert set(next(open_custom_mif(root=tmp_path, mri="a", other="b").items()).inputs) == {"mri", "other"}


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    colour=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_hypothesis_png_round_trip(
    tmp_path_factory: pytest.TempPathFactory, n: int, h: int, w: int, colour: bool, seed: int
) -> None:
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(seed)
    pairs = [
        (
            f"{k:03d}",
            rng.integers(0, 256, (h, w)).astype(np.float64),
            _rgb(rng, h, w) if colour else rng.integers(0, 256, (h, w)).astype(np.float64),
        )
        for k in range(n)
    ]
    write_pair_folders(root / "ivf/roadscene/ir", root / "ivf/roadscene/vi", pairs)
    items = list(openers.roadscene(root=root).items())
    assert [i.image_id for i in items] == [p[0] for p in pairs]
    for item, (_, ir, vi) in zip(items, pairs):
        np.testing.assert_array_equal(item.inputs["ir"][0], ir)
        if vi.ndim == 2 or item.extras["vi_kind"] != "colour":
            np.testing.assert_array_equal(item.inputs["vi"][0], vi if vi.ndim == 2 else vi[..., 0])
        else:
            back = restore_colour(item.inputs["vi"], item.extras["vi_cbcr"])
            np.testing.assert_allclose(np.moveaxis(back, 0, -1), vi, atol=0.6)


# -- the real samples ----------------------------------------------------------------------------
REAL_COUNTS = {
    "tno": 6,
    "roadscene": 12,
    "msrs": 3,
    "llvip": 3,
    "vifb": 21,
    "harvard-mri-ct": 6,
    "harvard-mri-pet": 6,
    "harvard-mri-spect": 6,
}


@pytest.mark.parametrize("name", sorted(REAL_COUNTS))
def test_real_samples(shared_data: Path, name: str) -> None:
    ds = openers.__getattr__(name)(root=shared_data)
    assert len(ds) == REAL_COUNTS[name]
    entry = CATALOG[name]
    item = ds.get("test", 0)
    a, b = entry.fields
    assert item.inputs[a].shape == item.inputs[b].shape and item.inputs[a].shape[0] == 1
    assert 0 <= item.inputs[b].min() and item.inputs[b].max() <= 255.5
    colour_expected = name in ("roadscene", "msrs", "llvip", "vifb", "harvard-mri-pet", "harvard-mri-spect")
    assert (f"{b}_cbcr" in item.extras) == colour_expected
    assert len(ds.content_sha256()) == 64


def test_environment_variable_points_at_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    write_pair_folders(
        tmp_path / "ivf/tno/ir",
        tmp_path / "ivf/tno/vi",
        [("1", rng.integers(0, 256, (8, 8)), rng.integers(0, 256, (8, 8)))],
    )
    monkeypatch.setenv("FUSIONBENCH_DATA", str(tmp_path))
    assert len(openers.tno(root=None)) == 1
    with pytest.raises(DatasetUnavailable, match=str(tmp_path / "elsewhere")):
        openers.tno(root=tmp_path / "elsewhere")  # an explicit root wins over the variable
