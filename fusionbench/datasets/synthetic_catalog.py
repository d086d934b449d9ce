"""The embedded synthetic datasets: names, sizes and seeds (pure data, importable by the plugin).

Every name starts with ``synthetic-`` and every spec has ``synthetic=True``, so no leaderboard
can mistake these for PanCollection, CAVE, TNO, ... Their content is made on the fly by
:mod:`.synthetic` from the parameters below; the content hash is the hash of those parameters
and the generator version, so changing either changes every result key.

Sizes are chosen for 2 CPU cores: the reduced-resolution test splits are 5 images with PAN
128×128 (MS 32×32), full resolution PAN 256×256 (a multiple of 32 for QNR blocks), training
splits a few hundred 64×64 patches generated on demand (nothing is stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

GENERATOR_VERSION = "1"
HSI_GNYQ = 0.3
"""MTF gain at Nyquist used to degrade the synthetic HSI (the toolbox's generic default)."""
SYNTHETIC_FACTORY = "fusionbench.datasets.synthetic:openers.{name}"


@dataclass(frozen=True)
class SplitSize:
    """``count`` items of ``size`` (H, W) at the output resolution (PAN / HR-MSI / image)."""

    count: int
    size: tuple[int, int]


@dataclass(frozen=True)
class SyntheticConfig:
    name: str
    task: str
    protocol: str
    kind: str  # generator: "pansharpening" | "mhif" | "ivf" | "mif"
    splits: Mapping[str, SplitSize]
    description: str
    sensor: str = "none"
    ratio: int | None = None
    bands: int | None = None
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    train_from: str = ""  # dataset whose train split trains models for this one (full-res: its -rr twin)

    @property
    def factory(self) -> str:
        return SYNTHETIC_FACTORY.format(name=self.name)


def _ro(m: Mapping) -> Mapping:
    return MappingProxyType(dict(m))


def _pansharpening() -> list[SyntheticConfig]:
    out = []
    for i, (s, S, bands) in enumerate((("wv3", "WV3", 8), ("wv2", "WV2", 8), ("qb", "QB", 4), ("gf2", "GF2", 4))):
        out.append(
            SyntheticConfig(
                name=f"synthetic-{s}-rr",
                task="pansharpening",
                protocol="reduced",
                kind="pansharpening",
                sensor=S,
                ratio=4,
                bands=bands,
                seed=1000 + 10 * i,
                splits=_ro(
                    {
                        "test": SplitSize(5, (128, 128)),
                        "train": SplitSize(400, (64, 64)),
                        "valid": SplitSize(40, (64, 64)),
                    }
                ),
                description=(
                    f"SYNTHETIC {S}-like scenes (not real {S} data): 5 test images PAN 128×128 / MS 32×32×{bands}, "
                    f"{bands}-band material spectra, MS by the {S} MTF-matched Wald degradation; 400 train patches 64×64"
                ),
            )
        )
        out.append(
            SyntheticConfig(
                name=f"synthetic-{s}-fr",
                task="pansharpening",
                protocol="full",
                kind="pansharpening",
                sensor=S,
                ratio=4,
                bands=bands,
                seed=1001 + 10 * i,
                splits=_ro({"test": SplitSize(5, (256, 256))}),
                train_from=f"synthetic-{s}-rr",
                description=f"SYNTHETIC {S}-like full-resolution scenes: 5 images PAN 256×256 / MS 64×64×{bands}, no reference",
            )
        )
    return out


SYNTHETIC_LIST: tuple[SyntheticConfig, ...] = (
    *_pansharpening(),
    SyntheticConfig(
        name="synthetic-cave-x4",
        task="mhif",
        protocol="reduced",
        kind="mhif",
        sensor="synthetic-hsi",
        ratio=4,
        bands=31,
        seed=2000,
        splits=_ro(
            {"test": SplitSize(4, (128, 128)), "train": SplitSize(300, (64, 64)), "valid": SplitSize(30, (64, 64))}
        ),
        description=(
            "SYNTHETIC CAVE-like scenes (not CAVE): 31 bands 400–700 nm in [0, 1], RGB HR-MSI from a stand-in camera "
            "response, LR-HSI ×4 by MTF-matched (GNyq 0.3) degradation; 4 test images 128×128, 300 train patches 64×64"
        ),
        options=_ro({"rgb_order": "rgb"}),
    ),
    SyntheticConfig(
        name="synthetic-ivf",
        task="ivf",
        protocol="none",
        kind="ivf",
        sensor="synthetic-ivf",
        seed=3000,
        splits=_ro({"test": SplitSize(6, (128, 160)), "train": SplitSize(300, (64, 64))}),
        description=(
            "SYNTHETIC infrared–visible pairs (not TNO/MSRS): hot targets in smooth IR, texture and detail in a colour "
            "visible image darkened in part of the frame; 6 test pairs 128×160, 300 train patches 64×64, values 0..255"
        ),
        options=_ro({"colour": True}),
    ),
    SyntheticConfig(
        name="synthetic-mif",
        task="mif",
        protocol="none",
        kind="mif",
        sensor="synthetic-mif",
        seed=4000,
        splits=_ro({"test": SplitSize(6, (128, 128)), "train": SplitSize(300, (64, 64))}),
        description=(
            "SYNTHETIC MRI–CT/PET/SPECT pairs (not Harvard): brain-like MRI with CT (bone), PET or SPECT (pseudo-colour "
            "functional blobs) cycling over items; 6 test pairs 128×128, 300 train patches 64×64, values 0..255"
        ),
        options=_ro({"modality": "mixed"}),
    ),
)

SYNTHETIC: Mapping[str, SyntheticConfig] = MappingProxyType({c.name: c for c in SYNTHETIC_LIST})


def get_config(name: str) -> SyntheticConfig:
    try:
        return SYNTHETIC[name]
    except KeyError:
        raise KeyError(f"no synthetic dataset {name!r}; known: {', '.join(sorted(SYNTHETIC))}") from None
