"""What ``fusionbench train`` asks of a model object (pure data: no torch import).

A model is trainable from the command line when the object its factory builds has a
``train_model(request: TrainRequest) -> TrainResult`` method (see :mod:`.loop` for TrainResult).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass
class TrainRequest:
    dataset: Any  # a FusionDataset with the split below
    dataset_name: str
    output_dir: Path  # where the checkpoint goes (resumed from when it holds one)
    split: str = "train"
    device: str = "cpu"
    seed: int = 0
    overrides: Mapping[str, Any] = field(default_factory=dict)  # TrainConfig fields: iterations, batch_size, lr…
    resume: bool = True
    logger: Any = None  # e.g. an MlflowTrainingLogger
    progress: bool = True
    report: Callable[[str], None] = print


@runtime_checkable
class TrainableModel(Protocol):
    def train_model(self, request: TrainRequest) -> Any: ...
