"""Build :class:`FusionItem` objects per task, so every reader and generator emits the same shape.

Readers hand over arrays in the dataset's native units; the builders fix dtype and layout
(channel-first, float64 for pansharpening/MHIF, float32 for IVF/MIF), fill in fields that a
source may lack (``lms`` by the 23-tap interpolator, as PanCollection makes it) and name the
extras consistently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..protocols import FusionItem


def upsample_23tap(ms: np.ndarray, ratio: int) -> np.ndarray:
    """``lms`` as PanCollection makes it: ``interp23tap`` of the LR image (PanCollection's data-generation code)."""
    from ..imaging.interp import interp23tap

    return np.asarray(interp23tap(np.asarray(ms, dtype=np.float64), ratio), dtype=np.float64)


def pansharpening_item(
    image_id: str,
    *,
    pan: np.ndarray,
    ms: np.ndarray,
    ratio: int,
    lms: np.ndarray | None = None,
    gt: np.ndarray | None = None,
    extras: Mapping[str, Any] | None = None,
) -> FusionItem:
    """An item with fields ``pan`` (1,H,W), ``ms`` (C,h,w), ``lms`` (C,H,W), reference ``gt``."""
    pan = np.asarray(pan, dtype=np.float64)
    if pan.ndim == 2:
        pan = pan[None]
    ms = np.asarray(ms, dtype=np.float64)
    extra = dict(extras or {})
    if lms is None:
        lms = upsample_23tap(ms, ratio)
        extra["lms_source"] = "interp23tap"
    return FusionItem(
        image_id=image_id,
        inputs={"pan": pan, "ms": ms, "lms": np.asarray(lms, dtype=np.float64)},
        reference=None if gt is None else np.asarray(gt, dtype=np.float64),
        extras=extra,
    )


def mhif_item(
    image_id: str,
    *,
    hrmsi: np.ndarray,
    lrhsi: np.ndarray,
    ratio: int,
    hsi_up: np.ndarray | None = None,
    gt: np.ndarray | None = None,
    extras: Mapping[str, Any] | None = None,
) -> FusionItem:
    """An item with fields ``hrmsi`` (3,H,W), ``lrhsi`` (C,h,w), ``hsi_up`` (C,H,W), reference ``gt``."""
    lrhsi = np.asarray(lrhsi, dtype=np.float64)
    extra = dict(extras or {})
    if hsi_up is None:
        hsi_up = upsample_23tap(lrhsi, ratio)
        extra["hsi_up_source"] = "interp23tap"
    return FusionItem(
        image_id=image_id,
        inputs={
            "hrmsi": np.asarray(hrmsi, dtype=np.float64),
            "lrhsi": lrhsi,
            "hsi_up": np.asarray(hsi_up, dtype=np.float64),
        },
        reference=None if gt is None else np.asarray(gt, dtype=np.float64),
        extras=extra,
    )


def pair_item(
    image_id: str,
    *,
    fields: tuple[str, str],
    a: np.ndarray,
    b: np.ndarray,
    extras: Mapping[str, Any] | None = None,
) -> FusionItem:
    """An IVF/MIF item: two single-channel (1,H,W) float32 images in 0..255 under ``fields``."""

    def prep(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        return x[None] if x.ndim == 2 else x

    return FusionItem(
        image_id=image_id,
        inputs={fields[0]: prep(a), fields[1]: prep(b)},
        reference=None,
        extras=dict(extras or {}),
    )


def index_ids(n: int) -> list[str]:
    """Zero-padded ids ``00 .. n-1`` for stacks whose samples have no names."""
    width = max(2, len(str(max(n - 1, 0))))
    return [f"{i:0{width}d}" for i in range(n)]
