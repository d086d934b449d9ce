"""The dataset base class every reader and generator builds on.

The core only needs the :class:`fusionbench.protocols.FusionDataset` protocol (``card``,
``items(split)``, ``__len__``, ``content_sha256(split)``). This base adds what users and model
trainers need on top: random access (``get``), per-split counts, ids, the files behind a split,
``check()`` and a description for ``fusionbench datasets info``. Subclasses implement four
methods: :meth:`available_splits`, :meth:`n_items`, :meth:`_load` and :meth:`content_sha256`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DatasetUnavailable, UnknownComponentError
from ..protocols import FusionItem
from ..specs import DataCard, frozen_mapping
from .checks import validate_item


class _CardState:
    """A picklable stand-in for a DataCard (whose ``extra`` is a read-only mappingproxy)."""

    def __init__(self, card: DataCard):
        self.fields = {f: getattr(card, f) for f in ("sensor", "ratio", "bands", "max_value", "mtf_gnyq", "pan_gnyq")}
        self.extra = dict(card.extra)

    def rebuild(self) -> DataCard:
        return DataCard(**self.fields, extra=frozen_mapping(self.extra))


class UnknownSplit(UnknownComponentError):
    """A split name the dataset does not define."""


class FusionDatasetBase(abc.ABC):
    """Common behaviour: split handling, iteration with validation, length, description."""

    name: str
    task: str
    protocol: str
    card: DataCard
    splits: tuple[str, ...]
    default_split: str = "test"
    validate: bool = True

    # -- to implement -------------------------------------------------------------------------
    @abc.abstractmethod
    def available_splits(self) -> tuple[str, ...]:
        """The splits whose data are present (a subset of ``splits``)."""

    @abc.abstractmethod
    def n_items(self, split: str = "test") -> int:
        """Number of items in ``split``."""

    @abc.abstractmethod
    def _load(self, split: str, index: int) -> tuple[FusionItem, str]:
        """Read item ``index`` of ``split``; return it and a source string for error messages."""

    @abc.abstractmethod
    def content_sha256(self, split: str = "test") -> str:
        """Hash of the split's content (file bytes or generator parameters)."""

    # -- provided -----------------------------------------------------------------------------
    def sources(self, split: str) -> list[Path]:
        """Files behind a split (empty for generated data)."""
        return []

    def unavailable_message(self, split: str) -> str:
        """Why a split cannot be read; subclasses say where they looked and how to get it."""
        return f"dataset {self.name!r}: split {split!r} is not available"

    def require_split(self, split: str) -> None:
        """Raise :class:`UnknownSplit` or :class:`DatasetUnavailable` unless ``split`` can be read."""
        if split not in self.splits:
            raise UnknownSplit(f"dataset {self.name!r} has no split {split!r}; splits: {', '.join(self.splits)}")
        if split not in self.available_splits():
            raise DatasetUnavailable(self.unavailable_message(split))

    def check(self, split: str | None = None) -> None:
        """Raise :class:`DatasetUnavailable` when ``split`` is absent, or (no split given) when every split is.

        The planner calls ``check()`` and then ``content_sha256(split)``, which checks the split it runs.
        """
        if split is not None:
            self.require_split(split)
        elif not self.available_splits():
            raise DatasetUnavailable(self.unavailable_message(self.primary_split))

    @property
    def primary_split(self) -> str:
        return self.default_split if self.default_split in self.splits else self.splits[0]

    def get(self, split: str, index: int) -> FusionItem:
        """Item ``index`` of ``split`` (validated unless ``self.validate`` is False)."""
        self.require_split(split)
        n = self.n_items(split)
        if not -n <= index < n:
            raise IndexError(f"dataset {self.name!r} split {split!r} has {n} items; index {index} is out of range")
        item, source = self._load(split, index % n)
        if self.validate:
            validate_item(item, self.task, self.card, source)
        return item

    def items(self, split: str = "test", *, limit: int | None = None) -> Iterator[FusionItem]:
        """Yield the items of ``split`` in a fixed order, at most ``limit`` of them."""
        self.require_split(split)
        n = self.n_items(split)
        for index in range(n if limit is None else min(n, limit)):
            yield self.get(split, index)

    def __len__(self) -> int:
        return self.n_items(self.primary_split)

    def describe(self) -> dict[str, Any]:
        """Facts for ``fusionbench datasets info`` (cheap: no item is read)."""
        available = self.available_splits()
        splits: dict[str, Any] = {}
        for split in self.splits:
            if split in available:
                splits[split] = {
                    "items": self.n_items(split),
                    "files": [str(p) for p in self.sources(split)],
                }
            else:
                splits[split] = {"items": None, "missing": self.unavailable_message(split)}
        return {
            "name": self.name,
            "task": self.task,
            "protocol": self.protocol,
            "card": self.card.as_dict(),
            "splits": splits,
        }

    # DataCard.extra is a mappingproxy, which pickle refuses; datasets travel to worker processes,
    # so the card is pickled as plain fields and rebuilt.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        card = state.get("card")
        if isinstance(card, DataCard):
            state["card"] = _CardState(card)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        card = state.get("card")
        if isinstance(card, _CardState):
            state["card"] = card.rebuild()
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} splits={self.available_splits()}>"
