"""Runtime protocols: what the objects built by spec factories must provide.

These are structural (``typing.Protocol``): a plugin implements them without importing anything
from fusionbench. Tensors are torch tensors, batched ``(B, C, H, W)``; the core converts the
datasets' NumPy arrays before calling models and metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .specs import DataCard

if TYPE_CHECKING:  # pragma: no cover - typing only; torch is never imported at module level
    import numpy as np
    import torch


@dataclass(frozen=True)
class FusionItem:
    """One test image: its id, the task's input fields, the reference when there is one.

    ``extras`` carries what models do not fuse but users need back, e.g. the visible image's
    CbCr planes for colour reconstruction in IVF.
    """

    image_id: str
    inputs: Mapping[str, np.ndarray]
    reference: np.ndarray | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class FusionDataset(Protocol):
    card: DataCard

    def items(self, split: str) -> Iterator[FusionItem]: ...

    def __len__(self) -> int: ...

    def content_sha256(self, split: str) -> str:
        """A hash of what the split contains (file bytes, or generator parameters), cheap to get."""
        ...


@dataclass
class ModelContext:
    """What a model may use to get ready (load or train weights) before fusing."""

    device: str
    card: DataCard
    dataset: Any | None
    cache_dir: Path
    resolve_weights: Callable[[str, str], Path | None]
    seed: int
    report: Callable[[str], None] = print
    task: str = ""
    open_training_dataset: Callable[[], Any] | None = None
    """Opens the dataset whose ``train`` split trains models evaluated on ``dataset``: its
    ``DatasetSpec.train_from`` sibling (a full-resolution set has no reference to learn from, so it
    names its reduced-resolution twin). ``None``: train on ``dataset`` itself."""

    def training_dataset(self) -> Any | None:
        """The dataset a self-training model learns from (see ``open_training_dataset``).

        Models evaluated at full resolution are trained at reduced resolution (Wald's protocol);
        going through here means a reduced- and a full-resolution run of the same model share
        one content-keyed checkpoint.
        """
        if self.open_training_dataset is not None:
            return self.open_training_dataset()
        return self.dataset


@dataclass
class FusionBatch:
    image_ids: tuple[str, ...]
    inputs: Mapping[str, torch.Tensor]
    card: DataCard


@runtime_checkable
class FusionModel(Protocol):
    """What the core calls on a model. Optional methods, called when present: ``setup(context)``
    (load weights, or train) and ``check_sampler(sampler)``, called with the run's sampler
    *before* ``setup``: raise there when the sampler cannot work with this model (more steps
    than its noise schedule has), so the run fails before any training."""

    def fuse(
        self,
        batch: FusionBatch,
        *,
        sampler: Any | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor: ...


@runtime_checkable
class Metric(Protocol):
    def __call__(
        self,
        pred: torch.Tensor,
        ref: torch.Tensor | None,
        inputs: Mapping[str, torch.Tensor],
        card: DataCard,
    ) -> torch.Tensor:
        """Return one float64 value per image of the batch, shape ``(B,)``."""
        ...


@runtime_checkable
class Sampler(Protocol):
    nfe: int

    def sample(self, model_fn: Callable[..., Any], shape: tuple[int, ...], cond: Any, generator: Any) -> Any: ...
