"""Fixtures for the dataset tests: the real samples in ../shared/data, and small test scenes."""

from __future__ import annotations

import numpy as np
import pytest

# the `shared_data` fixture comes from tests/conftest.py


@pytest.fixture(autouse=True)
def _no_env_data_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests say where data is explicitly; a developer's $FUSIONBENCH_DATA must not leak in."""
    monkeypatch.delenv("FUSIONBENCH_DATA", raising=False)


def pan_stacks(n: int = 3, bands: int = 8, lr: int = 8, ratio: int = 4, seed: int = 0, max_value: float = 2047.0) -> dict[str, np.ndarray]:
    """Random PanCollection-style stacks (N,C,H,W) in DN."""
    rng = np.random.default_rng(seed)
    hr = lr * ratio
    return {
        "gt": rng.uniform(0, max_value, (n, bands, hr, hr)),
        "ms": rng.uniform(0, max_value, (n, bands, lr, lr)),
        "lms": rng.uniform(0, max_value, (n, bands, hr, hr)),
        "pan": rng.uniform(0, max_value, (n, 1, hr, hr)),
    }
