"""The real sample images in ``../shared/data`` beside a checkout, for tests of any package."""

from __future__ import annotations

from pathlib import Path

from .. import settings

REQUIRE_ENV = "FUSIONBENCH_REQUIRE_SHARED_DATA"


def shared_data_dir(repo_root: Path) -> Path:
    """``<repo_root>/../shared/data``: skip the calling test when it is absent, fail instead when
    ``FUSIONBENCH_REQUIRE_SHARED_DATA=1`` (CI), so missing data can never pass silently."""
    import pytest

    folder = (repo_root / ".." / "shared" / "data").resolve()
    if folder.is_dir():
        return folder
    message = f"shared data folder {folder} is absent"
    if settings.require_shared_data():
        pytest.fail(f"{message} and {REQUIRE_ENV}=1", pytrace=False)
    pytest.skip(f"{message} (set {REQUIRE_ENV}=1 to make this an error)")
