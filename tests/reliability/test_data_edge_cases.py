"""Data that would be scored wrongly, or crash with a raw message, is refused with one line naming
the file and the fault — the same through the reader, ``fusionbench datasets check`` and
``fusionbench run``.

The HDF5 cases go through ``custom-h5-rr`` (suite ``reduced-res``, model ``exp``), the image cases
through ``custom-pairs-ivf`` (suite ``ivf``, model ``average``): both read the user's own files and
share their readers with the catalog datasets. Everything runs in this process (click's runner),
which keeps a case to about a second.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fusionbench.cli import cli
from fusionbench.datasets.builders import pair_item, pansharpening_item
from fusionbench.datasets.checks import validate_item
from fusionbench.datasets.pairs import open_custom_ivf
from fusionbench.datasets.pancollection import open_custom_rr
from fusionbench.errors import DataFormatError
from fusionbench.specs import DataCard

from .conftest import FAST

SIZE = 32  # PAN/GT side: the smallest image the reduced-resolution metrics accept
WV3_MAX = 2047.0


# -- files ----------------------------------------------------------------------------------------
def _pan_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One plausible WV3 sample in DN: gt/lms/pan at SIZE, ms at SIZE/4."""
    low = SIZE // 4
    return {
        "gt": rng.uniform(100, 2000, (1, 8, SIZE, SIZE)),
        "ms": rng.uniform(100, 2000, (1, 8, low, low)),
        "lms": rng.uniform(100, 2000, (1, 8, SIZE, SIZE)),
        "pan": rng.uniform(100, 2000, (1, 1, SIZE, SIZE)),
    }


def _write_h5(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as fh:
        for key, value in arrays.items():
            fh.create_dataset(key, data=value)
    return path


def h5_external_link(folder: Path) -> Path:
    """'pan' is a link into another file, whose bytes the content hash never sees."""
    arrays = _pan_arrays(np.random.default_rng(1))
    _write_h5(folder / "pan_source.h5", {"pan": arrays.pop("pan")})
    path = _write_h5(folder / "linked.h5", arrays)
    with h5py.File(path, "a") as fh:
        fh["pan"] = h5py.ExternalLink("pan_source.h5", "/pan")
    return path


def h5_virtual(folder: Path) -> Path:
    """'pan' is a virtual dataset mapping another file's pixels."""
    arrays = _pan_arrays(np.random.default_rng(2))
    source = _write_h5(folder / "pan_source.h5", {"pan": arrays.pop("pan")})
    path = _write_h5(folder / "virtual.h5", arrays)
    layout = h5py.VirtualLayout(shape=(1, 1, SIZE, SIZE), dtype="f8")
    layout[...] = h5py.VirtualSource(str(source), "pan", shape=(1, 1, SIZE, SIZE))
    with h5py.File(path, "a") as fh:
        fh.create_virtual_dataset("pan", layout)
    return path


def h5_complex(folder: Path) -> Path:
    arrays = _pan_arrays(np.random.default_rng(3))
    arrays["ms"] = arrays["ms"] * (1 + 1j)
    return _write_h5(folder / "complex.h5", arrays)


def h5_zero_size(folder: Path) -> Path:
    return _write_h5(
        folder / "empty.h5", {key: np.zeros((1, c, 0, 0)) for key, c in (("gt", 8), ("ms", 8), ("lms", 8), ("pan", 1))}
    )


def h5_negative(folder: Path) -> Path:
    """Signed data: half of 'ms' far below zero (Q2n would clip it to 0 and score it kindly)."""
    arrays = _pan_arrays(np.random.default_rng(4))
    arrays["ms"][:, :4] -= 3000.0
    return _write_h5(folder / "negative.h5", arrays)


def h5_huge_claim(folder: Path) -> Path:
    """A 2 KB file whose header claims 8.75 TiB per sample (chunked, nothing written)."""
    side = 2**18
    path = folder / "huge.h5"
    with h5py.File(path, "w") as fh:
        for key, channels, s in (("gt", 8, side), ("ms", 8, side // 4), ("lms", 8, side), ("pan", 1, side)):
            fh.create_dataset(key, shape=(1, channels, s, s), dtype="f8", chunks=(1, 1, 64, 64))
    return path


def _grey_png(path: Path) -> Path:
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (40, 40), dtype=np.uint8)).save(path)
    return path


def png_16bit(path: Path) -> None:
    Image.fromarray((np.arange(40 * 40).reshape(40, 40) * 40).astype(np.uint16)).save(path.with_suffix(".png"))


def tiff_float(path: Path) -> None:
    Image.fromarray(np.random.default_rng(6).random((40, 40), dtype=np.float32)).save(path.with_suffix(".tif"))


def png_bomb(path: Path) -> None:
    """A valid 60-byte PNG header claiming 20000×20000 pixels (Pillow refuses more than ~179 M)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    side = 20000
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    body = chunk(b"IDAT", zlib.compress(b"\0" * (side + 1))) + chunk(b"IEND", b"")
    path.with_suffix(".png").write_bytes(b"\x89PNG\r\n\x1a\n" + header + body)


def ivf_pair(folder: Path, write_ir: Callable[[Path], None]) -> tuple[Path, Path]:
    """Folders ir/ and vi/ holding one pair ``a``: an ordinary 8-bit visible image and the IR made by ``write_ir``."""
    ir, vi = folder / "ir", folder / "vi"
    ir.mkdir()
    vi.mkdir()
    write_ir(ir / "a")
    _grey_png(vi / "a.png")
    return ir, vi


H5_CASES = {
    "external-link": (h5_external_link, "dataset 'pan' is an external link to pan_source.h5"),
    "virtual-dataset": (h5_virtual, "dataset 'pan' is a virtual dataset"),
    "complex": (h5_complex, "dataset 'ms' holds complex numbers (complex128)"),
    "zero-size": (h5_zero_size, "dataset 'gt' has shape (1, 8, 0, 0): its images have no pixels"),
    "negative": (h5_negative, "field 'ms' has 256 value(s) below -511.75"),
    "claims-9-TiB": (h5_huge_claim, "one sample would take 8.8 TiB in memory"),
}
IMAGE_CASES = {
    "16-bit-png": (png_16bit, "a.png: a 16-bit image (Pillow mode I;16, values 0..63960)"),
    "float-tiff": (tiff_float, "a.tif: a floating-point image (Pillow mode F"),
    "decompression-bomb": (png_bomb, "a.png: refused, the image claims more pixels than Pillow's safety limit"),
}


def _one_line(text: str, fragment: str) -> str:
    lines = [line for line in text.splitlines() if fragment in line]
    assert len(lines) == 1, f"expected one line with {fragment!r}:\n{text}"
    assert "Traceback" not in text
    return lines[0]


# -- the reader -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", H5_CASES)
def test_h5_reader_refuses(case: str, tmp_path: Path) -> None:
    make, message = H5_CASES[case]
    path = make(tmp_path)
    with pytest.raises(DataFormatError) as refused:
        open_custom_rr(path=str(path)).get("test", 0)
    assert str(refused.value).startswith(str(path)) and message in str(refused.value)


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image_reader_refuses(case: str, tmp_path: Path) -> None:
    write_ir, message = IMAGE_CASES[case]
    ir, vi = ivf_pair(tmp_path, write_ir)
    with pytest.raises(DataFormatError, match="^" + str(ir)) as refused:
        open_custom_ivf(ir=str(ir), vi=str(vi)).get("test", 0)
    assert message in str(refused.value)


# -- the commands ---------------------------------------------------------------------------------
def _h5_case(case: str, folder: Path) -> tuple[str, list[str], str, list[str], str]:
    make, message = H5_CASES[case]
    path = make(folder)
    selection = f"custom-h5-rr[path={path}]"
    return "custom-h5-rr", ["-p", f"path={path}", "--no-wald"], "reduced-res", ["-m", "exp", "-d", selection], message


def _image_case(case: str, folder: Path) -> tuple[str, list[str], str, list[str], str]:
    write_ir, message = IMAGE_CASES[case]
    ir, vi = ivf_pair(folder, write_ir)
    selection = f"custom-pairs-ivf[ir={ir},vi={vi}]"
    return "custom-pairs-ivf", ["-p", f"ir={ir}", "-p", f"vi={vi}"], "ivf", ["-m", "average", "-d", selection], message


COMMAND_CASES = [*((_h5_case, c) for c in H5_CASES), *((_image_case, c) for c in IMAGE_CASES)]


@pytest.mark.parametrize("build, case", COMMAND_CASES, ids=[c for _, c in COMMAND_CASES])
def test_check_and_run_refuse_alike(build, case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    data = tmp_path / "data"
    data.mkdir()
    dataset, check_params, suite, selection, message = build(case, data)

    check = CliRunner().invoke(cli, ["datasets", "check", dataset, *check_params, "--limit", "1"])
    assert check.exit_code == 1, check.output
    line = _one_line(check.stderr, message)
    assert line.startswith(f"error: {dataset} [test]: {data}")

    results = tmp_path / "results"
    run = CliRunner().invoke(cli, ["run", "--suite", suite, *selection, *FAST, "--results", str(results)])
    assert run.exit_code == 1, run.output
    line = _one_line(run.stdout, message)
    assert line.startswith("failed ") and f"DataFormatError: {data}" in line


# -- the rules ------------------------------------------------------------------------------------
def _pan_item(ms_low: float) -> object:
    arrays = {k: v[0] for k, v in _pan_arrays(np.random.default_rng(7)).items()}
    arrays["ms"][0, 0, 0] = ms_low
    return pansharpening_item("00", pan=arrays["pan"], ms=arrays["ms"], lms=arrays["lms"], gt=arrays["gt"], ratio=4)


def test_small_negatives_from_resampling_pass_and_large_ones_are_refused() -> None:
    """The documented rule: values down to -25 % of max_value pass (interpolation undershoot)."""
    card = DataCard(sensor="WV3", ratio=4, bands=8, max_value=WV3_MAX)
    validate_item(_pan_item(-0.2 * WV3_MAX), "pansharpening", card, "scene")
    with pytest.raises(DataFormatError, match=r"scene \[00\]: field 'ms' has 1 value\(s\) below -511.75"):
        validate_item(_pan_item(-0.3 * WV3_MAX), "pansharpening", card, "scene")


def test_interpolation_undershoot_of_full_range_edges_passes() -> None:
    """The worst realistic undershoot (a one-pixel bright line and a step, 0 to max_value, in
    ``ms``) through the 23-tap interpolator that makes ``lms`` stays inside the rule."""
    low = SIZE // 4
    ms = np.zeros((8, low, low))
    ms[:4, :, low // 2] = WV3_MAX  # a bright line on black
    ms[4:, :, low // 2 :] = WV3_MAX  # a step
    pan = np.full((1, SIZE, SIZE), 500.0)
    item = pansharpening_item("00", pan=pan, ms=ms, ratio=4)
    assert item.inputs["lms"].min() < -0.1 * WV3_MAX  # the undershoot is real...
    card = DataCard(sensor="WV3", ratio=4, bands=8, max_value=WV3_MAX)
    validate_item(item, "pansharpening", card, "scene")  # ...and allowed


def test_an_empty_image_from_any_reader_is_refused() -> None:
    """validate_item guards every reader (plugins' too), not only the HDF5 stacks."""
    empty = np.zeros((0, 7), dtype=np.float32)
    item = pair_item("a", fields=("ir", "vi"), a=empty, b=empty)
    with pytest.raises(DataFormatError, match=r"field 'ir' has shape \(1, 0, 7\): the image has no pixels"):
        validate_item(item, "ivf", DataCard(sensor="x", max_value=255.0), "pair")
