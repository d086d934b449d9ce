"""Find and verify checkpoints. Nothing is ever downloaded: a plugin's weights resolver hook
(``fusionbench_resolve_weights``) or the built-in one finds a local file, and its SHA-256 is
checked before a model may load it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

from .errors import FusionbenchError


class WeightsError(FusionbenchError):
    """A checkpoint is missing or is not the file the model expects."""


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_verified(resolve: Callable[[str, str], Path | None], uri: str, expected_sha256: str = "") -> Path:
    """Resolve ``uri`` to a local file and check its hash (when one is expected)."""
    path = resolve(uri, expected_sha256)
    if path is None:
        folder = os.environ.get("FUSIONBENCH_WEIGHTS", "<unset>")
        raise WeightsError(
            f"checkpoint {uri!r} not found: looked at the path itself, in $FUSIONBENCH_WEIGHTS ({folder}) "
            "and in the results cache; download it yourself and pass its path, or set FUSIONBENCH_WEIGHTS"
        )
    path = Path(path)
    if expected_sha256:
        actual = file_sha256(path)
        if actual != expected_sha256:
            raise WeightsError(f"checkpoint {path} has sha256 {actual[:16]}…, expected {expected_sha256[:16]}…")
    return path
