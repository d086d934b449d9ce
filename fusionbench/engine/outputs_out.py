"""Save every fused image of a run (``fusionbench run --save-outputs DIR``), worker side.

Layout (one folder per run; the method label is the leaderboard's)::

    DIR/<suite>/<dataset>/<method label>[-s<seed>][-r<repetition>]/
        fused.h5            pansharpening/MHIF, default: ``fused`` (N,C,H,W) float64 + ``image_ids``
                            (float64, not float32: float32 moves metric values by ~1e-7 relative,
                            and scoring the saved stack must give the run's values to 1e-9)
        <image id>.mat      pansharpening/MHIF with --save-outputs-format mat: ``sr`` (H,W,C) float64,
                            like the toolbox's result files
        <image id>.png      IVF/MIF: 8-bit grey, rounded half to even and clipped like the metrics'
                            ``round`` quantisation, so scoring the PNG equals scoring the run
        <image id>.tif      IVF/MIF with --save-outputs-tif: the float32 fused image
        outputs.json        written last: run key, attempt, data hash, item ids, files, units

Values are in the dataset's native units (``DataCard.max_value``: 2047 for WV3 DN, 255 for
IVF). Every file is written atomically; ``outputs.json`` marks a complete folder. The folder names
go through :func:`fusionbench.results.store.safe_name`. ``fusionbench score`` reads all of these.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fusionbench.engine.runspec import RunSpec
from fusionbench.results.records import utc_now
from fusionbench.results.store import safe_name, write_bytes_atomic
from fusionbench.specs import DataCard

STACK_FILE = "fused.h5"
STACK_KEY = "fused"
IDS_KEY = "image_ids"
MAT_KEY = "sr"
MANIFEST = "outputs.json"
STACK_TASKS = ("pansharpening", "mhif")
FORMATS = ("h5", "mat")


def method_label(run: RunSpec) -> str:
    """The leaderboard's method label of ``run`` (model[params]+sampler[params])."""
    return run.model.label + (f"+{run.sampler.label}" if run.sampler else "")


def run_outputs_dir(root: Path, run: RunSpec) -> Path:
    """``root/<suite>/<dataset>/<method label>[-s<seed>][-r<repetition>]`` (documented above); the
    dataset's parameters are in ``outputs.json``."""
    leaf = method_label(run) + (f"-s{run.seed}" if run.seed else "") + (f"-r{run.repetition}" if run.repetition else "")
    return Path(root) / safe_name(run.suite) / safe_name(run.dataset.name) / safe_name(leaf)


def quantize_8bit(image: np.ndarray) -> np.ndarray:
    """Half-to-even rounding clipped to 0..255 as uint8: the IVF/MIF metrics' ``round`` rule."""
    return np.clip(np.round(np.asarray(image, dtype=np.float64)), 0, 255).astype(np.uint8)


def _png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(quantize_8bit(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def _tif_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.float32), mode="F").save(buffer, format="TIFF")
    return buffer.getvalue()


def _mat_bytes(chw: np.ndarray) -> bytes:
    import scipy.io

    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {MAT_KEY: np.ascontiguousarray(np.moveaxis(chw, 0, -1), dtype=np.float64)})
    return buffer.getvalue()


def _h5_bytes(stack: np.ndarray, ids: list[str]) -> bytes:
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.create_dataset(STACK_KEY, data=stack.astype(np.float64))
        handle.create_dataset(IDS_KEY, data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
    return buffer.getvalue()


@dataclass
class OutputWriter:
    """Collects one run's fused images and writes them in its task's format (see module doc)."""

    folder: Path
    run: RunSpec
    attempt: int
    card: DataCard
    fmt: str = "h5"
    tif: bool = False
    ids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    _stack: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def for_run(cls, config: Any, run: RunSpec, card: DataCard, attempt: int = 1) -> OutputWriter:
        if config.save_outputs_format not in FORMATS:
            raise ValueError(f"unknown outputs format {config.save_outputs_format!r}; use one of {', '.join(FORMATS)}")
        return cls(
            run_outputs_dir(Path(config.save_outputs), run),
            run,
            attempt,
            card,
            fmt=config.save_outputs_format,
            tif=bool(config.save_outputs_tif),
        )

    @property
    def stacked(self) -> bool:
        return self.run.task in STACK_TASKS

    def add(self, image_id: str, chw: np.ndarray) -> None:
        """One fused image ``(C,H,W)`` in native units; item files are written at once."""
        self.ids.append(image_id)
        stem = safe_name(image_id)
        if not self.stacked:
            self._write(f"{stem}.png", _png_bytes(chw[0]))
            if self.tif:
                self._write(f"{stem}.tif", _tif_bytes(chw[0]))
        elif self.fmt == "mat":
            self._write(f"{stem}.mat", _mat_bytes(chw))
        else:
            self._stack.append(np.asarray(chw, dtype=np.float64))

    def _write(self, name: str, data: bytes) -> None:
        write_bytes_atomic(self.folder / name, data)
        self.files.append(name)

    def finish(self) -> Path:
        """Write the stack (h5 format) and then the manifest; return the folder."""
        if self.stacked and self.fmt == "h5" and self._stack:
            self._write(STACK_FILE, _h5_bytes(np.stack(self._stack), self.ids))
            self._stack.clear()
        manifest = {
            "run_key": self.run.run_key,
            "attempt": self.attempt,
            "suite": self.run.suite,
            "task": self.run.task,
            "dataset": self.run.dataset.name,
            "dataset_params": dict(self.run.dataset.params),
            "split": self.run.split,
            "data_sha256": self.run.data_sha256,
            "method": method_label(self.run),
            "seed": self.run.seed,
            "repetition": self.run.repetition,
            "format": "png" if not self.stacked else self.fmt,
            "max_value": self.card.max_value,
            "image_ids": self.ids,
            "files": self.files,
            "created_at": utc_now().isoformat(),
        }
        write_bytes_atomic(self.folder / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
        return self.folder
