"""Lazy access to HDF5 files holding stacks of images shaped (N, C, H, W).

PanCollection (``gt``/``ms``/``lms``/``pan``) and the CAVE/Harvard files (``GT``/``LRHSI``/``RGB``/
``HSI_up``) share this layout: MATLAB wrote W×H×C×N with ``h5create``, so h5py sees N×C×H×W.
A stack validates the layout from dataset *shapes* when opened (no pixel is read), then reads one
sample at a time. The file handle is opened lazily per process, so a stack can be pickled into
worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError


@dataclass(frozen=True)
class StackField:
    """One array of the stack: accepted dataset names (first match wins) and expected channels."""

    name: str
    aliases: tuple[str, ...]
    channels: int | None = None
    required: bool = True


@dataclass
class H5Stack:
    """An HDF5 file of N-sample stacks; opening validates keys, ranks, N and channel axes."""

    path: Path
    fields: tuple[StackField, ...]
    keys: dict[str, str] = field(default_factory=dict, init=False)  # field name -> dataset name
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False)
    _handle: Any = field(default=None, init=False, repr=False)
    _pid: int = field(default=-1, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._inspect()

    # -- opening ------------------------------------------------------------------------------
    def _file(self) -> Any:
        """The h5py handle for this process (re-opened after a fork)."""
        if self._handle is None or self._pid != os.getpid():
            import h5py

            try:
                self._handle = h5py.File(self.path, "r")
            except FileNotFoundError:
                raise DataFormatError(f"{self.path}: file not found") from None
            except OSError as exc:
                raise DataFormatError(f"{self.path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from None
            self._pid = os.getpid()
        return self._handle

    def _inspect(self) -> None:
        fh = self._file()
        names = [k for k in fh.keys()]
        for f in self.fields:
            key = next((a for a in f.aliases if a in fh), None)
            if key is None:
                if f.required:
                    raise DataFormatError(
                        f"{self.path}: missing dataset {f.aliases[0]!r}"
                        + (f" (also tried {list(f.aliases[1:])})" if len(f.aliases) > 1 else "")
                        + f"; the file has {names}"
                    )
                continue
            _require_no_external_link(fh, key, self.path)  # before fh[key], which follows the link
            obj = fh[key]
            if not hasattr(obj, "shape"):
                raise DataFormatError(f"{self.path}: {key!r} is a group, expected an N×C×H×W dataset")
            _require_stored_here(obj, key, fh, self.path)
            _require_real_numbers(obj, key, self.path)
            shape = tuple(int(s) for s in obj.shape)
            if len(shape) != 4:
                raise DataFormatError(f"{self.path}: dataset {key!r} has shape {shape}; expected 4 dimensions N×C×H×W")
            if f.channels is not None and shape[1] != f.channels:
                raise DataFormatError(f"{self.path}: dataset {key!r} {_axis_diagnosis(shape, f.channels)}")
            if 0 in shape[1:]:
                raise DataFormatError(f"{self.path}: dataset {key!r} has shape {shape}: its images have no pixels")
            self.keys[f.name] = key
            self.shapes[f.name] = shape
        counts = {name: shape[0] for name, shape in self.shapes.items()}
        if len(set(counts.values())) > 1:
            raise DataFormatError(f"{self.path}: datasets disagree on the number of samples: {counts}")
        if counts and next(iter(counts.values())) == 0:
            raise DataFormatError(f"{self.path}: the file holds 0 samples")
        self._require_sample_fits()

    def _require_sample_fits(self) -> None:
        """Refuse a file whose one sample could not be held in this machine's memory.

        The shapes come from the header, which costs nothing to write: a 2 KB file may claim
        terabytes of (never written, fill-value) pixels. Reading such a sample would end in a raw
        ``MemoryError`` (or the kernel's OOM killer) deep inside h5py, so the claim is checked
        when the file is opened, against the float64 arrays a sample becomes.
        """
        need = sum(_sample_bytes(shape) for shape in self.shapes.values())
        total = _physical_memory()
        if total is not None and need > total:
            sizes = ", ".join(f"{self.keys[n]!r} {'×'.join(map(str, s[1:]))}" for n, s in self.shapes.items())
            raise DataFormatError(
                f"{self.path}: one sample would take {_gib(need)} in memory ({sizes}, as float64), more than "
                f"this machine's {_gib(total)}; the header claims sizes that cannot be read"
            )

    # -- queries ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return next(iter(self.shapes.values()))[0]

    def has(self, name: str) -> bool:
        return name in self.keys

    def spatial(self, name: str) -> tuple[int, int]:
        shape = self.shapes[name]
        return shape[2], shape[3]

    def channels(self, name: str) -> int:
        return self.shapes[name][1]

    def require_same_channels(self, a: str, b: str) -> None:
        if self.channels(a) != self.channels(b):
            raise DataFormatError(
                f"{self.path}: {self.keys[a]!r} has {self.channels(a)} channels but "
                f"{self.keys[b]!r} has {self.channels(b)}"
            )

    def require_scale(self, hr: str, lr: str, ratio: int) -> None:
        """Raise unless ``hr`` is exactly ``ratio`` times ``lr`` in both spatial dimensions."""
        (H, W), (h, w) = self.spatial(hr), self.spatial(lr)
        if (H, W) != (h * ratio, w * ratio):
            raise DataFormatError(
                f"{self.path}: {self.keys[hr]!r} is {H}×{W} but {self.keys[lr]!r} is {h}×{w}; "
                f"ratio {ratio} needs {h * ratio}×{w * ratio} (mismatched sizes)"
            )

    def require_same_size(self, a: str, b: str) -> None:
        if self.spatial(a) != self.spatial(b):
            raise DataFormatError(
                f"{self.path}: {self.keys[a]!r} is {self.spatial(a)} but {self.keys[b]!r} is "
                f"{self.spatial(b)}; they must have the same size"
            )

    # -- reading ------------------------------------------------------------------------------
    def read(self, name: str, index: int) -> np.ndarray:
        """Sample ``index`` of field ``name`` as a float64 (C, H, W) array."""
        try:
            data = self._file()[self.keys[name]][index]
            return np.asarray(data, dtype=np.float64)
        except OSError as exc:
            raise DataFormatError(
                f"{self.path}: cannot read sample {index} of {self.keys[name]!r} (truncated file?): {exc}"
            ) from None
        except MemoryError:
            raise DataFormatError(
                f"{self.path}: not enough free memory to read sample {index} of {self.keys[name]!r} "
                f"({_gib(_sample_bytes(self.shapes[name]))} as float64)"
            ) from None

    def read_all(self, index: int) -> Mapping[str, np.ndarray]:
        return {name: self.read(name, index) for name in self.keys}

    def close(self) -> None:
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handle"] = None
        state["_pid"] = -1
        return state


def _axis_diagnosis(shape: tuple[int, ...], channels: int) -> str:
    """Explain a channel mismatch: wrong axis order, or really the wrong band count."""
    base = f"has shape {shape}; expected N×{channels}×H×W"
    if shape[3] == channels and shape[1] != channels:
        return base + " (wrong axis order: it looks like N×H×W×C, channel-last)"
    if shape[2] == channels and shape[0] != channels:
        return base + " (wrong axis order: it looks like MATLAB's W×H×C×N read without reversing the axes)"
    return base + f" (wrong band count: {shape[1]} instead of {channels})"


def _external_link_error(path: Path, key: str, target: str) -> DataFormatError:
    return DataFormatError(
        f"{path}: dataset {key!r} is an external link to {target}; its data would not be covered by the "
        "content hash, so it is refused: copy the data into the file"
    )


def _require_no_external_link(fh: Any, key: str, path: Path) -> None:
    """Refuse ``key`` when it is itself an external link (checked without following it, so a
    link to a missing file gets this message too, not h5py's)."""
    import h5py

    link = fh.get(key, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        raise _external_link_error(path, key, link.filename)


def _require_stored_here(obj: Any, key: str, fh: Any, path: Path) -> None:
    """Refuse a dataset whose pixels live in another file.

    A run's key holds the hash of the file's bytes; pixels reached through an HDF5 external link,
    a virtual dataset or external raw storage are not in those bytes, so changing them would
    leave earlier results counted as done on data that are no longer the same. Such files are
    refused rather than hashed through, because the set of files a link can reach is only known
    once every link (and every virtual dataset's source pattern) is resolved. A soft link whose
    path crosses an external link to a group is caught by the file the object opened from.
    """
    if Path(obj.file.filename).resolve() != Path(fh.filename).resolve():
        raise _external_link_error(path, key, obj.file.filename)
    if getattr(obj, "is_virtual", False) or getattr(obj, "external", None):
        kind = "a virtual dataset" if getattr(obj, "is_virtual", False) else "stored in external raw files"
        raise DataFormatError(
            f"{path}: dataset {key!r} is {kind}; its data live in other files, which the content hash does not "
            "cover, so it is refused: copy the data into the file"
        )


def _require_real_numbers(obj: Any, key: str, path: Path) -> None:
    """Refuse anything but real integers and floats: complex values would lose their imaginary part."""
    dtype = obj.dtype
    if dtype.kind not in "iuf":
        what = "complex numbers" if dtype.kind == "c" else f"dtype {dtype}"
        raise DataFormatError(
            f"{path}: dataset {key!r} holds {what} ({dtype}); images must be real integers or floats"
            + (" (the imaginary part would be dropped silently)" if dtype.kind == "c" else "")
        )


def _sample_bytes(shape: tuple[int, ...]) -> int:
    """Bytes of one sample (C×H×W) of a stack as the float64 array :meth:`H5Stack.read` returns."""
    return 8 * int(np.prod(shape[1:], dtype=np.float64))


def _physical_memory() -> int | None:
    """This machine's memory in bytes, or None when it cannot be told."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - an unknown size only skips the check
        return None


def _gib(n: int) -> str:
    return f"{n / 2**40:,.1f} TiB" if n >= 2**40 else f"{n / 2**30:.2f} GiB"
