"""Find and verify checkpoints: the one search path every part of fusionbench uses.

Why one function: the planner hashes a ``path`` parameter into the run key, the built-in weights
resolver hands files to models, and self-training models look for their checkpoint folders. When
these searched different places, a run could be keyed by one file and load another. All of them
now call :func:`search_path` / :func:`locate`. Nothing is downloaded here: a plugin's resolver
hook (``fusionbench_resolve_weights``) or the built-in one finds a local file or folder, and its
SHA-256 is checked before a model may load it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from . import settings
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


def relative_name(uri: str) -> str:
    """The part of ``uri`` looked up inside the weights folders: the whole relative path for a
    plain path (``sub/x.safetensors`` stays ``sub/x.safetensors``), the file name for a URL
    (``https://host/a/x.pt`` is ``x.pt``, the name a download of it is saved under)."""
    if "://" in uri:
        return Path(uri.split("://", 1)[1]).name
    return uri


def search_path(uri: str, cache_dir: Path | None = None) -> list[Path]:
    """Every place ``uri`` is looked for, in order: the path as given (``~`` expanded), then
    :func:`relative_name` inside ``$FUSIONBENCH_WEIGHTS``, then inside ``cache_dir``."""
    if not uri:
        return []
    candidates = [] if "://" in uri else [Path(uri).expanduser()]
    rel = relative_name(uri)
    if not Path(rel).expanduser().is_absolute():
        for folder in (settings.weights_dir(), Path(cache_dir) if cache_dir is not None else None):
            if folder is not None:
                candidates.append(folder / rel)
    return candidates


def locate(uri: str, cache_dir: Path | None = None) -> Path | None:
    """The first existing file or folder of :func:`search_path`, or ``None``."""
    return next((path for path in search_path(uri, cache_dir) if path.exists()), None)


def local_path(value: str) -> Path | None:
    """Where a path-valued parameter points on this machine (:func:`locate` without a cache
    folder: the planner keys runs by what is on disk before any run starts)."""
    return locate(value)


def resolve_verified(resolve: Callable[[str, str], Path | None], uri: str, expected_sha256: str = "") -> Path:
    """Resolve ``uri`` to a local file and check its hash (when one is expected)."""
    path = resolve(uri, expected_sha256)
    if path is None:
        folder = settings.weights_dir() or "<unset>"
        raise WeightsError(
            f"checkpoint {uri!r} not found: looked at the path itself, in $FUSIONBENCH_WEIGHTS ({folder}) "
            "and in the results cache; download it yourself and pass its path, or set FUSIONBENCH_WEIGHTS"
        )
    path = Path(path)
    if expected_sha256:
        actual = content_sha256(path)
        if actual != expected_sha256:
            raise WeightsError(f"checkpoint {path} has sha256 {actual[:16]}…, expected {expected_sha256[:16]}…")
    return path
