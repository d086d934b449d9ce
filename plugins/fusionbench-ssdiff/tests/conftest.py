"""Shared fixtures: the plugin registry and one tiny SSDiff trained once per session on the
embedded synthetic-qb-rr (the learning test, the inference tests and the full-resolution test
all reuse its cached checkpoint)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fusionbench.registry import load_registry
from fusionbench_ssdiff.testing import context_for, open_dataset

TRAIN_DATASET = "synthetic-qb-rr"


@pytest.fixture(scope="session")
def registry() -> Any:
    """The installed plugins without the MLflow observer (runs in tests log nowhere)."""
    return load_registry(disabled=["mlflow"])


@pytest.fixture(scope="session")
def trained(registry: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Any]:
    """(tiny SSDiff set up on synthetic-qb-rr by training itself, its cache folder, the dataset)."""
    from fusionbench_ssdiff.model import SSDiff

    dataset = open_dataset(registry, TRAIN_DATASET)
    cache = tmp_path_factory.mktemp("ssdiff-cache")
    model = SSDiff(preset="tiny")
    model.setup(context_for(dataset, cache))
    return model, cache, dataset
