"""The training loop, EMA, checkpoints, checkpoint cache, self-training of model plugins
(:mod:`.selftrain`) and MLflow loss logging (see ``docs/diffusion.md`` §7). Names resolve
lazily so importing the package stays torch-free."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "config",
    "EMA": "ema",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_config": "checkpoint",
    "CheckpointError": "checkpoint",
    "Trainer": "loop",
    "TrainResult": "loop",
    "TensorBatches": "loop",
    "TrainingDiverged": "loop",
    "CheckpointCache": "cache",
    "content_key": "cache",
    "checkpoint_for": "selftrain",
    "find_checkpoint": "selftrain",
    "self_trained_checkpoint": "selftrain",
    "require_bands": "selftrain",
    "checkpoint_candidates": "selftrain",
    "lookup_preset": "config",
    "load_state_strictly": "selftrain",
    "SelfTrainingModel": "selftrain",
    "MlflowTrainingLogger": "tracking",
    "TrainRequest": "api",
    "TrainableModel": "api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fusionbench.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
