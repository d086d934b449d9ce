"""Canonical JSON and its SHA-256: the one spelling of a value that run keys and cache keys hash.

Why its own module: run keys (:mod:`fusionbench.engine.runspec`) and the training checkpoint
cache (:mod:`fusionbench.training.cache`) must hash the same value the same way, and the
training toolkit may not depend on the engine. The rules are documented in
:mod:`fusionbench.engine.runspec`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, floats by repr (exact round trip).

    NaN and infinities are rejected: they have no canonical JSON form and never belong in a key.
    """
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON keys must be strings, got {key!r}")
            out[key] = _canonical(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be part of a run key")
        return 0.0 if value == 0.0 else value  # -0.0 and 0.0 are one value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _canonical(value.item())
    raise TypeError(f"value of type {type(value).__name__} cannot be part of a run key: {value!r}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
