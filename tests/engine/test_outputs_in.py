"""Reading saved outputs: layout from geometry (property-tested), matching rules, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.engine.outputs_in import OutputsError, load_outputs, match_files, natural_key, split_stack, to_chw

dims = st.integers(min_value=1, max_value=6)


@settings(max_examples=60, deadline=None)
@given(c=dims, h=dims, w=dims)
def test_layout_comes_from_geometry(c: int, h: int, w: int) -> None:
    chw = np.arange(c * h * w, dtype=np.float64).reshape(c, h, w)
    hwc = np.moveaxis(chw, 0, -1)
    ambiguous = (c, h, w) == (h, w, c) and not (c == 1 or h == w == 1)
    if ambiguous:
        with pytest.raises(OutputsError, match="fits both"):
            to_chw(hwc, (c, h, w), "x")
        return
    np.testing.assert_array_equal(to_chw(chw, (c, h, w), "x"), chw)
    np.testing.assert_array_equal(to_chw(hwc, (c, h, w), "x"), chw)
    stack = np.stack([chw, chw + 1])
    for layout in (stack, np.moveaxis(stack, 1, -1)):
        got = split_stack(layout, 2, (c, h, w), "s")
        np.testing.assert_array_equal(got[1], chw + 1)


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(OutputsError, match=r"shape \(3, 4, 4\)"):
        to_chw(np.zeros((3, 4, 4)), (4, 4, 5), "f.npy (item a)")


def _files(tmp_path: Path, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        (tmp_path / name).write_bytes(b"")
        out.append(tmp_path / name)
    return out


def test_matching_by_id_order_and_glob(tmp_path: Path) -> None:
    files = _files(tmp_path, ["out_10.npy", "out_2.npy", "out_1.npy"])
    pairs, how, text = match_files(files, ["a", "b", "c"], None, tmp_path)
    assert how == "order" and [pairs[i].name for i in "abc"] == ["out_1.npy", "out_2.npy", "out_10.npy"]
    assert "sorted order" in text
    vifb = _files(tmp_path, ["man_GFF.jpg", "manCall_GFF.jpg"])
    pairs, how, _ = match_files(vifb, ["man", "manCall"], "*_GFF.jpg", tmp_path)
    assert how == "id" and pairs["man"].name == "man_GFF.jpg"
    with pytest.raises(OutputsError, match="missing items"):
        match_files(_files(tmp_path, ["x.npy", "zz.npy"]), ["x", "y"], None, tmp_path)
    with pytest.raises(OutputsError, match="two files for item 'x'"):
        match_files(_files(tmp_path, ["x.npy", "x.png"]), ["x"], None, tmp_path)
    with pytest.raises(OutputsError, match="sort alike"):
        match_files(_files(tmp_path, ["1.npy", "01.npy"]), ["a", "b"], None, tmp_path)
    assert natural_key("a2") < natural_key("a10")


def test_load_outputs_validates_before_returning(tmp_path: Path) -> None:
    good = np.full((2, 3, 3), 100.0)
    np.save(tmp_path / "a.npy", good)
    bad = good.copy()
    bad[1, 1, 1] = np.inf
    np.save(tmp_path / "b.npy", bad)
    with pytest.raises(OutputsError, match=r"b\.npy \(item b\): 1 non-finite"):
        load_outputs(tmp_path, ["a", "b"], {"a": (2, 3, 3), "b": (2, 3, 3)}, max_value=2047.0)
    np.save(tmp_path / "b.npy", good)
    loaded = load_outputs(tmp_path, ["a", "b"], {"a": (2, 3, 3), "b": (2, 3, 3)}, max_value=2047.0)
    assert loaded.matched_by == "id" and len(loaded.file_sha256) == 2
    with pytest.raises(OutputsError, match="--scale 2047"):
        load_outputs(tmp_path, ["a", "b"], {"a": (2, 3, 3), "b": (2, 3, 3)}, scale=1 / 2047, max_value=2047.0)
    assert loaded.content_sha256(["a", "b"]) != loaded.content_sha256(["b", "a"])


def test_mat_outputs_written_by_run_read_back(tmp_path: Path) -> None:
    """``--save-outputs-format mat`` files (key ``sr``, H×W×C) are read back exactly."""
    from fusionbench.engine.outputs_out import _mat_bytes

    chw = np.random.default_rng(0).uniform(0, 2047, (4, 6, 5))
    (tmp_path / "img-0.mat").write_bytes(_mat_bytes(chw))
    loaded = load_outputs(tmp_path, ["img-0"], {"img-0": (4, 6, 5)}, max_value=2047.0)
    np.testing.assert_array_equal(loaded.arrays["img-0"], chw)
