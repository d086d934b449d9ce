"""IVF/MIF image-pair folders: MSRS, TNO, RoadScene, M3FD, LLVIP, VIFB, Harvard medical.

A dataset split is two folders whose images pair up by file stem (``ir/00024N.png`` with
``vi/00024N.png``; extensions may differ). Pairing is strict: an image without its partner, or two
files with one stem, is an error naming the files, because silently dropping pairs changes a
benchmark. Items carry single-channel (1,H,W) float32 arrays in 0..255 — the second modality as
luminance, its chroma in ``extras["<field>_cbcr"]`` (see :mod:`.images`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError
from ..protocols import FusionItem
from ..specs import DataCard
from .base import FusionDatasetBase
from .builders import pair_item
from .catalog import CatalogEntry
from .hashing import files_sha256
from .images import COLOUR_INFO, IMAGE_SUFFIXES, read_image, to_luminance
from .locate import find_dir_pair
from .located import EntryOpeners, LocatedDataset
from .paths import resolve_user_path


@dataclass(frozen=True)
class ImagePair:
    image_id: str
    a: Path
    b: Path


def _images_by_stem(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() not in IMAGE_SUFFIXES or p.name.startswith("."):
            continue
        if p.stem in out:
            raise DataFormatError(f"{folder}: two images share the stem {p.stem!r}: {out[p.stem].name}, {p.name}")
        out[p.stem] = p
    return out


def match_pairs(dir_a: Path, dir_b: Path) -> list[ImagePair]:
    """Pair the images of two folders by stem; raise on unpaired images or an empty result."""
    a, b = _images_by_stem(dir_a), _images_by_stem(dir_b)
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} in {dir_a} have no partner in {dir_b} (e.g. {only_a[:3]})")
        if only_b:
            parts.append(f"{len(only_b)} in {dir_b} have no partner in {dir_a} (e.g. {only_b[:3]})")
        raise DataFormatError("unpaired images: " + "; ".join(parts))
    if not a:
        raise DataFormatError(f"{dir_a} and {dir_b}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return [ImagePair(stem, a[stem], b[stem]) for stem in sorted(a)]


def item_from_pixels(
    image_id: str,
    fields: tuple[str, str],
    colour_field: str | None,
    pa: np.ndarray,
    pb: np.ndarray,
    extras: dict[str, Any] | None = None,
) -> FusionItem:
    """A pair item from two decoded images: luminance to the model, chroma of ``colour_field`` kept.

    Shared by the folder readers and the synthetic generator, so both hand out identical layouts.
    """
    la, lb = to_luminance(pa), to_luminance(pb)
    fa, fb = fields
    out: dict[str, Any] = dict(extras or {})
    out.update({f"{fa}_kind": la.kind, f"{fb}_kind": lb.kind})
    for field, lum in ((fa, la), (fb, lb)):
        if lum.cbcr is None:
            continue
        if field == colour_field:
            out[f"{field}_cbcr"] = lum.cbcr
            out["colour"] = dict(COLOUR_INFO)
        else:
            out[f"{field}_note"] = "colour source reduced to its luminance"
    return pair_item(image_id, fields=fields, a=la.y, b=lb.y, extras=out)


class _PairReader:
    """Mixin: items, counts, sources and hashes for datasets built from :class:`ImagePair` lists."""

    name: str
    fields: tuple[str, str]
    colour_field: str | None
    card: DataCard

    def _pairs(self, split: str) -> list[ImagePair]:  # pragma: no cover - provided by the concrete class
        raise NotImplementedError

    def n_items(self, split: str = "test") -> int:
        self.require_split(split)  # type: ignore[attr-defined]
        return len(self._pairs(split))

    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        pair = self._pairs(split)[index]
        source = f"{pair.a} + {pair.b}"
        pa, pb = read_image(pair.a), read_image(pair.b)
        if pa.shape[:2] != pb.shape[:2]:
            raise DataFormatError(
                f"{source}: sizes differ ({pa.shape[1]}×{pa.shape[0]} vs {pb.shape[1]}×{pb.shape[0]} W×H); "
                "pairs must be registered at the same size"
            )
        extras = {"source": {self.fields[0]: str(pair.a), self.fields[1]: str(pair.b)}}
        return item_from_pixels(pair.image_id, self.fields, self.colour_field, pa, pb, extras), source

    def sources(self, split: str) -> list[Path]:
        return [p for pair in self._pairs(split) for p in (pair.a, pair.b)]

    def content_sha256(self, split: str = "test") -> str:
        self.require_split(split)  # type: ignore[attr-defined]
        files = self.sources(split)
        base = Path(*_common_parts(files))
        return files_sha256(files, base=base)


def _common_parts(files: list[Path]) -> tuple[str, ...]:
    parts = [f.parent.parts for f in files]
    common: list[str] = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common) or ("/",)


class PairFolderDataset(_PairReader, LocatedDataset):
    """A catalog pair dataset (``msrs``, ``tno``, ``harvard-mri-pet``, ...)."""

    def __init__(self, entry: CatalogEntry, root: str | Path | None = None, validate: bool = True):
        self.fields = entry.fields
        self.colour_field = entry.colour_field
        self.validate = validate
        self._listing: dict[str, list[ImagePair]] = {}
        super().__init__(entry, root)

    def _locate(self, root: Path, split: str) -> tuple[Path, Path] | None:
        return find_dir_pair(root, self.entry.pair_dirs[split])

    def _pairs(self, split: str) -> list[ImagePair]:
        if split not in self._listing:
            self._listing[split] = match_pairs(*self._found[split])
        return self._listing[split]


class CustomPairDataset(_PairReader, FusionDatasetBase):
    """Any two folders of paired images (``custom-pairs-ivf``, ``custom-pairs-mif``)."""

    splits = ("test",)

    def __init__(self, name: str, task: str, dir_a: Path, dir_b: Path, validate: bool = True):
        self.name, self.task, self.protocol = name, task, "none"
        self.fields = ("ir", "vi") if task == "ivf" else ("mri", "other")
        self.colour_field = self.fields[1]
        self.card = DataCard(sensor=name, max_value=255.0)
        self.dirs = (dir_a, dir_b)
        self.validate = validate
        self._listing = match_pairs(dir_a, dir_b)

    def available_splits(self) -> tuple[str, ...]:
        return ("test",)

    def _pairs(self, split: str) -> list[ImagePair]:
        return self._listing


def open_entry(entry: CatalogEntry, root: str | Path | None = None, validate: bool = True) -> PairFolderDataset:
    return PairFolderDataset(entry, root, validate=validate)


openers = EntryOpeners(open_entry)


def open_custom_ivf(root: str | Path | None = None, ir: str = "", vi: str = "") -> CustomPairDataset:
    """Factory of ``custom-pairs-ivf``: folders ``ir`` and ``vi`` (absolute, or under the data root)."""
    name = "custom-pairs-ivf"
    return CustomPairDataset(name, "ivf", resolve_user_path(ir, root, name), resolve_user_path(vi, root, name))


def open_custom_mif(root: str | Path | None = None, mri: str = "", other: str = "") -> CustomPairDataset:
    """Factory of ``custom-pairs-mif``: folders ``mri`` and ``other`` (CT/PET/SPECT)."""
    name = "custom-pairs-mif"
    return CustomPairDataset(name, "mif", resolve_user_path(mri, root, name), resolve_user_path(other, root, name))
