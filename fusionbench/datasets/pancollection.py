"""PanCollection HDF5 readers (https://github.com/liangjiandeng/PanCollection): WV3, WV2, QB, GF2; reduced and full resolution.

Files hold float64 stacks ``gt`` (N,C,H,W; reduced resolution only), ``ms`` (N,C,h,w), ``lms``
(N,C,H,W) and ``pan`` (N,1,H,W) in raw DN (0..2047, GF2 0..1023). They are read lazily, one
sample per item, and handed out in DN — the quirks of the field's loaders (dividing some keys by
``img_scale`` but not others, truncating to 20 samples, path-dependent layouts) are not copied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataFormatError
from ..protocols import FusionItem
from ..specs import DataCard
from .base import FusionDatasetBase
from .builders import index_ids, pansharpening_item
from .cards import pansharpening_card
from .catalog import CatalogEntry
from .h5stack import H5Stack, StackField
from .hashing import files_sha256
from .locate import find_file
from .located import EntryOpeners, LocatedDataset
from .paths import resolve_user_path


def stack_fields(bands: int | None) -> tuple[StackField, ...]:
    """The PanCollection keys, with the aliases some re-releases use."""
    return (
        StackField("gt", ("gt", "GT", "I_GT"), bands, required=False),
        StackField("ms", ("ms", "MS", "lrms", "I_MS_LR"), bands),
        StackField("lms", ("lms", "LMS", "I_MS"), bands, required=False),
        StackField("pan", ("pan", "PAN", "I_PAN"), 1),
    )


def open_pan_stack(path: Path, card: DataCard, protocol: str) -> H5Stack:
    """Open and validate one PanCollection file for ``protocol`` ("reduced" needs ``gt``)."""
    stack = H5Stack(path, stack_fields(card.bands))
    ratio = int(card.ratio or 4)
    stack.require_scale("pan", "ms", ratio)
    if stack.has("lms"):
        stack.require_same_size("lms", "pan")
    if protocol == "reduced":
        if not stack.has("gt"):
            raise DataFormatError(
                f"{path}: a reduced-resolution file needs a 'gt' dataset but has only {sorted(stack.keys.values())} "
                "(is this a full-resolution OrigScale file?)"
            )
        stack.require_same_size("gt", "pan")
    return stack


def read_pan_item(
    stack: H5Stack, index: int, image_id: str, card: DataCard, protocol: str, scale: float = 1.0
) -> FusionItem:
    """Sample ``index`` of a validated stack as a pansharpening item (DN, float64), times ``scale``."""
    read = (lambda name: stack.read(name, index)) if scale == 1.0 else (lambda name: stack.read(name, index) * scale)
    extras: dict[str, object] = {"source": str(stack.path), "index": index}
    if scale != 1.0:
        extras["scale"] = scale
    return pansharpening_item(
        image_id,
        pan=read("pan"),
        ms=read("ms"),
        lms=read("lms") if stack.has("lms") else None,
        gt=read("gt") if protocol == "reduced" else None,
        ratio=int(card.ratio or 4),
        extras=extras,
    )


def check_dn_units(item: FusionItem, card: DataCard, path: Path, dataset: str, protocol: str) -> bool:
    """Raise when a sample of a DN dataset holds data normalised to [0, 1]; return whether it decided.

    PanCollection files store raw DN (0…2047, GF2 0…1023) and every consumer relies on it: the
    metrics take the data card's ``max_value`` as the peak (PSNR, Q2n quantisation, QNR), and
    trained models divide by it. A file that was normalised to [0, 1] (some loaders and
    re-releases do that) would therefore give wrong numbers *silently*. This is an **error**, not
    a warning: no real DN image of these sensors has every MS and PAN value ≤ 1, so it cannot
    fire on legitimate data, and a user who does want such a file read has an explicit way
    (``custom-h5-rr``/``-fr`` with ``scale=<max DN>``), which is recorded in the run key.

    Cheap: it looks at the ``ms`` and ``pan`` arrays of the item already read. An all-zero sample
    says nothing (returns False, the caller checks the next one).
    """
    if card.max_value is None or card.max_value <= 2.0:
        return True
    peak = max(float(np.max(item.inputs["ms"])), float(np.max(item.inputs["pan"])))
    if peak <= 0.0:
        return False
    if peak <= 1.0:
        suffix = "rr" if protocol == "reduced" else "fr"
        raise DataFormatError(
            f"{path}: the values look normalised to [0, 1] (the largest 'ms'/'pan' value of sample "
            f"{item.extras.get('index', item.image_id)} is {peak:g}), but {dataset!r} hands out raw DN and its "
            f"{card.sensor} data card says values go up to {card.max_value:g}; models and metrics would get "
            "data on the wrong scale. Use the original PanCollection file (it stores DN), or read this one "
            f"rescaled as the custom-h5-{suffix} dataset with the parameters path={path} sensor={card.sensor} "
            f"scale={card.max_value:g} (see docs/datasets.md)."
        )
    return True


class _PanStacks:
    """Mixin: a lazily opened stack per split, items, counts and hashes from ``self._paths()``."""

    card: DataCard
    protocol: str
    name: str
    _stacks: dict[str, H5Stack]
    _units_checked: set[str]
    scale: float = 1.0

    def _path(self, split: str) -> Path:  # pragma: no cover - provided by the concrete class
        raise NotImplementedError

    def _stack(self, split: str) -> H5Stack:
        if split not in self._stacks:
            self._stacks[split] = open_pan_stack(self._path(split), self.card, self.protocol)
        return self._stacks[split]

    def n_items(self, split: str = "test") -> int:
        self.require_split(split)  # type: ignore[attr-defined]
        return len(self._stack(split))

    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        stack = self._stack(split)
        image_id = index_ids(len(stack))[index]
        item = read_pan_item(stack, index, image_id, self.card, self.protocol, self.scale)
        if split not in self._units_checked and check_dn_units(item, self.card, stack.path, self.name, self.protocol):
            self._units_checked.add(split)  # once per split (and process): the first sample read decides
        return item, f"{stack.path} [index {index}]"

    def sources(self, split: str) -> list[Path]:
        return [self._path(split)]

    def content_sha256(self, split: str = "test") -> str:
        self.require_split(split)  # type: ignore[attr-defined]
        path = self._path(split)
        return files_sha256([path], base=path.parent)


class PanCollectionDataset(_PanStacks, LocatedDataset):
    """A catalog PanCollection dataset (``wv3-rr``, ``gf2-fr``, ...); splits test/train/valid."""

    def __init__(self, entry: CatalogEntry, root: str | Path | None = None, validate: bool = True):
        self._stacks = {}
        self._units_checked = set()
        self.validate = validate
        super().__init__(entry, root)

    def _locate(self, root: Path, split: str) -> Path | None:
        return find_file(root, self.entry.files[split])

    def _path(self, split: str) -> Path:
        return self._found[split]


class PanCollectionFile(_PanStacks, FusionDatasetBase):
    """Any one HDF5 file in the PanCollection layout (registered as ``custom-h5-rr``/``custom-h5-fr``).

    ``scale`` multiplies every stored value (e.g. 2047 for a file normalised to [0, 1]); the
    default 1 hands out the values as stored, and a file that looks normalised is an error
    (:func:`check_dn_units`).
    """

    splits = ("test",)

    def __init__(self, path: Path, sensor: str, protocol: str, name: str, validate: bool = True, scale: float = 1.0):
        self.name = name
        self.task = "pansharpening"
        self.protocol = protocol
        self.card = pansharpening_card(sensor)
        self.file = path
        self.validate = validate
        self.scale = float(scale)
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"{name}: scale must be a positive number, got {scale!r}")
        self._stacks = {}
        self._units_checked = set()

    def available_splits(self) -> tuple[str, ...]:
        return ("test",)

    def _path(self, split: str) -> Path:
        return self.file


def open_entry(entry: CatalogEntry, root: str | Path | None = None, validate: bool = True) -> PanCollectionDataset:
    """Factory of the catalog datasets (lazy target ``openers.<name>``)."""
    return PanCollectionDataset(entry, root, validate=validate)


openers = EntryOpeners(open_entry)


def open_custom(
    root: str | Path | None = None, path: str = "", sensor: str = "WV3", protocol: str = "reduced", scale: float = 1.0
) -> PanCollectionFile:
    """Factory of ``custom-h5-rr``/``custom-h5-fr``: one PanCollection-layout file given by ``path``."""
    name = f"custom-h5-{'rr' if protocol == 'reduced' else 'fr'}"
    return PanCollectionFile(resolve_user_path(path, root, name), sensor, protocol, name, scale=float(scale))


def open_custom_rr(
    root: str | Path | None = None, path: str = "", sensor: str = "WV3", scale: float = 1.0
) -> PanCollectionFile:
    return open_custom(root, path, sensor, "reduced", scale)


def open_custom_fr(
    root: str | Path | None = None, path: str = "", sensor: str = "WV3", scale: float = 1.0
) -> PanCollectionFile:
    return open_custom(root, path, sensor, "full", scale)
