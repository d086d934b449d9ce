"""MATLAB ``.mat`` files: v4/v5/v7 through scipy, v7.3 (HDF5) through h5py.

Both paths return the same thing — a dict of NumPy arrays in MATLAB's axis order (H×W×C) and
Python strings for char arrays — so callers never care which version a file is. The v7.3 path
reverses the axes h5py reports (MATLAB writes column-major: a MATLAB ``H×W×C`` array appears to
h5py as ``C×W×H``), as MATLAB's ``h5read`` returns them transposed).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError

V73_SIGNATURE = b"MATLAB 7.3"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def mat_version(path: Path) -> str:
    """``"v7.3"`` for HDF5-based files, ``"v5"`` for the classic format (v4 also reads as "v5")."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except FileNotFoundError:
        raise DataFormatError(f"{path}: file not found") from None
    if head.startswith(V73_SIGNATURE) or _HDF5_MAGIC in head[:8] or head[512:520] == _HDF5_MAGIC:
        return "v7.3"
    return "v5"


def load_mat(path: str | Path, variables: Iterable[str] | None = None) -> dict[str, Any]:
    """Read the variables of a .mat file (all, or only ``variables`` when given).

    Raises :class:`DataFormatError` naming the file for unreadable, truncated or corrupt files.
    """
    path = Path(path)
    names = list(variables) if variables is not None else None
    if mat_version(path) == "v7.3":
        return _load_v73(path, names)
    return _load_v5(path, names)


def _load_v5(path: Path, names: list[str] | None) -> dict[str, Any]:
    import scipy.io

    try:
        raw = scipy.io.loadmat(path, variable_names=names, mat_dtype=False, squeeze_me=False)
    except Exception as exc:  # noqa: BLE001 - scipy raises many types for corrupt files
        raise DataFormatError(f"{path}: not a readable .mat file (truncated or corrupt?): {exc}") from None
    return {k: _clean_v5(v) for k, v in raw.items() if not k.startswith("__")}


def _clean_v5(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "U":
        return "".join(value.ravel().tolist()).strip()
    return value


def _load_v73(path: Path, names: list[str] | None) -> dict[str, Any]:
    import h5py

    out: dict[str, Any] = {}
    try:
        with h5py.File(path, "r") as fh:
            for key in fh.keys():
                if key.startswith("#") or (names is not None and key not in names):
                    continue
                obj = fh[key]
                if not isinstance(obj, h5py.Dataset):
                    continue  # structs and objects are not used by the image formats we read
                out[key] = _clean_v73(obj)
    except OSError as exc:
        raise DataFormatError(
            f"{path}: not a readable MATLAB v7.3 (HDF5) file (truncated or corrupt?): {exc}"
        ) from None
    return out


def _clean_v73(ds: Any) -> Any:
    matlab_class = ds.attrs.get("MATLAB_class", b"")
    if isinstance(matlab_class, bytes):
        matlab_class = matlab_class.decode()
    data = ds[()]
    if matlab_class == "char":
        return "".join(chr(c) for c in np.asarray(data).T.ravel()).strip()
    if data.dtype.names and {"real", "imag"} <= set(data.dtype.names):
        data = data["real"] + 1j * data["imag"]
    arr = np.asarray(data)
    if matlab_class == "logical":
        arr = arr.astype(bool)
    return arr.T  # reverse h5py's axes back to MATLAB's


def scalar(value: Any) -> Any:
    """A MATLAB 1×1 array as a Python scalar (strings pass through)."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"expected a scalar, got an array of shape {value.shape}")
        return value.ravel()[0].item()
    return value


def save_mat_v73(path: str | Path, variables: dict[str, Any]) -> None:
    """Write a MATLAB v7.3-style file (HDF5 with the 512-byte MATLAB header, axes reversed).

    Used by the tests and by users who want to hand files to MATLAB; numeric arrays and strings only.
    """
    import h5py

    path = Path(path)
    with h5py.File(path, "w", userblock_size=512) as fh:
        for key, value in variables.items():
            if isinstance(value, str):
                codes = np.array([[ord(c) for c in value]], dtype=np.uint16)
                ds = fh.create_dataset(key, data=codes.T)
                ds.attrs["MATLAB_class"] = np.bytes_("char")
                continue
            arr = np.asarray(value)
            if arr.ndim < 2:
                arr = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(1, 1)
            ds = fh.create_dataset(key, data=arr.T)
            cls = {"f": "double" if arr.dtype == np.float64 else "single", "b": "logical"}.get(arr.dtype.kind)
            ds.attrs["MATLAB_class"] = np.bytes_(cls or str(arr.dtype))
    header = b"MATLAB 7.3 MAT-file, Platform: fusionbench, Created by fusionbench. HDF5 schema 1.00 ."
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM")
