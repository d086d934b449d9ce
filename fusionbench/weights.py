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


_TREE_HASHES: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def content_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's visible files (relative names and their hashes).

    A planner hashes user-given checkpoints for every run of a plan: the result is remembered per
    (path, names, sizes, mtimes), so a 2 GB prior is read once per process, and again when it changes.
    """
    path = Path(path)
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    signature = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(path.resolve()), signature)
    if key not in _TREE_HASHES:
        if path.is_file():
            _TREE_HASHES[key] = file_sha256(path)
        else:
            digest = hashlib.sha256()
            for p in files:
                digest.update(f"{p.relative_to(path).as_posix()}\0{file_sha256(p)}\n".encode())
            _TREE_HASHES[key] = digest.hexdigest()
    return _TREE_HASHES[key]


def local_path(value: str) -> Path | None:
    """Where a path-valued parameter points on this machine: as given, or inside
    ``$FUSIONBENCH_WEIGHTS``; ``None`` when neither exists (a resolver plugin may still know it)."""
    if not value:
        return None
    given = Path(value).expanduser()
    if given.exists():
        return given
    folder = os.environ.get("FUSIONBENCH_WEIGHTS")
    if folder and (Path(folder) / value).exists():
        return Path(folder) / value
    return None


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
