"""Fixtures for the dataset tests: the real samples in ../shared/data, and small test scenes."""

from __future__ import annotations

import pytest

# the `shared_data` fixture comes from tests/conftest.py


@pytest.fixture(autouse=True)
def _no_env_data_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests say where data is explicitly; a developer's $FUSIONBENCH_DATA must not leak in."""
    monkeypatch.delenv("FUSIONBENCH_DATA", raising=False)
