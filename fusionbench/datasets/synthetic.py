"""Embedded synthetic datasets: deterministic, no download, generated item by item on demand.

Each item is drawn from its own ``numpy`` Generator seeded by (dataset seed, split, index), so
item 17 of the training split is the same whether it is read first, last or alone, and the
whole dataset is defined by the parameters in :mod:`.synthetic_catalog` (whose hash is the
content hash). The sensor side reuses the benchmark's own primitives: the MTF-matched Wald
degradation (:mod:`.simulate`) and ``interp23tap`` for pansharpening, the same luminance/CbCr
split as the real IVF/MIF readers (:func:`.pairs.item_from_pixels`).
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError
from ..protocols import FusionItem
from .base import FusionDatasetBase
from .builders import index_ids, mhif_item, pansharpening_item
from .cards import synthetic_card
from .hashing import params_sha256
from .located import EntryOpeners
from .pairs import item_from_pixels
from .simulate import degrade_ms
from .synth_pairs import ivf_pair, mif_pair
from .synth_spectral import BAND_MODELS, camera_srf, hsi_wavelengths, indoor_hsi_scene, remote_sensing_scene
from .synthetic_catalog import GENERATOR_VERSION, HSI_GNYQ, SyntheticConfig, get_config

MIF_MODALITIES = ("ct", "pet", "spect")
CACHE_MAX_ITEMS = 32
"""Splits this small (the test splits) are generated once per process and kept; callers get copies."""


def _copy_item(item: FusionItem) -> FusionItem:
    """A copy whose arrays the caller may modify without touching the cache."""
    copy = lambda v: v.copy() if isinstance(v, np.ndarray) else v  # noqa: E731
    return replace(
        item,
        inputs={k: v.copy() for k, v in item.inputs.items()},
        reference=None if item.reference is None else item.reference.copy(),
        extras={k: copy(v) for k, v in item.extras.items()},
    )


class SyntheticDataset(FusionDatasetBase):
    """A ``synthetic-*`` dataset; ``seed`` and the generator options can be overridden."""

    def __init__(self, config: SyntheticConfig, seed: int | None = None, validate: bool = True, **options: Any):
        unknown = set(options) - set(config.options)
        if unknown:
            raise TypeError(
                f"dataset {config.name!r} has no option(s) {sorted(unknown)}; options: {sorted(config.options)}"
            )
        self.config_name = config.name
        self.name, self.task, self.protocol = config.name, config.task, config.protocol
        self.splits = tuple(config.splits)
        self.seed = config.seed if seed is None else int(seed)
        self.options = {**config.options, **options}
        self.validate = validate
        if self.task == "mif" and self.options.get("modality") not in (*MIF_MODALITIES, "mixed"):
            raise ValueError(
                f"modality must be one of {(*MIF_MODALITIES, 'mixed')}, got {self.options.get('modality')!r}"
            )
        self.card = synthetic_card(config, self.options)
        self._cache: dict[tuple[str, int], FusionItem] = {}

    @property
    def config(self) -> SyntheticConfig:
        return get_config(self.config_name)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_cache"] = {}  # regenerated on demand in the receiving process
        return state

    # -- FusionDatasetBase ---------------------------------------------------------------------
    def available_splits(self) -> tuple[str, ...]:
        return self.splits

    def n_items(self, split: str = "test") -> int:
        self.require_split(split)
        return self.config.splits[split].count

    def parameters(self, split: str) -> dict[str, Any]:
        """Everything that determines the split's content (what the content hash covers)."""
        size = self.config.splits[split]
        return {
            "name": self.name,
            "split": split,
            "count": size.count,
            "size": list(size.size),
            "seed": self.seed,
            "sensor": self.config.sensor,
            "ratio": self.config.ratio,
            "bands": self.config.bands,
            "options": dict(self.options),
        }

    def content_sha256(self, split: str = "test") -> str:
        self.require_split(split)
        return params_sha256(f"fusionbench.synthetic.{self.config.kind}", GENERATOR_VERSION, self.parameters(split))

    def rng(self, split: str, index: int) -> np.random.Generator:
        """The item's own generator: independent of iteration order."""
        return np.random.default_rng([self.seed, zlib.crc32(split.encode()), index])

    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        """Generate (or copy from the cache of small splits) one item."""
        source = f"{self.name} (generated, seed {self.seed}, split {split}, index {index})"
        key = (split, index)
        if key not in self._cache:
            item = self._generate(split, index, source)
            if self.config.splits[split].count > CACHE_MAX_ITEMS:
                return item, source
            self._cache[key] = item
        return _copy_item(self._cache[key]), source

    def _generate(self, split: str, index: int, source: str) -> FusionItem:
        size = self.config.splits[split].size
        image_id = f"{split}-{index_ids(self.config.splits[split].count)[index]}"
        rng = self.rng(split, index)
        kind = self.config.kind
        if kind == "pansharpening":
            item = self._pansharpening(rng, image_id, size)
        elif kind == "mhif":
            item = self._mhif(rng, image_id, size)
        elif kind == "ivf":
            ir, vi = ivf_pair(rng, size, colour=bool(self.options.get("colour", True)))
            item = item_from_pixels(image_id, ("ir", "vi"), "vi", ir, vi)
        elif kind == "mif":
            modality = str(self.options["modality"])
            if modality == "mixed":
                modality = MIF_MODALITIES[index % len(MIF_MODALITIES)]
            mri, other = mif_pair(rng, size, modality)
            item = item_from_pixels(
                image_id, ("mri", "other"), "other", mri, other, {"other_modality": modality.upper()}
            )
        else:  # pragma: no cover - the catalog only names the kinds above
            raise DataFormatError(f"{source}: unknown generator kind {kind!r}")
        return replace(item, extras={**item.extras, "synthetic": True, "seed": self.seed})

    # -- generators ----------------------------------------------------------------------------
    def _pansharpening(self, rng: np.random.Generator, image_id: str, size: tuple[int, int]) -> FusionItem:
        card = self.card
        ratio = int(card.ratio or 4)
        hr, pan = remote_sensing_scene(rng, size[0], BAND_MODELS[card.sensor], card.max_value)
        ms = degrade_ms(hr, card.mtf_gnyq or 0.3, ratio)
        gt = hr if self.protocol == "reduced" else None
        return pansharpening_item(image_id, pan=pan, ms=ms, gt=gt, ratio=ratio)

    def _mhif(self, rng: np.random.Generator, image_id: str, size: tuple[int, int]) -> FusionItem:
        ratio = int(self.card.ratio or 4)
        bands = int(self.card.bands or 31)
        gt = np.floor(indoor_hsi_scene(rng, size[0], bands) * 65535 + 0.5) / 65535  # 16-bit like CAVE PNGs
        srf = camera_srf(hsi_wavelengths(bands))
        hrmsi = np.tensordot(srf, gt, axes=1)
        lrhsi = degrade_ms(gt, HSI_GNYQ, ratio)
        return mhif_item(image_id, hrmsi=hrmsi, lrhsi=lrhsi, gt=gt, ratio=ratio, extras={"rgb_order": "rgb"})

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["generator"] = {"version": GENERATOR_VERSION, "seed": self.seed, "options": dict(self.options)}
        return info

    def sources(self, split: str) -> list[Path]:
        return []


def open_config(
    config: SyntheticConfig, root: str | Path | None = None, seed: int | None = None, **options: Any
) -> SyntheticDataset:
    """Factory of the synthetic datasets (``root`` is accepted and ignored: nothing is read)."""
    return SyntheticDataset(config, seed=seed, **options)


openers = EntryOpeners(open_config, lookup=get_config)
