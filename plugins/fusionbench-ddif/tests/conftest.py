"""Fixtures for the DDIF tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionbench_ddif.testing import random_checkpoint


@pytest.fixture
def wv3_checkpoint(tmp_path: Path) -> Path:
    return random_checkpoint(tmp_path / "wv3-random")
