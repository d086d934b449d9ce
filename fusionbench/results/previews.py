"""Small PNG previews of fused images, for the leaderboard page and comparison panels.

Display scaling is taken from the reference image when there is one (else from the first input
that has the output's shape), so every method's preview of the same image is stretched the same
way and differences between methods are visible rather than normalised away.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .store import safe_name, write_bytes_atomic

DEFAULT_RGB = {8: (4, 2, 1), 4: (2, 1, 0), 3: (0, 1, 2)}


def display_bands(channels: int, card_extra: Mapping[str, Any] | None = None) -> tuple[int, ...]:
    """Which bands make the RGB preview (a 1-band image is shown grey)."""
    if card_extra and card_extra.get("rgb_bands"):
        return tuple(int(b) for b in card_extra["rgb_bands"])
    if channels in DEFAULT_RGB:
        return DEFAULT_RGB[channels]
    if channels == 1:
        return (0,)
    # hyperspectral: three bands spread across the spectrum (red, green, blue order)
    return (int(channels * 0.8), int(channels * 0.5), int(channels * 0.15))


def stretch_limits(image: np.ndarray, bands: Sequence[int], low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Per displayed band (low, high) percentiles: shape (len(bands), 2)."""
    picked = image[list(bands)].reshape(len(bands), -1)
    return np.stack([np.percentile(picked, low, axis=1), np.percentile(picked, high, axis=1)], axis=1)


def to_uint8(image: np.ndarray, bands: Sequence[int], limits: np.ndarray) -> np.ndarray:
    """(C, H, W) float → (H, W, 3) uint8 with the given per-band limits."""
    picked = image[list(bands)].astype(np.float64)
    lo = limits[:, 0][:, None, None]
    hi = limits[:, 1][:, None, None]
    scaled = np.clip((picked - lo) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
    rgb = np.repeat(scaled, 3, axis=0) if len(bands) == 1 else scaled
    return np.round(np.moveaxis(rgb, 0, -1) * 255.0).astype(np.uint8)


def png_bytes(rgb: np.ndarray, max_side: int = 256) -> bytes:
    from PIL import Image

    picture = Image.fromarray(rgb)
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)  # thumbnails: speed over the last few % of size
    return buffer.getvalue()


def preview_dir(results: Path, suite: str, run_key: str) -> Path:
    return results / "previews" / f"suite={safe_name(suite)}" / run_key


def save_preview(
    results: Path,
    suite: str,
    run_key: str,
    image_id: str,
    pred: np.ndarray,
    reference: np.ndarray | None,
    card_extra: Mapping[str, Any] | None = None,
    max_value: float = 1.0,
    sources: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write ``<results>/previews/suite=<s>/<run_key>/<image_id>.png`` (and the reference, the
    error map and the model's inputs beside it: ``<image_id>.source-<field>.png``)."""
    bands = display_bands(pred.shape[0], card_extra)
    basis = reference if reference is not None and reference.shape == pred.shape else pred
    limits = stretch_limits(basis, bands)
    folder = preview_dir(results, suite, run_key)
    path = folder / f"{safe_name(image_id)}.png"
    write_bytes_atomic(path, png_bytes(to_uint8(pred, bands, limits)))
    if reference is not None and reference.shape == pred.shape:
        write_bytes_atomic(
            folder / f"{safe_name(image_id)}.reference.png", png_bytes(to_uint8(reference, bands, limits))
        )
        write_bytes_atomic(
            folder / f"{safe_name(image_id)}.error.png", png_bytes(error_map(pred, reference, max_value))
        )
    for name, source in (sources or {}).items():
        write_bytes_atomic(
            folder / f"{safe_name(image_id)}.source-{safe_name(name)}.png", source_png(source, pred, bands, limits)
        )
    return path


def source_png(source: np.ndarray, pred: np.ndarray, bands: Sequence[int], limits: np.ndarray) -> bytes:
    """A model input as shown beside the fused images: an input with the output's bands (LMS, the
    upsampled HSI) is stretched exactly like them, so colours compare; any other (PAN, IR, VI, a
    low-resolution MS) with its own percentiles."""
    if source.ndim == 2:
        source = source[None]
    if source.shape[0] == pred.shape[0]:
        return png_bytes(to_uint8(source, bands, limits))
    own = display_bands(source.shape[0])
    return png_bytes(to_uint8(source, own, stretch_limits(source, own)))


def source_previews(folder: Path, image_id: str) -> dict[str, Path]:
    """The saved inputs of one image of a run: ``{field: png path}`` in field order of saving."""
    prefix = f"{safe_name(image_id)}.source-"
    return {p.name[len(prefix) : -len(".png")]: p for p in sorted(folder.glob(f"{prefix}*.png"))}


ERROR_MAP_FRACTION = 0.1
"""Error maps saturate at 10 % of the data range, so maps of different methods share a scale."""


def error_map(pred: np.ndarray, reference: np.ndarray, max_value: float) -> np.ndarray:
    """Grey (H, W, 3) uint8 of the per-pixel mean absolute error over bands."""
    error = np.abs(pred.astype(np.float64) - reference).mean(axis=0)
    scaled = np.clip(error / (ERROR_MAP_FRACTION * max_value), 0.0, 1.0)
    grey = np.round(scaled * 255.0).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)
