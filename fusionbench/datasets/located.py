"""Datasets whose files are found under the data root from a :mod:`.catalog` entry.

The factory registered for a catalog dataset is a *string* (the plugin must not import readers),
and one string must name one entry: ``"fusionbench.datasets.pairs:openers.tno"``. :class:`EntryOpeners`
makes that work — attribute access by catalog name returns the opener bound to that entry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import DatasetUnavailable
from ..specs import DataCard
from .base import FusionDatasetBase
from .cards import card_for_entry
from .catalog import CatalogEntry, get_entry
from .locate import missing_message
from .paths import resolve_data_root


class EntryOpeners:
    """``openers.<name>`` is ``functools.partial(open_entry, lookup(<name>))`` (a lazy-factory target)."""

    def __init__(self, open_entry: Callable[..., Any], lookup: Callable[[str], Any] = get_entry):
        self._open_entry = open_entry
        self._lookup = lookup

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            entry = self._lookup(name)
        except KeyError as exc:
            raise AttributeError(str(exc)) from None
        return functools.partial(self._open_entry, entry)


class LocatedDataset(FusionDatasetBase):
    """Base for catalog datasets: resolves the root, locates each split, explains what is missing.

    Construction is cheap (directory lookups only, no file is opened) so ``datasets list`` can
    build every dataset to show what is available. It raises :class:`DatasetUnavailable` when no
    split at all is present.
    """

    def __init__(self, entry: CatalogEntry, root: str | Path | None = None):
        self.entry_name = entry.name
        self.name = entry.name
        self.task = entry.task
        self.protocol = entry.protocol
        self.splits = entry.splits
        self.card: DataCard = card_for_entry(entry)
        self.root = resolve_data_root(root)
        self._found: dict[str, Any] = {}
        if self.root is not None:
            for split in self.splits:
                found = self._locate(self.root, split)
                if found is not None:
                    self._found[split] = found
        if not self._found:
            raise DatasetUnavailable(self.unavailable_message(self.primary_split))

    @property
    def entry(self) -> CatalogEntry:
        return get_entry(self.entry_name)

    def _locate(self, root: Path, split: str) -> Any:
        """Return what the reader needs for ``split`` (a path, a pair of folders), or None."""
        raise NotImplementedError

    def available_splits(self) -> tuple[str, ...]:
        return tuple(s for s in self.splits if s in self._found)

    def unavailable_message(self, split: str) -> str:
        entry = self.entry
        root = str(self.root) if self.root is not None else "<root>"
        return missing_message(entry.name, split, self.root, entry.looked_for(split, root), entry.how_to_get)
