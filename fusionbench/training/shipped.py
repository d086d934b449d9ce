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

import sys
from pathlib import Path

from .. import settings

NO_SHIPPED_ENV = "FUSIONBENCH_NO_SHIPPED_CHECKPOINTS"


def use_shipped_checkpoints() -> bool:
    """Whether self-training models may start from the checkpoints their plugin ships for the
    embedded datasets (``<package>/weights/self-trained/<key>/``). Those are the output of the
    very recipe, data and code version the key names (the key is checked against the shipped
    ``cache_key.json``); they only save the CPU-minutes of training them again. Set
    ``FUSIONBENCH_NO_SHIPPED_CHECKPOINTS=1`` to train anyway (e.g. to check reproducibility)."""
    return settings.use_shipped_checkpoints()


def shipped_checkpoints_dir(model_class: type) -> Path:
    """Where a plugin ships self-trained checkpoints: ``weights/self-trained`` beside the module
    that defines ``model_class`` (one folder per content key)."""
    module_file = getattr(sys.modules[model_class.__module__], "__file__", None) or "."
    return Path(module_file).resolve().parent / "weights" / "self-trained"
