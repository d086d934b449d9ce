"""A cache of trained checkpoints keyed by content, so a benchmark trains a model at most once.

The key is the SHA-256 of the canonical JSON of whatever determines the weights — for DDIF the
preset, the training split's content hash, the seed and the training-code version. Training
writes into ``.<key>.partial`` (resumable if interrupted) and is renamed to ``<key>`` when done;
a file lock makes concurrent workers wait for one another instead of training twice.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..canonical import canonical_json, sha256_hex
from ..filelock import locked as _locked
from .checkpoint import is_complete

KEY_LENGTH = 24


def content_key(parts: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(parts)))[:KEY_LENGTH]


class CheckpointCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        return self.root / key

    def lookup(self, parts: Mapping[str, Any]) -> Path | None:
        path = self.path_for(content_key(parts))
        return path if is_complete(path) else None

    def adopt(self, parts: Mapping[str, Any], source: Path) -> Path:
        """Copy the complete checkpoint ``source`` into the cache under ``parts``' key (under the
        lock, through a partial folder, so a concurrent reader never sees half a copy).

        ``source`` must hold a ``cache_key.json`` whose content equals ``parts``: a shipped
        checkpoint is only used for exactly the recipe, data and code it was trained with."""
        key = content_key(parts)
        recorded = Path(source) / "cache_key.json"
        if not is_complete(source) or not recorded.is_file():
            raise RuntimeError(f"{source} is not a complete cached checkpoint (no config.json or cache_key.json)")
        if content_key(json.loads(recorded.read_text(encoding="utf-8"))) != key:
            raise RuntimeError(f"{source} was trained for another key than {key} (its cache_key.json differs)")
        final = self.path_for(key)
        self.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.root / f".{key}.lock"):
            if is_complete(final):
                return final
            partial = self.root / f".{key}.partial"
            if partial.exists():
                shutil.rmtree(partial)
            shutil.copytree(source, partial)
            os.replace(partial, final)
        return final

    def get_or_train(self, parts: Mapping[str, Any], train: Callable[[Path], None]) -> tuple[Path, bool]:
        """Return (checkpoint directory, whether it was trained now). ``train(partial_dir)`` must
        write a complete checkpoint into ``partial_dir`` (it may resume from what is there)."""
        key = content_key(parts)
        final = self.path_for(key)
        if is_complete(final):
            return final, False
        self.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.root / f".{key}.lock"):
            if is_complete(final):
                return final, False
            partial = self.root / f".{key}.partial"
            partial.mkdir(exist_ok=True)
            train(partial)
            if not is_complete(partial):
                raise RuntimeError(f"training did not write a complete checkpoint into {partial}")
            (partial / "cache_key.json").write_text(
                json.dumps(dict(parts), indent=2, sort_keys=True, default=str) + "\n"
            )
            if final.exists():
                shutil.rmtree(final)
            os.replace(partial, final)
        return final, True
