"""CAVE/Harvard MHIF HDF5 files in the Deng-group layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusionbench.datasets.hsi import openers
from fusionbench.datasets.writers import write_h5_stacks
from fusionbench.errors import DataFormatError, DatasetUnavailable


def _stacks(n: int = 2, bands: int = 31, hr: int = 16, ratio: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "GT": rng.random((n, bands, hr, hr)),
        "LRHSI": rng.random((n, bands, hr // ratio, hr // ratio)),
        "RGB": rng.random((n, 3, hr, hr)),
        "HSI_up": rng.random((n, bands, hr, hr)),
    }


def test_cave_round_trip_and_bgr_note(tmp_path: Path) -> None:
    stacks = _stacks()
    write_h5_stacks(tmp_path / "mhif/cave/test_cave(with_up)x4.h5", stacks)
    ds = openers.__getattr__("cave-x4")(root=tmp_path)
    assert ds.card.bands == 31 and ds.card.ratio == 4 and ds.card.max_value == 1.0
    assert ds.card.extra["rgb_order"] == "bgr"
    item = ds.get("test", 1)
    np.testing.assert_array_equal(item.inputs["hrmsi"], stacks["RGB"][1])
    np.testing.assert_array_equal(item.inputs["lrhsi"], stacks["LRHSI"][1])
    np.testing.assert_array_equal(item.inputs["hsi_up"], stacks["HSI_up"][1])
    np.testing.assert_array_equal(item.reference, stacks["GT"][1])
    assert item.extras["rgb_order"] == "bgr"


def test_x8_and_missing_hsi_up_is_interpolated(tmp_path: Path) -> None:
    stacks = _stacks(hr=32, ratio=8)
    del stacks["HSI_up"]
    write_h5_stacks(tmp_path / "mhif/cave/test_cave(with_up)x8_rgb.h5", stacks)
    item = next(openers.__getattr__("cave-x8")(root=tmp_path).items())
    assert item.inputs["hsi_up"].shape == (31, 32, 32) and item.extras["hsi_up_source"] == "interp23tap"


def test_harvard_is_rgb_and_absent_split_is_explained(tmp_path: Path) -> None:
    write_h5_stacks(tmp_path / "mhif/harvard/test_harvard(with_up)x4.h5", _stacks(n=1))
    ds = openers.__getattr__("harvard-x4")(root=tmp_path)
    assert ds.card.extra["rgb_order"] == "rgb"
    with pytest.raises(DatasetUnavailable, match=r"train_harvard"):
        ds.n_items("train")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("RGB"), "missing dataset 'RGB'"),
        (lambda s: s.__setitem__("LRHSI", s["LRHSI"][:, :30]), "wrong band count: 30 instead of 31"),
        (lambda s: s.__setitem__("LRHSI", s["LRHSI"][..., :3, :3]), "mismatched sizes"),
        (lambda s: s.__setitem__("RGB", np.moveaxis(s["RGB"], 1, -1).copy()), "wrong axis order"),
    ],
)
def test_bad_files(tmp_path: Path, mutate: object, message: str) -> None:
    stacks = _stacks()
    mutate(stacks)  # type: ignore[operator]
    write_h5_stacks(tmp_path / "mhif/cave/test_cave(with_up)x4.h5", stacks)
    with pytest.raises(DataFormatError, match=message):
        len(openers.__getattr__("cave-x4")(root=tmp_path))


def test_nan_in_hsi(tmp_path: Path) -> None:
    stacks = _stacks()
    stacks["GT"][0, 5, 2, 2] = np.inf
    write_h5_stacks(tmp_path / "mhif/cave/test_cave(with_up)x4.h5", stacks)
    with pytest.raises(DataFormatError, match=r"\[index 0\].*'gt' has 1 infinite"):
        openers.__getattr__("cave-x4")(root=tmp_path).get("test", 0)
