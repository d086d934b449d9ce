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

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError, DatasetUnavailable
from ..protocols import FusionItem
from ..sensors import SENSORS
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

    def scaled(self, factor: float) -> PanScene:
        if factor == 1.0:
            return self
        mul = lambda a: None if a is None else a * factor  # noqa: E731
        return replace(self, pan=self.pan * factor, ms=self.ms * factor, lms=mul(self.lms), gt=mul(self.gt))

    def max_value(self) -> float:
        return float(max(np.max(a) for a in (self.pan, self.ms, self.lms, self.gt) if a is not None))


class WrongBandCount(DataFormatError):
    """A scene's MS has another band count than the sensor (or the first scene) says."""

    def __init__(self, source: Path, key: str, found: int, expected: int):
        self.source, self.key, self.found, self.expected = source, key, found, expected
        super().__init__(f"{source}: {key!r} has {found} bands, expected {expected} (wrong band count)")


def _numeric(arr: Any, key: str, source: Path) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype.kind not in "fiub":
        raise DataFormatError(f"{source}: {key!r} has dtype {a.dtype}; expected a numeric image")
    a = a.astype(np.float64)
    if a.ndim not in (2, 3):
        raise DataFormatError(f"{source}: {key!r} has shape {a.shape}; expected H×W×C (MATLAB order)")
    if a.size == 0:
        raise DataFormatError(f"{source}: {key!r} has shape {a.shape}: the image has no pixels")
    return a


def _pan_to_chw(arr: Any, key: str, source: Path) -> np.ndarray:
    """PAN, H×W or H×W×1, to (1,H,W) float64 (a 1×H×W array is diagnosed as channel-first)."""
    a = _numeric(arr, key, source)
    if a.ndim == 2:
        return a[None]
    if a.shape[2] == 1:
        return np.moveaxis(a, -1, 0)
    if a.shape[0] == 1:
        raise DataFormatError(
            f"{source}: {key!r} has shape {a.shape}: wrong axis order (channel-first); .mat scenes are H×W×C"
        )
    raise DataFormatError(f"{source}: PAN {key!r} has shape {a.shape}: {a.shape[2]} bands, expected 1")


def _fits(hw: tuple[int, int], pan_hw: tuple[int, int], ratio: int | None, allow_lr: bool) -> bool:
    """Whether spatial size ``hw`` is PAN's own, or (``allow_lr``) PAN's divided by one integer ratio > 1."""
    (h, w), (H, W) = hw, pan_hw
    if (h, w) == (H, W):
        return True
    if not allow_lr or h <= 0 or w <= 0 or H % h or W % w or H // h != W // w or H // h < 2:
        return False
    return ratio is None or H // h == ratio


def _ms_to_chw(
    arr: Any,
    key: str,
    source: Path,
    pan_hw: tuple[int, int],
    bands: int | None,
    ratio: int | None,
    *,
    allow_lr: bool = True,
) -> np.ndarray:
    """An MS-like array to (C,h,w) float64, the axis order decided by geometry relative to PAN.

    A scene is H×W×C (MATLAB order) when its first two axes are PAN's size or PAN's divided by
    the ratio (and, when ``bands`` is known, the last axis has that many bands). Only when that
    reading fails and the channel-first one (C×H×W) fits is the array reported as channel-first,
    so an H×W×C scene with more bands than rows, e.g. 6×7×8 beside a 24×28 PAN, reads correctly.
    Ambiguous shapes (both readings fit) are taken in MATLAB order.
    """
    a = _numeric(arr, key, source)
    if a.ndim == 2:
        a = a[..., None]
    hwc_fits = _fits((a.shape[0], a.shape[1]), pan_hw, ratio, allow_lr)
    chw_fits = _fits((a.shape[1], a.shape[2]), pan_hw, ratio, allow_lr)
    if hwc_fits and (bands is None or a.shape[2] == bands):
        return np.moveaxis(a, -1, 0)
    if chw_fits and (bands is None or a.shape[0] == bands):
        raise DataFormatError(
            f"{source}: {key!r} has shape {a.shape}: wrong axis order (channel-first, C×H×W); .mat scenes are H×W×C"
        )
    if hwc_fits and bands is not None:
        raise WrongBandCount(source, key, a.shape[2], bands)
    H, W = pan_hw
    expected = f"{H // ratio}×{W // ratio} (ratio {ratio})" if ratio else f"an integer fraction of {H}×{W}"
    sizes = f"{H}×{W} or {expected}" if allow_lr else f"{H}×{W}"
    raise DataFormatError(
        f"{source}: {key!r} has shape {a.shape} but PAN is {H}×{W}; expected H×W×C with H×W = {sizes} "
        "(mismatched PAN/MS sizes)"
    )


def scene_from_arrays(
    values: dict[str, Any], source: Path, bands: int | None = None, ratio: int | None = None
) -> PanScene:
    """Classify the arrays of a .mat file into a :class:`PanScene` (see module docstring).

    PAN is read first; every MS-like array is then oriented and classified by its size relative to
    PAN (:func:`_ms_to_chw`): PAN's size is the upsampled MS (``lms``), PAN's divided by the ratio
    is the low-resolution MS. ``bands`` (known from the sensor) and ``ratio`` (argument, else the
    file's ``ratio`` variable) tighten the check when given.
    """
    pan_key = next((k for k in PAN_KEYS if k in values), None)
    if pan_key is None:
        raise DataFormatError(f"{source}: missing PAN (looked for {list(PAN_KEYS)}); the file has {sorted(values)}")
    pan = _pan_to_chw(values[pan_key], pan_key, source)
    H, W = pan.shape[-2:]
    sensor = values.get("sensor") if isinstance(values.get("sensor"), str) else None
    if ratio is None and "ratio" in values:
        ratio = int(scalar(values["ratio"]))
    lr: tuple[str, np.ndarray] | None = None
    hr: tuple[str, np.ndarray] | None = None
    for key in MS_KEYS:
        if key not in values:
            continue
        arr = _ms_to_chw(values[key], key, source, (H, W), bands, ratio)
        if arr.shape[-2:] == (H, W):
            hr = hr or (key, arr)
        else:
            lr = lr or (key, arr)
    if lr is None:
        raise DataFormatError(
            f"{source}: no low-resolution MS found (looked for {list(MS_KEYS)} smaller than PAN {H}×{W}); "
            f"the file has {sorted(values)}"
        )
    ms = lr[1]
    found_ratio = H // ms.shape[-2]
    if hr is not None and hr[1].shape[0] != ms.shape[0]:
        raise DataFormatError(f"{source}: {hr[0]!r} has {hr[1].shape[0]} bands but {lr[0]!r} has {ms.shape[0]}")
    gt_key = next((k for k in GT_KEYS if k in values), None)
    gt = _ms_to_chw(values[gt_key], gt_key, source, (H, W), ms.shape[0], None, allow_lr=False) if gt_key else None
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
        raise WrongBandCount(ms_path, "ms", ms.shape[0], bands)
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
        self.params = {
            "sensor": sensor,
            "max_value": max_value,
            "scale": scale,
            "simulate": simulate,
            "pan_mode": pan_mode,
        }
        self.validate = validate
        self.card = self._make_card()

    def _make_card(self) -> DataCard:
        sensor = self.params["sensor"]
        # a known sensor fixes the band count, which the first scene is then checked against
        known = SENSORS[str(sensor)].bands if sensor in SENSORS else None
        try:
            first = self.scenes[0].read(known)
        except WrongBandCount as exc:
            raise DataFormatError(
                f"{exc.source}: MS has {exc.found} bands, expected {exc.expected} for sensor {sensor} (wrong band count)"
            ) from None
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
