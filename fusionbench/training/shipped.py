"""Checkpoints a self-training plugin ships for the embedded datasets of the default suites.

Why: on a fresh 2-core machine the default ``reduced-res`` suite would otherwise spend most of
its time training DDIF-tiny and SSDiff-tiny once per synthetic sensor. The shipped folders
(``<plugin package>/weights/self-trained/<content key>/``: ``config.json``, ``cache_key.json``
and the weights the model loads) are the output of the very recipe, data and code version their
key names; :meth:`fusionbench.training.cache.CheckpointCache.adopt` checks the recorded key
before copying one into the cache. ``scripts/refresh_shipped_checkpoints.py`` rebuilds them and
each plugin's ``test_shipped_checkpoints`` fails when the code no longer produces their keys.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

NO_SHIPPED_ENV = "FUSIONBENCH_NO_SHIPPED_CHECKPOINTS"


def use_shipped_checkpoints() -> bool:
    """Whether self-training models may start from the checkpoints their plugin ships for the
    embedded datasets (``<package>/weights/self-trained/<key>/``). Those are the output of the
    very recipe, data and code version the key names (the key is checked against the shipped
    ``cache_key.json``); they only save the CPU-minutes of training them again. Set
    ``FUSIONBENCH_NO_SHIPPED_CHECKPOINTS=1`` to train anyway (e.g. to check reproducibility)."""
    return os.environ.get(NO_SHIPPED_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}


def shipped_checkpoints_dir(model_class: type) -> Path:
    """Where a plugin ships self-trained checkpoints: ``weights/self-trained`` beside the module
    that defines ``model_class`` (one folder per content key)."""
    module_file = getattr(sys.modules[model_class.__module__], "__file__", None) or "."
    return Path(module_file).resolve().parent / "weights" / "self-trained"


def embedded_training_datasets(registry: Any, model_name: str) -> list[str]:
    """The embedded (synthetic) datasets ``model_name`` trains on in the default suites: the
    datasets of its planned runs, full-resolution ones replaced by their training twin."""
    from ..planner import Selection, plan_suite
    from ..suites import DEFAULT_SUITES

    names: set[str] = set()
    for suite in DEFAULT_SUITES:
        for run in plan_suite(registry, suite.name, models=[Selection(model_name)]).runs:
            spec = registry.get("dataset", run.dataset.name).spec
            if spec.synthetic:
                names.add(spec.train_from or spec.name)
    return sorted(names)
