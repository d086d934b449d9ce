"""Run specs and their content-hash keys.

A run's key is the SHA-256 of the canonical JSON of everything that changes its numbers: model,
preset/params and weights hash, sampler and steps, dataset, split and data hash, metric versions
and parameters, seed and repetition. Execution-only settings (device, executor, worker count,
results directory) are deliberately *not* part of it, so the same run on another machine resumes
instead of duplicating.
"""

from __future__ import annotations

import functools

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .specs import frozen_mapping

KEY_LENGTH = 20  # hex characters: 80 bits, ample for a results store, short enough for file names


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
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _canonical(value.item())
    raise TypeError(f"value of type {type(value).__name__} cannot be part of a run key: {value!r}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ComponentRef:
    """A component as used in one run: its name, parameters and where it came from."""

    kind: str
    name: str
    params: Mapping[str, Any] = field(default_factory=frozen_mapping)
    spec_version: str = ""
    dist: str = ""
    dist_version: str = ""
    plugin: str = ""  # the entry point that registered it (provenance; picks a side of a conflict)

    @property
    def lookup(self) -> str:
        """The registry name that finds exactly this component again, in any process."""
        return f"{self.plugin}:{self.name}" if self.plugin else self.name

    def key_dict(self) -> dict[str, Any]:
        """The fields that change numbers. The distribution version is provenance, not identity:
        a plugin release that changes numbers must bump the component's ``spec_version``."""
        return {"kind": self.kind, "name": self.name, "params": dict(self.params), "version": self.spec_version}

    def to_dict(self) -> dict[str, Any]:
        return {**self.key_dict(), "dist": self.dist, "dist_version": self.dist_version, "plugin": self.plugin}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ComponentRef":
        return cls(
            kind=data["kind"],
            name=data["name"],
            params=frozen_mapping(data.get("params", {})),
            spec_version=data.get("version", ""),
            dist=data.get("dist", ""),
            dist_version=data.get("dist_version", ""),
            plugin=data.get("plugin", ""),
        )

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={self.params[k]}" for k in sorted(self.params))
        return f"{self.name}[{inner}]"


@dataclass(frozen=True)
class RunSpec:
    suite: str
    suite_version: str
    task: str
    protocol: str
    dataset: ComponentRef
    split: str
    model: ComponentRef
    sampler: ComponentRef | None
    metrics: tuple[ComponentRef, ...]
    seed: int
    repetition: int
    data_sha256: str
    weights_sha256: tuple[str, ...] = ()
    card: Mapping[str, Any] = field(default_factory=frozen_mapping)
    max_items: int | None = None

    def key_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "suite_version": self.suite_version,
            "task": self.task,
            "protocol": self.protocol,
            "dataset": self.dataset.key_dict(),
            "split": self.split,
            "model": self.model.key_dict(),
            "sampler": self.sampler.key_dict() if self.sampler else None,
            "metrics": sorted((m.key_dict() for m in self.metrics), key=canonical_json),
            "seed": self.seed,
            "repetition": self.repetition,
            "data_sha256": self.data_sha256,
            "weights_sha256": list(self.weights_sha256),
            "card": dict(self.card),
            "max_items": self.max_items,
        }

    @functools.cached_property
    def run_key(self) -> str:
        """Computed once per object: the runner asks for it several times per run, and the
        canonical JSON of a spec with many metrics costs about a millisecond."""
        return sha256_hex(canonical_json(self.key_dict()))[:KEY_LENGTH]

    @property
    def label(self) -> str:
        """Human name, benchopt style: ``ddif[steps=25]+ddim@synthetic-wv3-rr#s0``."""
        sampler = f"+{self.sampler.label}" if self.sampler else ""
        return f"{self.model.label}{sampler}@{self.dataset.label}#s{self.seed}r{self.repetition}"

    def to_dict(self) -> dict[str, Any]:
        data = self.key_dict()
        data["dataset"] = self.dataset.to_dict()
        data["model"] = self.model.to_dict()
        data["sampler"] = self.sampler.to_dict() if self.sampler else None
        data["metrics"] = [m.to_dict() for m in self.metrics]
        return data

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunSpec":
        return cls(
            suite=data["suite"],
            suite_version=data["suite_version"],
            task=data["task"],
            protocol=data["protocol"],
            dataset=ComponentRef.from_dict(data["dataset"]),
            split=data["split"],
            model=ComponentRef.from_dict(data["model"]),
            sampler=ComponentRef.from_dict(data["sampler"]) if data.get("sampler") else None,
            metrics=tuple(ComponentRef.from_dict(m) for m in data["metrics"]),
            seed=int(data["seed"]),
            repetition=int(data["repetition"]),
            data_sha256=data["data_sha256"],
            weights_sha256=tuple(data.get("weights_sha256", ())),
            card=frozen_mapping(data.get("card", {})),
            max_items=data.get("max_items"),
        )

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return cls.from_dict(json.loads(text))


def image_seed(run: RunSpec, image_id: str) -> int:
    """A 32-bit seed per (run, image), independent of batching and of resume order."""
    material = canonical_json(
        {
            "seed": run.seed,
            "dataset": run.dataset.name,
            "model": run.model.key_dict(),
            "sampler": run.sampler.key_dict() if run.sampler else None,
            "repetition": run.repetition,
            "image_id": image_id,
        }
    )
    return int(sha256_hex(material)[:8], 16)
