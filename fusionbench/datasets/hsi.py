"""CAVE / Harvard MS–HS fusion (MHIF) HDF5 readers (the layouts of Deng's group's MHIF releases).

The Deng-group files (PSRT, DDIF, Efficient-MIF) hold float stacks ``GT`` (N,31,H,W), ``LRHSI``
(N,31,h,w), ``RGB`` (N,3,H,W) and ``HSI_up`` (N,31,H,W), values in [0, 1]. Items map them to the
task fields ``gt``, ``lrhsi``, ``hrmsi`` and ``hsi_up``. CAVE's ``RGB`` is stored **BGR** and
Harvard's RGB: the channels are handed out as stored (released checkpoints expect that) and the
order is recorded in ``card.extra["rgb_order"]`` and each item's extras.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataFormatError
from ..protocols import FusionItem
from .builders import index_ids, mhif_item
from .catalog import CatalogEntry
from .h5stack import H5Stack, StackField
from .hashing import files_sha256
from .locate import find_file
from .located import EntryOpeners, LocatedDataset


def stack_fields(bands: int | None) -> tuple[StackField, ...]:
    return (
        StackField("gt", ("GT", "gt"), bands),
        StackField("lrhsi", ("LRHSI", "lrhsi", "LR_HSI", "ms"), bands),
        StackField("hrmsi", ("RGB", "rgb", "HRMSI", "hrmsi"), 3),
        StackField("hsi_up", ("HSI_up", "hsi_up", "lms"), bands, required=False),
    )


def open_hsi_stack(path: Path, bands: int | None, ratio: int) -> H5Stack:
    """Open and validate one MHIF file: band counts, HR/LR sizes for ``ratio``."""
    stack = H5Stack(path, stack_fields(bands))
    stack.require_same_channels("gt", "lrhsi")
    stack.require_same_size("hrmsi", "gt")
    stack.require_scale("gt", "lrhsi", ratio)
    if stack.has("hsi_up"):
        stack.require_same_size("hsi_up", "gt")
    return stack


class HsiDataset(LocatedDataset):
    """A catalog MHIF dataset (``cave-x4``, ``cave-x8``, ``harvard-x4``); splits test/train/valid."""

    def __init__(self, entry: CatalogEntry, root: str | Path | None = None, validate: bool = True):
        self._stacks: dict[str, H5Stack] = {}
        self.validate = validate
        super().__init__(entry, root)

    def _locate(self, root: Path, split: str) -> Path | None:
        return find_file(root, self.entry.files[split])

    def _stack(self, split: str) -> H5Stack:
        if split not in self._stacks:
            ratio = self.card.ratio
            if ratio is None:
                raise DataFormatError(f"dataset {self.name!r} has no ratio in its data card")
            self._stacks[split] = open_hsi_stack(self._found[split], self.card.bands, ratio)
        return self._stacks[split]

    def n_items(self, split: str = "test") -> int:
        self.require_split(split)
        return len(self._stack(split))

    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        stack = self._stack(split)
        item = mhif_item(
            index_ids(len(stack))[index],
            hrmsi=stack.read("hrmsi", index),
            lrhsi=stack.read("lrhsi", index),
            hsi_up=stack.read("hsi_up", index) if stack.has("hsi_up") else None,
            gt=stack.read("gt", index),
            ratio=int(self.card.ratio or 4),
            extras={"source": str(stack.path), "index": index, "rgb_order": self.card.extra.get("rgb_order", "rgb")},
        )
        return item, f"{stack.path} [index {index}]"

    def sources(self, split: str) -> list[Path]:
        return [self._found[split]]

    def content_sha256(self, split: str = "test") -> str:
        self.require_split(split)
        path = self._found[split]
        return files_sha256([path], base=path.parent)


def open_entry(entry: CatalogEntry, root: str | Path | None = None, validate: bool = True) -> HsiDataset:
    return HsiDataset(entry, root, validate=validate)


openers = EntryOpeners(open_entry)
