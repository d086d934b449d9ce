"""Cheap content hashes for dataset splits.

A result row records the hash of the data it was computed on, so two leaderboards can tell
whether they scored the same bytes. Two kinds:

- files: sha256 over (relative name, size, digest of the bytes) of every file in the split.
  Files up to :data:`FULL_HASH_LIMIT` bytes are hashed completely; larger ones (the multi-GB
  PanCollection training sets) get a *sampled* digest of their size plus evenly spaced chunks,
  which catches truncation, re-generation and replacement at a fraction of the cost. Digests are
  cached per process by (path, size, mtime) so repeated calls are free.
- generators: sha256 of a canonical JSON of the generator's name, version and parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FULL_HASH_LIMIT = 512 * 1024 * 1024
SAMPLE_CHUNKS = 256
SAMPLE_CHUNK_BYTES = 64 * 1024
_READ_BLOCK = 4 * 1024 * 1024

_cache: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (or a ``sampled:`` digest for files over FULL_HASH_LIMIT)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if st.st_size <= FULL_HASH_LIMIT:
            for block in iter(lambda: fh.read(_READ_BLOCK), b""):
                h.update(block)
            digest = h.hexdigest()
        else:
            h.update(f"size={st.st_size}".encode())
            step = (st.st_size - SAMPLE_CHUNK_BYTES) // (SAMPLE_CHUNKS - 1)
            for i in range(SAMPLE_CHUNKS):
                fh.seek(i * step)
                h.update(fh.read(SAMPLE_CHUNK_BYTES))
            digest = "sampled:" + h.hexdigest()
    _cache[key] = digest
    return digest


def files_sha256(paths: Iterable[Path], base: Path | None = None) -> str:
    """One hash for a set of files; names are taken relative to ``base`` so moving the root is harmless."""
    h = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        name = path.relative_to(base).as_posix() if base is not None else path.name
        h.update(f"{name}\0{path.stat().st_size}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def params_sha256(generator: str, version: str, params: Mapping[str, Any]) -> str:
    """Hash of a generator's identity and parameters (canonical JSON, sorted keys)."""
    payload = json.dumps(
        {"generator": generator, "version": version, "params": _jsonable(params)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value
