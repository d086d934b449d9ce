"""Run specs and their content-hash keys.

A run's key is the SHA-256 of the canonical JSON of everything that changes its numbers: model,
preset/params and weights hash (and, for a model plugin installed from source, the hash of its
source files), sampler and steps, dataset, split and data hash, metric versions
and parameters, seed and repetition, and which distribution (and entry point) provides each
component, so two plugins that register the same name and version never share results.
Execution-only settings (device, executor, worker count, results directory) are deliberately
*not* part of it, so the same run on another machine resumes instead of duplicating.

Canonical form (:func:`canonical_json`), which is also what spec equality compares:

* mappings by sorted key; lists and tuples alike; sets sorted; numpy scalars as Python values;
* ``int``, ``float`` and ``bool`` are three distinct types: ``1``, ``1.0`` and ``True`` are
  different values (a model built with ``steps=1.0`` or ``flag=1`` may compute differently from
  ``steps=1`` or ``flag=True``, and the planner coerces every parameter to its declared type, so
  one configuration always has one spelling);
* ``-0.0`` is ``0.0``; other floats are exact (``repr``); NaN and infinities are refused.

:class:`RunSpec` and :class:`ComponentRef` compare by this canonical form (not by Python's
``==``, for which ``1 == 1.0 == True`` and ``-0.0 == 0.0``), so two specs with the same
provenance are equal exactly when their run keys are equal. Provenance that is not identity (a
distribution's version) makes specs unequal without changing the key, and the order of the
metrics changes neither.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fusionbench.canonical import canonical_json, sha256_hex
from fusionbench.specs import frozen_mapping

__all__ = ["ComponentRef", "RunSpec", "canonical_json", "image_seed", "sha256_hex"]

KEY_LENGTH = 20  # hex characters: 80 bits, ample for a results store, short enough for file names


def _canonical_or_none(value: Any) -> str | None:
    try:
        return canonical_json(value)
    except (TypeError, ValueError):  # values no key can hold: fall back to field comparison
        return None


class _CanonicalEquality:
    """Equality and hash by canonical JSON (see the module docstring), shared by the specs."""

    def _equality_form(self) -> Any:
        raise NotImplementedError

    @functools.cached_property
    def _canonical_text(self) -> str | None:
        return _canonical_or_none(self._equality_form())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine, theirs = self._canonical_text, other._canonical_text  # type: ignore[attr-defined]
        if mine is None or theirs is None:
            return mine is None and theirs is None and _fields(self) == _fields(other)
        return mine == theirs

    def __hash__(self) -> int:
        text = self._canonical_text
        return hash(text if text is not None else self.__class__.__name__)


def _fields(obj: Any) -> tuple[Any, ...]:
    import dataclasses

    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


@dataclass(frozen=True, eq=False)
class ComponentRef(_CanonicalEquality):
    """A component as used in one run: its name, parameters and where it came from.

    Identity (in the run key): kind, name, parameters, spec version, and the providing
    distribution and entry point. ``dist_version`` is provenance only.
    """

    kind: str
    name: str
    params: Mapping[str, Any] = field(default_factory=frozen_mapping)
    spec_version: str = ""
    dist: str = ""
    dist_version: str = ""
    plugin: str = ""  # the entry point that registered it (provenance; picks a side of a conflict)
    source_sha256: str = ""
    """Hash of the providing plugin's source files when it is installed from a local folder
    (:mod:`fusionbench.engine.sources`); empty for a release, and then absent from the key."""

    @property
    def lookup(self) -> str:
        """The registry name that finds exactly this component again, in any process."""
        return f"{self.plugin}:{self.name}" if self.plugin else self.name

    def config_dict(self) -> dict[str, Any]:
        """What the component computes with: kind, name, parameters and spec version. Per-image
        seeds derive from this, so they do not depend on which distribution provides it."""
        return {"kind": self.kind, "name": self.name, "params": dict(self.params), "version": self.spec_version}

    def key_dict(self) -> dict[str, Any]:
        """Identity: the configuration and who provides it. Two distributions (or entry points)
        registering the same name and version are different components with different keys. The
        distribution version is provenance, not identity: a plugin release that changes numbers
        must bump the component's ``spec_version``. A plugin installed from source adds the hash
        of its source files, so an edited ``fuse()`` is a new run; released plugins' keys do not
        carry the field at all (keys made before it existed stay valid)."""
        key = {**self.config_dict(), "dist": self.dist, "plugin": self.plugin}
        if self.source_sha256:
            key["source_sha256"] = self.source_sha256
        return key

    def to_dict(self) -> dict[str, Any]:
        return {**self.key_dict(), "dist_version": self.dist_version}

    def _equality_form(self) -> Any:
        return self.to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentRef:
        return cls(
            kind=data["kind"],
            name=data["name"],
            params=frozen_mapping(data.get("params", {})),
            spec_version=data.get("version", ""),
            dist=data.get("dist", ""),
            dist_version=data.get("dist_version", ""),
            plugin=data.get("plugin", ""),
            source_sha256=data.get("source_sha256", ""),
        )

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={self.params[k]}" for k in sorted(self.params))
        return f"{self.name}[{inner}]"


@dataclass(frozen=True, eq=False)
class RunSpec(_CanonicalEquality):
    """One run: frozen, serialisable (``to_json``/``from_json``), keyed by :attr:`run_key`.

    Equality is by canonical form (see the module docstring): ``a == b`` implies equal keys, and
    specs with equal keys and equal provenance (distribution versions) are equal.
    """

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

    def _equality_form(self) -> Any:
        data = self.to_dict()
        data["metrics"] = sorted(data["metrics"], key=_canonical_or_none_key)  # order is not identity
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
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
    def from_json(cls, text: str) -> RunSpec:
        return cls.from_dict(json.loads(text))


def _canonical_or_none_key(value: Any) -> str:
    return _canonical_or_none(value) or repr(value)


def image_seed(run: RunSpec, image_id: str) -> int:
    """A 32-bit seed per (run, image), independent of batching and of resume order, and of which
    distribution provides the components (only their configuration counts)."""
    material = canonical_json(
        {
            "seed": run.seed,
            "dataset": run.dataset.name,
            "model": run.model.config_dict(),
            "sampler": run.sampler.config_dict() if run.sampler else None,
            "repetition": run.repetition,
            "image_id": image_id,
        }
    )
    return int(sha256_hex(material)[:8], 16)
