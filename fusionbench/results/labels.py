"""Method labels a person can read: a component's name plus only the parameters that matter.

A run records every parameter of its model and sampler, defaults included (they are part of its
identity), so printing them all gives ``ddif[checkpoint=,precision=fp32,preset=tiny,...]+ddim[...]``
and hides the one parameter that distinguishes two rows. The short label keeps a parameter only when
it differs from the component's declared default (``c-gsa[clusters=7]``); for a sampler the default
is the one the model asks for (its ``default_sampler_params`` over the sampler's own). When no
defaults are known (the plugin is not installed here) it keeps the parameters that vary between the
rows being compared. The full specification stays in the ``spec`` column (hover text, ``info``).

Two different specifications never share a label: when short labels collide, the colliding rows
fall back to their full parameters, then to the component versions, then to a short hash of the
weights, whichever first tells them apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fusionbench.canonical import canonical_json

IDENTITY_COLUMNS = (
    "model",
    "model_params_json",
    "model_version",
    "weights_sha256_json",
    "sampler",
    "sampler_params_json",
    "sampler_version",
)


@dataclass(frozen=True)
class SpecCatalog:
    """What the labels and the pages know about installed components: declared parameter
    defaults, each model's default sampler, and source/paper links."""

    model_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sampler_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_sampler: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, models: Iterable[Any], samplers: Iterable[Any]) -> SpecCatalog:
        """From ``ModelSpec``/``SamplerSpec`` objects (defaults coerced as the planner does)."""
        models, samplers = list(models), list(samplers)
        return cls(
            model_defaults={m.name: _declared_defaults(m.params) for m in models},
            sampler_defaults={s.name: _declared_defaults(s.params) for s in samplers},
            default_sampler={
                m.name: (m.default_sampler, dict(m.default_sampler_params)) for m in models if m.default_sampler
            },
            urls={m.name: m.url for m in models if getattr(m, "url", "")},
        )

    @classmethod
    def from_registry(cls, registry: Any) -> SpecCatalog:
        """From a loaded registry (duck-typed: ``registry.all(kind)`` of ``Registered`` entries)."""
        return cls.from_specs((e.spec for e in registry.all("model")), (e.spec for e in registry.all("sampler")))

    def model_default(self, model: str) -> dict[str, Any] | None:
        found = self.model_defaults.get(model)
        return None if found is None else dict(found)

    def sampler_default(self, model: str, sampler: str) -> dict[str, Any] | None:
        """The sampler parameters ``model`` runs with when the user names none."""
        base = self.sampler_defaults.get(sampler)
        if base is None:
            return None
        out = dict(base)
        name, overrides = self.default_sampler.get(model, (None, {}))
        if name == sampler:
            out.update(overrides)
        return out


def _declared_defaults(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, param in params.items():
        try:
            out[name] = param.coerce(param.default)
        except Exception:  # noqa: BLE001 - a default that does not coerce is compared as declared
            out[name] = param.default
    return out


def _same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def _bracket(params: Mapping[str, Any]) -> str:
    return "" if not params else "[" + ",".join(f"{k}={params[k]}" for k in sorted(params)) + "]"


def _params(text: Any) -> dict[str, Any]:
    return json.loads(text) if isinstance(text, str) and text else {}


def full_label(row: Mapping[str, Any]) -> str:
    """Every parameter: ``ddif[checkpoint=,preset=tiny,...]+ddim[eta=0.0,steps=25]``."""
    label = str(row["model"]) + _bracket(_params(row.get("model_params_json")))
    sampler = row.get("sampler")
    if isinstance(sampler, str) and sampler:
        label += f"+{sampler}" + _bracket(_params(row.get("sampler_params_json")))
    return label


def _differing(params: Mapping[str, Any], defaults: Mapping[str, Any] | None, varying: set[str]) -> dict[str, Any]:
    if defaults is None:
        return {k: v for k, v in params.items() if k in varying}
    return {k: v for k, v in params.items() if k not in defaults or not _same(v, defaults[k])}


def _varying(frame: pd.DataFrame, name_column: str, params_column: str) -> dict[str, set[str]]:
    """Per component name, the parameters whose value differs between the given rows."""
    out: dict[str, set[str]] = {}
    for name, group in frame.groupby(name_column, dropna=True):
        values: dict[str, set[str]] = {}
        for text in group[params_column].dropna().unique():
            for key, value in _params(text).items():
                values.setdefault(key, set()).add(canonical_json(value))
        out[str(name)] = {key for key, seen in values.items() if len(seen) > 1}
    return out


def short_labels(frame: pd.DataFrame, catalog: SpecCatalog | None = None) -> pd.Series:
    """The readable, unique label of every row of ``frame`` (scores rows or runs described by the
    :data:`IDENTITY_COLUMNS`), indexed like ``frame``."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    catalog = catalog or SpecCatalog()
    frame = frame.copy()
    for column in IDENTITY_COLUMNS:
        if column not in frame:
            frame[column] = None
    identity = frame[list(IDENTITY_COLUMNS)].astype(object).where(frame[list(IDENTITY_COLUMNS)].notna(), None)
    keys = identity.apply(lambda r: canonical_json(list(r)), axis=1)
    unique = identity.assign(_key=keys).drop_duplicates("_key").set_index("_key")
    model_varying = _varying(unique, "model", "model_params_json")
    sampler_varying = _varying(unique, "sampler", "sampler_params_json")

    def short(row: pd.Series) -> str:
        model = str(row["model"])
        label = model + _bracket(
            _differing(_params(row["model_params_json"]), catalog.model_default(model), model_varying.get(model, set()))
        )
        sampler = row["sampler"]
        if isinstance(sampler, str) and sampler:
            defaults = catalog.sampler_default(model, sampler)
            label += f"+{sampler}" + _bracket(
                _differing(_params(row["sampler_params_json"]), defaults, sampler_varying.get(sampler, set()))
            )
        return label

    def with_versions(row: pd.Series) -> str:
        label = full_label(row)
        versions = [f"{row['model']} v{row['model_version']}"] if row["model_version"] else []
        if row["sampler"] and row["sampler_version"]:
            versions.append(f"{row['sampler']} v{row['sampler_version']}")
        return label + (f" ({', '.join(versions)})" if versions else "")

    def with_weights(row: pd.Series) -> str:
        digest = hashlib.sha256(str(row["weights_sha256_json"]).encode()).hexdigest()[:8]
        return with_versions(row) + f" w:{digest}"

    labels = pd.Series({key: short(row) for key, row in unique.iterrows()}, dtype=object)
    for fallback in (full_label, with_versions, with_weights):
        clashing = labels.duplicated(keep=False)
        if not clashing.any():
            break
        for key in labels.index[clashing]:
            labels[key] = fallback(unique.loc[key])
    return keys.map(labels)


def full_labels(frame: pd.DataFrame) -> pd.Series:
    """The full specification label of every row (what hover text and ``info`` show)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    return frame.apply(lambda r: full_label(r.to_dict()), axis=1)


def with_labels(scores: pd.DataFrame, catalog: SpecCatalog | None = None) -> pd.DataFrame:
    """``scores`` plus ``method`` (the short, unique label) and ``spec`` (every parameter)."""
    out = scores.copy()
    out["method"] = short_labels(out, catalog)
    out["spec"] = full_labels(out)
    return out
