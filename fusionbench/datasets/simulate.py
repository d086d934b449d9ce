"""Wald-protocol simulation: reduced-resolution pansharpening data from full-resolution MS + PAN.

Wald's protocol evaluates at a scale where a reference exists: degrade MS and PAN by the
resolution ratio, fuse the degraded pair, and compare with the original MS. How the degradation
is done decides whether simulated data match the field's released data, so this module only
*composes* the verified primitives of :mod:`fusionbench.imaging` (Wald's protocol as the Pansharpening Toolbox's ``MTF.m`` / ``resize_images.m`` implement it):

- MS: each band filtered with the sensor's MTF-matched 41×41 kernel (GNyq per band, replicate
  borders, kernel not renormalised), then decimated keeping 0-based rows/cols 2, 6, 10, …
  (:func:`fusionbench.imaging.mtf.wald_degrade`). This reproduces the Deng-group WV3 and Pléiades
  samples to ~1e-11 DN.
- PAN: the toolbox's ``imresize(PAN, 1/r)`` (antialiased bicubic) by default, or the MTF-matched
  PAN filter (``pan_mode="mtf"``, as Z-PNN's pipeline does); which one produced each PanCollection
  file is not known, so the choice is recorded in the item's extras.
- ``lms``: the 23-tap interpolator of the degraded MS, as PanCollection's ``lms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import DataFormatError
from ..protocols import FusionItem
from ..specs import DataCard
from .builders import pansharpening_item

PanMode = Literal["imresize", "mtf"]
PAN_MODES: tuple[str, ...] = ("imresize", "mtf")


@dataclass(frozen=True)
class WaldConfig:
    """The constants of one degradation: ratio, per-band MS GNyq, PAN mode (and GNyq for "mtf")."""

    ratio: int
    mtf_gnyq: tuple[float, ...]
    pan_mode: PanMode = "imresize"
    pan_gnyq: float | None = None
    kernel_size: int = 41

    @classmethod
    def from_card(cls, card: DataCard, pan_mode: PanMode = "imresize") -> WaldConfig:
        if card.ratio is None or card.mtf_gnyq is None:
            raise ValueError(f"data card of sensor {card.sensor!r} has no ratio/MTF constants for Wald simulation")
        return cls(int(card.ratio), tuple(card.mtf_gnyq), pan_mode, card.pan_gnyq)

    def __post_init__(self) -> None:
        if self.pan_mode not in PAN_MODES:
            raise ValueError(f"pan_mode must be one of {PAN_MODES}, got {self.pan_mode!r}")
        if self.pan_mode == "mtf" and self.pan_gnyq is None:
            raise ValueError(
                "pan_mode='mtf' needs a PAN GNyq; this sensor has none (e.g. GF2): use pan_mode='imresize'"
            )


def degrade_ms(ms: np.ndarray, gnyq: Sequence[float] | float, ratio: int, kernel_size: int = 41) -> np.ndarray:
    """MTF-filter each band of ``ms`` (C,H,W) and decimate by ``ratio`` (MTF-matched Gaussian, then decimation)."""
    from ..imaging.mtf import wald_degrade

    return np.asarray(wald_degrade(np.asarray(ms, dtype=np.float64), gnyq, ratio, kernel_size), dtype=np.float64)


def degrade_pan(pan: np.ndarray, config: WaldConfig) -> np.ndarray:
    """Reduce ``pan`` (1,H,W) by the ratio with the configured PAN degradation."""
    pan = np.asarray(pan, dtype=np.float64)
    if config.pan_mode == "mtf":
        assert config.pan_gnyq is not None
        return degrade_ms(pan, config.pan_gnyq, config.ratio, config.kernel_size)
    from ..imaging.matlab import imresize_bicubic

    return np.asarray(imresize_bicubic(pan, 1.0 / config.ratio), dtype=np.float64)


def crop_to_multiple(
    ms: np.ndarray, pan: np.ndarray, ratio: int, source: str = "scene"
) -> tuple[np.ndarray, np.ndarray]:
    """Crop MS (C,h,w) and PAN (1,h·r,w·r) so that h and w are multiples of ``ratio``.

    Raises :class:`DataFormatError` when PAN is not exactly ``ratio`` times MS.
    """
    h, w = ms.shape[-2:]
    H, W = pan.shape[-2:]
    if (H, W) != (h * ratio, w * ratio):
        raise DataFormatError(
            f"{source}: PAN is {H}×{W} but MS is {h}×{w}; ratio {ratio} needs PAN {h * ratio}×{w * ratio} "
            "(mismatched PAN/MS sizes)"
        )
    hh, ww = h - h % ratio, w - w % ratio
    if hh == 0 or ww == 0:
        raise DataFormatError(f"{source}: MS {h}×{w} is smaller than the ratio {ratio}; nothing to simulate")
    return ms[..., :hh, :ww], pan[..., : hh * ratio, : ww * ratio]


def wald_reduce(
    ms: np.ndarray, pan: np.ndarray, config: WaldConfig, source: str = "scene"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From full-resolution ``ms`` (C,h,w) and ``pan`` (1,h·r,w·r): (gt, ms_lr, pan_lr).

    ``gt`` is the original MS (cropped to a multiple of the ratio), ``ms_lr`` is (C,h/r,w/r),
    ``pan_lr`` is (1,h,w).
    """
    ms = np.asarray(ms, dtype=np.float64)
    pan = np.asarray(pan, dtype=np.float64)
    if pan.ndim == 2:
        pan = pan[None]
    if len(config.mtf_gnyq) != ms.shape[0]:
        raise DataFormatError(
            f"{source}: MS has {ms.shape[0]} bands but the sensor has {len(config.mtf_gnyq)} GNyq values (wrong band count)"
        )
    gt, pan = crop_to_multiple(ms, pan, config.ratio, source)
    return gt, degrade_ms(gt, config.mtf_gnyq, config.ratio, config.kernel_size), degrade_pan(pan, config)


def simulate_reduced_item(
    image_id: str, ms: np.ndarray, pan: np.ndarray, config: WaldConfig, source: str = "scene"
) -> FusionItem:
    """A reduced-resolution item (gt, ms, lms, pan) made from a full-resolution scene."""
    gt, ms_lr, pan_lr = wald_reduce(ms, pan, config, source)
    return pansharpening_item(
        image_id,
        pan=pan_lr,
        ms=ms_lr,
        gt=gt,
        ratio=config.ratio,
        extras={"source": source, "simulation": "wald", "pan_mode": config.pan_mode},
    )


def resimulation_error(gt: np.ndarray, ms: np.ndarray, gnyq: Sequence[float] | float, ratio: int) -> float:
    """Max |wald_degrade(gt) − ms| in the data's units: ~1e-11 when ``ms`` was made from ``gt`` by Wald's protocol.

    A large value means a different filter, a wrong GNyq, or a decimation phase error (the known
    defect of some QB training patches).
    """
    sim = degrade_ms(gt, gnyq, ratio)
    ms = np.asarray(ms, dtype=np.float64)
    if sim.shape != ms.shape:
        raise DataFormatError(f"re-simulated MS has shape {sim.shape}, the stored MS {ms.shape}")
    return float(np.max(np.abs(sim - ms)))
