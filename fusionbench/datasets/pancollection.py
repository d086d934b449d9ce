"""PanCollection HDF5 readers (spec §A.2–A.3): WV3, WV2, QB, GF2; reduced and full resolution.

Files hold float64 stacks ``gt`` (N,C,H,W; reduced resolution only), ``ms`` (N,C,h,w), ``lms``
(N,C,H,W) and ``pan`` (N,1,H,W) in raw DN (0..2047, GF2 0..1023). They are read lazily, one
sample per item, and handed out in DN — the quirks of the field's loaders (dividing some keys by
``img_scale`` but not others, truncating to 20 samples, path-dependent layouts) are not copied.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataFormatError
from ..protocols import FusionItem
from ..specs import DataCard
from .base import FusionDatasetBase
from .builders import index_ids, pansharpening_item
from .cards import pansharpening_card
from .catalog import CatalogEntry
from .h5stack import H5Stack, StackField
from .hashing import files_sha256
from .located import EntryOpeners, LocatedDataset
from .locate import find_file
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


def read_pan_item(stack: H5Stack, index: int, image_id: str, card: DataCard, protocol: str) -> FusionItem:
    """Sample ``index`` of a validated stack as a pansharpening item (DN, float64)."""
    return pansharpening_item(
        image_id,
        pan=stack.read("pan", index),
        ms=stack.read("ms", index),
        lms=stack.read("lms", index) if stack.has("lms") else None,
        gt=stack.read("gt", index) if protocol == "reduced" else None,
        ratio=int(card.ratio or 4),
        extras={"source": str(stack.path), "index": index},
    )


class _PanStacks:
    """Mixin: a lazily opened stack per split, items, counts and hashes from ``self._paths()``."""

    card: DataCard
    protocol: str
    _stacks: dict[str, H5Stack]

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
        return read_pan_item(stack, index, image_id, self.card, self.protocol), f"{stack.path} [index {index}]"

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
        self.validate = validate
        super().__init__(entry, root)

    def _locate(self, root: Path, split: str) -> Path | None:
        return find_file(root, self.entry.files[split])

    def _path(self, split: str) -> Path:
        return self._found[split]


class PanCollectionFile(_PanStacks, FusionDatasetBase):
    """Any one HDF5 file in the PanCollection layout (registered as ``custom-h5-rr``/``custom-h5-fr``)."""

    splits = ("test",)

    def __init__(self, path: Path, sensor: str, protocol: str, name: str, validate: bool = True):
        self.name = name
        self.task = "pansharpening"
        self.protocol = protocol
        self.card = pansharpening_card(sensor)
        self.file = path
        self.validate = validate
        self._stacks = {}

    def available_splits(self) -> tuple[str, ...]:
        return ("test",)

    def _path(self, split: str) -> Path:
        return self.file


def open_entry(entry: CatalogEntry, root: str | Path | None = None, validate: bool = True) -> PanCollectionDataset:
    """Factory of the catalog datasets (lazy target ``openers.<name>``)."""
    return PanCollectionDataset(entry, root, validate=validate)


openers = EntryOpeners(open_entry)


def open_custom(root: str | Path | None = None, path: str = "", sensor: str = "WV3", protocol: str = "reduced") -> PanCollectionFile:
    """Factory of ``custom-h5-rr``/``custom-h5-fr``: one PanCollection-layout file given by ``path``."""
    name = f"custom-h5-{'rr' if protocol == 'reduced' else 'fr'}"
    return PanCollectionFile(resolve_user_path(path, root, name), sensor, protocol, name)


def open_custom_rr(root: str | Path | None = None, path: str = "", sensor: str = "WV3") -> PanCollectionFile:
    return open_custom(root, path, sensor, "reduced")


def open_custom_fr(root: str | Path | None = None, path: str = "", sensor: str = "WV3") -> PanCollectionFile:
    return open_custom(root, path, sensor, "full")
