"""Single pansharpening scenes from files: toolbox-style ``.mat`` and GeoTIFF MS/PAN pairs.

A toolbox ``.mat`` scene stores H×W×C arrays under keys such as ``I_GT``, ``I_MS_LR``, ``I_MS``,
``I_PAN`` (DLPan) or ``gt``, ``lrms``, ``pan`` (CDIF samples); ``I_MS`` means the *upsampled* MS
in DLPan files but the *low-resolution* MS in the GRIP full-resolution scenes, so MS arrays are
classified by their size relative to PAN rather than by name. A GeoTIFF scene is two files,
``<stem>_ms.tif`` and ``<stem>_pan.tif``.

:class:`SceneFilesDataset` (``custom-scenes-rr``/``-fr``) reads a file or a folder of such
scenes; in the reduced protocol a scene without a reference is Wald-simulated (:mod:`.simulate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import DataFormatError, DatasetUnavailable
from ..protocols import FusionItem
from ..specs import DataCard
from .base import FusionDatasetBase
from .builders import pansharpening_item
from .cards import pansharpening_card
from .checks import require_finite
from .hashing import files_sha256
from .matfiles import load_mat, scalar
from .paths import resolve_user_path
from .rasters import TIFF_SUFFIXES, read_raster
from .simulate import PAN_MODES, WaldConfig, simulate_reduced_item

GT_KEYS = ("I_GT", "gt", "GT", "I_REF")
MS_KEYS = ("I_MS_LR", "lrms", "ms", "MS", "LRMS", "I_MS", "lms", "LMS")  # classified by size
PAN_KEYS = ("I_PAN", "pan", "PAN")


@dataclass
class PanScene:
    """One scene in native units, channel-first: ``pan`` (1,H,W), ``ms`` (C,h,w), optional ``lms``, ``gt``."""

    source: Path
    pan: np.ndarray
    ms: np.ndarray
    lms: np.ndarray | None = None
    gt: np.ndarray | None = None
    sensor: str | None = None
    ratio: int | None = None

    @property
    def bands(self) -> int:
        return int(self.ms.shape[0])

    def scaled(self, factor: float) -> "PanScene":
        if factor == 1.0:
            return self
        mul = lambda a: None if a is None else a * factor  # noqa: E731
        return replace(self, pan=self.pan * factor, ms=self.ms * factor, lms=mul(self.lms), gt=mul(self.gt))

    def max_value(self) -> float:
        return float(max(np.max(a) for a in (self.pan, self.ms, self.lms, self.gt) if a is not None))


def _to_chw(arr: Any, key: str, source: Path, bands: int | None) -> np.ndarray:
    """MATLAB H×W×C (or H×W) to (C,H,W) float64, diagnosing channel-first files."""
    a = np.asarray(arr)
    if a.dtype.kind not in "fiub":
        raise DataFormatError(f"{source}: {key!r} has dtype {a.dtype}; expected a numeric image")
    a = a.astype(np.float64)
    if a.ndim == 2:
        return a[None]
    if a.ndim != 3:
        raise DataFormatError(f"{source}: {key!r} has shape {a.shape}; expected H×W×C (MATLAB order)")
    looks_channel_first = a.shape[0] < min(a.shape[1], a.shape[2]) and a.shape[2] > a.shape[0]
    if bands is not None and a.shape[2] != bands:
        if a.shape[0] == bands:
            raise DataFormatError(
                f"{source}: {key!r} has shape {a.shape}: wrong axis order (channel-first); .mat scenes are H×W×C"
            )
        raise DataFormatError(f"{source}: {key!r} has shape {a.shape}: {a.shape[2]} bands, expected {bands} (wrong band count)")
    if bands is None and looks_channel_first and a.shape[0] <= 16:
        raise DataFormatError(
            f"{source}: {key!r} has shape {a.shape}: looks channel-first (C×H×W); .mat scenes are H×W×C"
        )
    return np.moveaxis(a, -1, 0)


def scene_from_arrays(values: dict[str, Any], source: Path, bands: int | None = None, ratio: int | None = None) -> PanScene:
    """Classify the arrays of a .mat file into a :class:`PanScene` (see module docstring)."""
    pan_key = next((k for k in PAN_KEYS if k in values), None)
    if pan_key is None:
        raise DataFormatError(f"{source}: missing PAN (looked for {list(PAN_KEYS)}); the file has {sorted(values)}")
    pan = _to_chw(values[pan_key], pan_key, source, 1)
    H, W = pan.shape[-2:]
    sensor = values.get("sensor") if isinstance(values.get("sensor"), str) else None
    if ratio is None and "ratio" in values:
        ratio = int(scalar(values["ratio"]))
    lr: tuple[str, np.ndarray] | None = None
    hr: tuple[str, np.ndarray] | None = None
    for key in MS_KEYS:
        if key not in values:
            continue
        arr = _to_chw(values[key], key, source, bands)
        h, w = arr.shape[-2:]
        if (h, w) == (H, W):
            hr = hr or (key, arr)
        elif H % h == 0 and W % w == 0 and H // h == W // w and (ratio is None or H // h == ratio):
            lr = lr or (key, arr)
        else:
            expected = f"{H // ratio}×{W // ratio} (ratio {ratio})" if ratio else f"a divisor of {H}×{W}"
            raise DataFormatError(
                f"{source}: {key!r} is {h}×{w} but PAN is {H}×{W}; expected {H}×{W} or {expected} (mismatched PAN/MS sizes)"
            )
    if lr is None:
        raise DataFormatError(
            f"{source}: no low-resolution MS found (looked for {list(MS_KEYS)} smaller than PAN {H}×{W}); "
            f"the file has {sorted(values)}"
        )
    ms = lr[1]
    found_ratio = H // ms.shape[-2]
    gt_key = next((k for k in GT_KEYS if k in values), None)
    gt = _to_chw(values[gt_key], gt_key, source, ms.shape[0]) if gt_key else None
    if gt is not None and gt.shape[-2:] != (H, W):
        raise DataFormatError(f"{source}: {gt_key!r} is {gt.shape[-2]}×{gt.shape[-1]} but PAN is {H}×{W}")
    lms = hr[1] if hr is not None else None
    for name, arr in (("pan", pan), ("ms", ms), ("lms", lms), ("gt", gt)):
        if arr is not None:
            require_finite(arr, name, str(source))
    return PanScene(source, pan, ms, lms, gt, sensor, found_ratio)


def read_mat_scene(path: Path, bands: int | None = None, ratio: int | None = None) -> PanScene:
    return scene_from_arrays(load_mat(path), path, bands, ratio)


def read_tiff_scene(ms_path: Path, pan_path: Path, bands: int | None = None) -> PanScene:
    ms = np.asarray(read_raster(ms_path), dtype=np.float64)
    pan = np.asarray(read_raster(pan_path), dtype=np.float64)
    if pan.shape[0] != 1:
        raise DataFormatError(f"{pan_path}: PAN has {pan.shape[0]} bands; expected 1")
    if bands is not None and ms.shape[0] != bands:
        raise DataFormatError(f"{ms_path}: MS has {ms.shape[0]} bands, expected {bands} (wrong band count)")
    H, W = pan.shape[-2:]
    h, w = ms.shape[-2:]
    if H % h or W % w or H // h != W // w:
        raise DataFormatError(f"{ms_path}: MS is {h}×{w} but PAN {pan_path.name} is {H}×{W} (mismatched PAN/MS sizes)")
    require_finite(ms, "ms", str(ms_path))
    require_finite(pan, "pan", str(pan_path))
    return PanScene(ms_path, pan, ms, None, None, None, H // h)


@dataclass(frozen=True)
class SceneRef:
    """A scene on disk: a .mat file, or a GeoTIFF MS/PAN pair."""

    image_id: str
    files: tuple[Path, ...]

    def read(self, bands: int | None) -> PanScene:
        if len(self.files) == 2:
            return read_tiff_scene(self.files[0], self.files[1], bands)
        return read_mat_scene(self.files[0], bands)


def find_scenes(path: Path) -> list[SceneRef]:
    """The scenes in a file or folder: every ``*.mat``, and every ``*_ms.tif`` with its ``*_pan.tif``."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    scenes: list[SceneRef] = []
    for f in files:
        if f.suffix.lower() == ".mat":
            scenes.append(SceneRef(f.stem, (f,)))
        elif f.suffix.lower() in TIFF_SUFFIXES and f.stem.lower().endswith("_ms"):
            stem = f.stem[: -len("_ms")]
            pan = f.with_name(f"{stem}_pan{f.suffix}")
            if not pan.exists():
                raise DataFormatError(f"{f}: MS raster without its PAN ({stem}_pan{f.suffix} not found)")
            scenes.append(SceneRef(stem, (f, pan)))
    if not scenes:
        raise DatasetUnavailable(f"{path}: no scenes found (expected *.mat files or *_ms.tif + *_pan.tif pairs)")
    return scenes


class SceneFilesDataset(FusionDatasetBase):
    """Scenes from files, for the reduced or full protocol (``custom-scenes-rr``/``-fr``).

    ``scale``: "auto" multiplies data stored in [0, 1] by the card's max value (the CDIF samples
    are DN/2047), a number multiplies by that number. ``simulate``: "auto" Wald-simulates reduced
    data when a scene has no reference, "always" always does (the stored MS becomes the reference),
    "never" requires a reference.
    """

    splits = ("test",)

    def __init__(
        self,
        path: Path,
        *,
        protocol: str,
        name: str,
        sensor: str = "auto",
        max_value: float = 0.0,
        scale: str = "auto",
        simulate: str = "auto",
        pan_mode: str = "imresize",
        validate: bool = True,
    ):
        if protocol not in ("reduced", "full"):
            raise ValueError(f"protocol must be 'reduced' or 'full', got {protocol!r}")
        if simulate not in ("auto", "always", "never"):
            raise ValueError(f"simulate must be auto, always or never, got {simulate!r}")
        if pan_mode not in PAN_MODES:
            raise ValueError(f"pan_mode must be one of {PAN_MODES}, got {pan_mode!r}")
        self.name, self.task, self.protocol = name, "pansharpening", protocol
        self.path = path
        self.scenes = find_scenes(path)
        self.params = {"sensor": sensor, "max_value": max_value, "scale": scale, "simulate": simulate, "pan_mode": pan_mode}
        self.validate = validate
        self.card = self._make_card()

    def _make_card(self) -> DataCard:
        sensor = self.params["sensor"]
        first = self.scenes[0].read(None)
        if sensor == "auto":
            if first.sensor is None:
                raise DataFormatError(
                    f"{first.source}: the file names no sensor; pass sensor=WV3|WV2|QB|GF2|IKONOS|... "
                    "(unknown names get the toolbox default GNyq 0.3)"
                )
            sensor = first.sensor
        extra = {"files": len(self.scenes)}
        try:
            card = pansharpening_card(sensor, first.bands, extra)
        except ValueError:
            expected = pansharpening_card(sensor).bands
            raise DataFormatError(
                f"{first.source}: MS has {first.bands} bands, expected {expected} for sensor {sensor} (wrong band count)"
            ) from None
        if float(self.params["max_value"]) > 0:
            card = replace(card, max_value=float(self.params["max_value"]))
        if first.ratio is not None and card.ratio != first.ratio:
            card = replace(card, ratio=first.ratio)
        return card

    def available_splits(self) -> tuple[str, ...]:
        return ("test",)

    def n_items(self, split: str = "test") -> int:
        self.require_split(split)
        return len(self.scenes)

    def sources(self, split: str) -> list[Path]:
        return [f for s in self.scenes for f in s.files]

    def content_sha256(self, split: str = "test") -> str:
        self.require_split(split)
        base = self.path if self.path.is_dir() else self.path.parent
        return files_sha256(self.sources(split), base=base)

    def _scale(self, scene: PanScene) -> float:
        scale = str(self.params["scale"])
        if scale == "auto":
            return self.card.max_value if scene.max_value() <= 1.0 else 1.0
        return float(scale)

    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        ref = self.scenes[index]
        scene = ref.read(self.card.bands)
        factor = self._scale(scene)
        scene = scene.scaled(factor)
        source = str(scene.source)
        extras = {"source": source, "scale": factor}
        mode = self.params["simulate"]
        if self.protocol == "reduced" and (mode == "always" or (mode == "auto" and scene.gt is None)):
            config = WaldConfig.from_card(self.card, self.params["pan_mode"])  # type: ignore[arg-type]
            item = simulate_reduced_item(ref.image_id, scene.ms, scene.pan, config, source)
            return replace(item, extras={**item.extras, **extras}), source
        if self.protocol == "reduced" and scene.gt is None:
            raise DataFormatError(f"{source}: no reference (gt) for the reduced protocol and simulate='never'")
        item = pansharpening_item(
            ref.image_id,
            pan=scene.pan,
            ms=scene.ms,
            lms=scene.lms,
            gt=scene.gt if self.protocol == "reduced" else None,
            ratio=int(self.card.ratio or 4),
            extras=extras,
        )
        return item, source


def open_scenes(
    root: str | Path | None = None,
    *,
    protocol: str,
    path: str = "",
    sensor: str = "auto",
    max_value: float = 0.0,
    scale: str = "auto",
    simulate: str = "auto",
    pan_mode: str = "imresize",
) -> SceneFilesDataset:
    name = f"custom-scenes-{'rr' if protocol == 'reduced' else 'fr'}"
    return SceneFilesDataset(
        resolve_user_path(path, root, name),
        protocol=protocol,
        name=name,
        sensor=sensor,
        max_value=float(max_value),
        scale=scale,
        simulate=simulate,
        pan_mode=pan_mode,
    )


def open_scenes_rr(root: str | Path | None = None, **params: Any) -> SceneFilesDataset:
    """Factory of ``custom-scenes-rr``."""
    return open_scenes(root, protocol="reduced", **params)


def open_scenes_fr(root: str | Path | None = None, **params: Any) -> SceneFilesDataset:
    """Factory of ``custom-scenes-fr``."""
    return open_scenes(root, protocol="full", **params)


def iter_scenes(path: Path, bands: int | None = None) -> Iterator[PanScene]:
    """Read every scene under ``path`` (for scripts)."""
    for ref in find_scenes(path):
        yield ref.read(bands)
