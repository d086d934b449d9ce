"""Data cards: the constants a dataset carries so metrics and models agree.

Pansharpening cards come from the single sensor table :mod:`fusionbench.sensors`; nothing here
repeats a GNyq value. This module imports no numpy/h5py/torch, so the plugin may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..sensors import get_sensor
from ..specs import DataCard, frozen_mapping
from .catalog import CatalogEntry
from .synthetic_catalog import GENERATOR_VERSION, HSI_GNYQ, SyntheticConfig


def pansharpening_card(sensor: str, bands: int | None = None, extra: Mapping[str, Any] | None = None) -> DataCard:
    """The card of a pansharpening dataset from the sensor table (case-sensitive names, e.g. ``"WV3"``)."""
    s = get_sensor(sensor, bands)
    info = {"L": s.L, "known_sensor": s.known}
    info.update(extra or {})
    return DataCard(
        sensor=s.name,
        ratio=s.ratio,
        bands=s.bands,
        max_value=s.max_dn,
        mtf_gnyq=tuple(s.ms_gnyq),
        pan_gnyq=s.pan_gnyq,
        extra=frozen_mapping(info),
    )


def card_for_entry(entry: CatalogEntry) -> DataCard:
    """The card of a catalog dataset."""
    if entry.task == "pansharpening":
        return pansharpening_card(entry.sensor, entry.bands, entry.extra)
    return DataCard(
        sensor=entry.sensor,
        ratio=entry.ratio,
        bands=entry.bands,
        max_value=entry.max_value,
        extra=frozen_mapping(entry.extra),
    )


def synthetic_card(config: SyntheticConfig, options: Mapping[str, Any] | None = None) -> DataCard:
    """The card of a ``synthetic-*`` dataset; ``extra`` marks it synthetic and names the generator."""
    extra: dict[str, Any] = {
        "synthetic": True,
        "generator": f"fusionbench.synthetic.{config.kind}/{GENERATOR_VERSION}",
        **dict(config.options),
        **dict(options or {}),
    }
    if config.task == "pansharpening":
        return pansharpening_card(config.sensor, config.bands, extra)
    if config.task == "mhif":
        extra["lr_degradation"] = f"MTF-matched Gaussian, GNyq {HSI_GNYQ}, decimation phase ratio//2"
        return DataCard(
            sensor=config.sensor, ratio=config.ratio, bands=config.bands, max_value=1.0, extra=frozen_mapping(extra)
        )
    return DataCard(sensor=config.sensor, max_value=255.0, extra=frozen_mapping(extra))
