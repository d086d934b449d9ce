"""Helpers for SSDiff's tests and benchmarks: open a registered dataset, build a ModelContext
and a one-image FusionBatch without running the whole planner/executor machinery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fusionbench.lazy import build
from fusionbench.protocols import FusionBatch, ModelContext


def open_dataset(registry: Any, name: str, root: Path | None = None) -> Any:
    """The dataset registered as ``name`` (synthetic ones need no root)."""
    return build(registry.get("dataset", name).spec, root=root)


def context_for(
    dataset: Any,
    cache_dir: Path,
    messages: list[str] | None = None,
    seed: int = 0,
    device: str = "cpu",
    registry: Any = None,
) -> ModelContext:
    """What the core hands to ``setup``; ``messages`` collects the model's reports. With
    ``registry``, the dataset's ``train_from`` twin (if it names one) is what
    ``training_dataset()`` opens, as in a benchmark run."""
    train_from = registry.get("dataset", dataset.name).spec.train_from if registry is not None else ""

    def open_twin() -> Any:
        return open_dataset(registry, train_from, getattr(dataset, "root", None))

    return ModelContext(
        device=device,
        card=dataset.card,
        dataset=dataset,
        cache_dir=Path(cache_dir),
        resolve_weights=lambda uri, sha: None,
        seed=seed,
        report=(messages.append if messages is not None else (lambda message: None)),
        task="pansharpening",
        open_training_dataset=open_twin if train_from else None,
    )


def batch_of(item: Any, card: Any) -> FusionBatch:
    """A FusionBatch of one dataset item, as the core builds it (float64 tensors, batch 1)."""
    return FusionBatch((item.image_id,), {k: torch.as_tensor(v)[None] for k, v in item.inputs.items()}, card)
