"""Expand a suite into frozen run specs, and say why each incompatible pair is skipped."""

from __future__ import annotations

import enum
import fnmatch
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionbench.engine.devices import Machine
from fusionbench.engine.runspec import ComponentRef, RunSpec
from fusionbench.engine.sources import plugin_source_sha256
from fusionbench.errors import DatasetUnavailable, FusionbenchError, PlanError, UnknownComponentError
from fusionbench.lazy import build
from fusionbench.registry import Registered, Registry
from fusionbench.specs import ComponentChoice, DataCard, ParamSpec, SuiteEntry, frozen_mapping

_SELECTION = re.compile(r"^(?P<name>[A-Za-z0-9_.:-]+)(?:\[(?P<params>.*)\])?$")


class SkipCause(str, enum.Enum):
    """Why a pair is skipped. ``DATA_UNAVAILABLE`` concerns the dataset as a whole (every model
    is skipped on it for the same reason); the others concern the pair."""

    TASK = "task mismatch"
    PROTOCOL = "protocol not supported"
    INCOMPATIBLE = "incompatible"
    DEVICE = "device requirement"
    DATA_UNAVAILABLE = "data not present"
    SAMPLER = "no usable sampler"

    @property
    def dataset_wide(self) -> bool:
        return self is SkipCause.DATA_UNAVAILABLE


@dataclass(frozen=True)
class Selection:
    """A component chosen on the command line: a name or fnmatch pattern, optional parameters."""

    pattern: str
    params: Mapping[str, str] = field(default_factory=frozen_mapping)

    @classmethod
    def parse(cls, text: str) -> Selection:
        match = _SELECTION.match(text.strip())
        if not match:
            # allow glob characters in patterns
            if re.match(r"^[A-Za-z0-9_.:*?\-\[\]]+$", text.strip()) and "=" not in text:
                return cls(text.strip())
            raise PlanError(f"cannot parse component selection {text!r}; expected NAME or NAME[key=value,...]")
        params: dict[str, str] = {}
        raw = match.group("params")
        if raw:
            for part in raw.split(","):
                if "=" not in part:
                    raise PlanError(f"parameter {part!r} in {text!r} is not key=value")
                key, _, value = part.partition("=")
                params[key.strip()] = value.strip()
        return cls(match.group("name"), frozen_mapping(params))

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.pattern)


@dataclass(frozen=True)
class Skip:
    """A model/dataset pair of the suite that will not run, why (``reason``, for people) and
    which kind of why (``cause``, for code: renderers group by it and never parse the prose)."""

    model: str
    dataset: str
    reason: str
    cause: SkipCause = SkipCause.INCOMPATIBLE


@dataclass
class Plan:
    suite: str
    runs: list[RunSpec] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def resolve_params(kind: str, name: str, declared: Mapping[str, ParamSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """All parameters of a component: declared defaults overridden by ``given``, type-checked.

    The run key holds every resolved value, not just the overrides, so two spellings of the same
    configuration share a key.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise PlanError(f"{kind} {name!r} has no parameter(s) {unknown}; it accepts: {allowed}")
    resolved: dict[str, Any] = {}
    for key, spec in declared.items():
        raw = given.get(key, spec.default)
        try:
            resolved[key] = spec.coerce(raw) if raw is not None else None
        except ValueError as exc:
            raise PlanError(f"{kind} {name!r} parameter {key!r}: {exc}") from None
    return resolved


def _ref(entry: Registered, params: Mapping[str, Any], source_sha256: str = "") -> ComponentRef:
    spec = entry.spec
    return ComponentRef(
        kind=spec.kind,
        name=spec.name,
        params=frozen_mapping(params),
        spec_version=str(spec.version),
        dist=entry.dist,
        dist_version=entry.dist_version,
        plugin=entry.plugin,
        source_sha256=source_sha256,
    )


class DatasetCache:
    """Builds each dataset once per plan and remembers its card, hash or unavailability."""

    def __init__(self, root: Path | None):
        self.root = root
        self._cache: dict[tuple[str, str, str], tuple[Any, str | None, str | None]] = {}

    def open(self, entry: Registered, params: Mapping[str, Any], split: str) -> tuple[Any, str | None, str | None]:
        """Return (dataset object or None, data hash or None, unavailability reason or None)."""
        key = (entry.name, repr(sorted(params.items())), split)
        if key not in self._cache:
            try:
                dataset = build(entry.spec, root=self.root, **params)
                check = getattr(dataset, "check", None)
                if callable(check):
                    check()
                data_hash = dataset.content_sha256(split)
                self._cache[key] = (dataset, data_hash, None)
            except DatasetUnavailable as exc:
                self._cache[key] = (None, None, str(exc))
            except FusionbenchError as exc:
                self._cache[key] = (None, None, f"dataset {entry.name!r} cannot be opened: {exc}")
            except Exception as exc:  # noqa: BLE001 - a broken dataset plugin skips its runs only
                self._cache[key] = (None, None, f"dataset {entry.name!r} failed: {type(exc).__name__}: {exc}")
        return self._cache[key]


def _pick(
    registry: Registry, kind: str, selections: Sequence[Selection] | None, default: Iterable[Registered]
) -> list[tuple[Registered, Mapping[str, str]]]:
    if not selections:
        return [(entry, {}) for entry in default]
    chosen: list[tuple[Registered, Mapping[str, str]]] = []
    for selection in selections:
        if any(ch in selection.pattern for ch in "*?["):
            hits = [e for e in registry.all(kind) if selection.matches(e.name)]
            if not hits:
                raise PlanError(f"no {kind} matches {selection.pattern!r}")
            chosen.extend((e, selection.params) for e in hits)
        else:
            chosen.append((registry.get(kind, selection.pattern), selection.params))
    return chosen


def _card_dict(dataset: Any, fallback: DataCard) -> dict[str, Any]:
    card = getattr(dataset, "card", None) or fallback
    return card.as_dict() if hasattr(card, "as_dict") else dict(card)


def plan_suite(
    registry: Registry,
    suite_name: str,
    *,
    models: Sequence[Selection] | None = None,
    datasets: Sequence[Selection] | None = None,
    seeds: Sequence[int] | None = None,
    max_items: int | None = None,
    data_root: Path | None = None,
    samplers: Sequence[Selection] | None = None,
    machine: Machine | Callable[[], Machine] | None = None,
) -> Plan:
    """Expand ``suite_name`` into runs.

    ``machine`` is what models' device requirements (``cpu_ok``, ``min_gpu_mem_gb``) are
    checked against: a :class:`Machine`, or a function returning one, called only when a model
    has such a requirement; by default this machine (``Machine.detect()``), likewise detected
    only when needed. ``Machine.unknown()`` checks nothing.

    ``samplers`` replaces the sampler of every model that needs one (the suite's or the model's
    default); several give one run per sampler (e.g. a step sweep). Parameters a selection leaves
    out come from the model's default when it names the model's default sampler, so
    ``ddpm[steps=50]`` keeps DDFM's ``respacing=even``.
    """
    try:
        suite_entry = registry.get("suite", suite_name)
    except UnknownComponentError as exc:
        raise PlanError(str(exc)) from None
    suite = suite_entry.spec
    plan = Plan(suite=suite.name)
    for selection in samplers or ():  # an unknown sampler is the user's typo, not a skip reason
        for sampler, given in _pick(registry, "sampler", [selection], ()):
            resolve_params("sampler", sampler.name, sampler.spec.params, {k: v for k, v in given.items()})
    cache = DatasetCache(data_root)
    machines = _LazyMachine(machine)
    for entry in suite.entries:
        _plan_entry(registry, suite, entry, plan, cache, models, datasets, seeds, max_items, samplers, machines)
    return plan


class _LazyMachine:
    """Detects this machine the first time a model with a device requirement asks (torch import)."""

    def __init__(self, machine: Machine | Callable[[], Machine] | None):
        self._source = machine if machine is not None else Machine.detect
        self._machine: Machine | None = None

    def refuses(self, model: str, requires: Any) -> str | None:
        if requires.cpu_ok and not requires.min_gpu_mem_gb:
            return None
        if self._machine is None:
            self._machine = self._source if isinstance(self._source, Machine) else self._source()
        return self._machine.refuses(model, requires)


def _plan_entry(
    registry: Registry,
    suite: Any,
    entry: SuiteEntry,
    plan: Plan,
    cache: DatasetCache,
    model_sel: Sequence[Selection] | None,
    dataset_sel: Sequence[Selection] | None,
    seeds: Sequence[int] | None,
    max_items: int | None,
    sampler_sel: Sequence[Selection] | None = None,
    machine: _LazyMachine | None = None,
) -> None:
    in_entry, dataset_params = entry_datasets(registry, entry, dataset_sel)
    metric_refs = entry_metrics(registry, suite, entry, plan.warnings)

    # models: the suite's list, or every model that declares the task (third-party ones too)
    default_models = [m for m in registry.all("model") if entry.models is None or m.name in entry.models]
    chosen_models = _pick(registry, "model", model_sel, default_models)

    for dataset_entry in in_entry:
        params = resolve_params(
            "dataset", dataset_entry.name, dataset_entry.spec.params, dataset_params[dataset_entry.name]
        )
        dataset, data_hash, unavailable = cache.open(dataset_entry, params, entry.split)
        for model_entry, model_given in chosen_models:
            skip = _skip_reason(model_entry, dataset_entry, entry, dataset, machine, unavailable)
            if skip is not None:
                plan.skipped.append(Skip(model_entry.name, dataset_entry.name, skip[1], skip[0]))
                continue
            model_spec = model_entry.spec
            model_ref = _ref(
                model_entry,
                resolve_params("model", model_spec.name, model_spec.params, model_given),
                source_sha256=plugin_source_sha256(registry, model_entry),  # plugins installed from source
            )
            try:
                sampler_refs = _samplers_for(registry, model_spec, entry, sampler_sel, model_ref.params)
            except FusionbenchError as exc:
                plan.skipped.append(Skip(model_entry.name, dataset_entry.name, str(exc), SkipCause.SAMPLER))
                continue
            ref_metrics = reference_metrics(registry, entry, metric_refs)
            for sampler_ref, seed in itertools.product(sampler_refs, seeds if seeds is not None else entry.seeds):
                plan.runs.append(
                    RunSpec(
                        suite=suite.name,
                        suite_version=str(suite.version),
                        task=entry.task,
                        protocol=entry.protocol,
                        dataset=_ref(dataset_entry, params),
                        split=entry.split,
                        model=model_ref,
                        sampler=sampler_ref,
                        metrics=ref_metrics,
                        seed=int(seed),
                        repetition=0,
                        data_sha256=data_hash or "",
                        weights_sha256=(
                            *(w.sha256 for w in model_spec.weights),
                            *_path_param_hashes(model_spec, model_ref),
                        ),
                        card=frozen_mapping(_card_dict(dataset, dataset_entry.spec.card)),
                        max_items=max_items if max_items is not None else entry.max_items,
                    )
                )


def entry_datasets(
    registry: Registry, entry: SuiteEntry, dataset_sel: Sequence[Selection] | None
) -> tuple[list[Registered], dict[str, dict[str, Any]]]:
    """The datasets of a suite entry (task + protocol + the suite's patterns, or the user's
    selection, which may name excluded ones too) and the parameters the selection gives each."""
    in_entry = [
        d
        for d in registry.all("dataset")
        if d.spec.task == entry.task
        and d.spec.protocol == entry.protocol
        and any(fnmatch.fnmatchcase(d.name, pattern) for pattern in entry.datasets)
        and not any(fnmatch.fnmatchcase(d.name, pattern) for pattern in entry.exclude)
    ]
    if dataset_sel:
        # an explicit selection may name any dataset of the entry's task/protocol, excluded ones too
        candidates = [
            d for d in registry.all("dataset") if d.spec.task == entry.task and d.spec.protocol == entry.protocol
        ]
        in_entry = [d for d in candidates if any(s.matches(d.name) for s in dataset_sel)]
    dataset_params: dict[str, dict[str, Any]] = {d.name: {} for d in in_entry}
    for selection in dataset_sel or ():
        for d in in_entry:
            if selection.matches(d.name) and selection.params:
                dataset_params[d.name] = dict(selection.params)
    return in_entry, dataset_params


def entry_metrics(registry: Registry, suite: Any, entry: SuiteEntry, warnings: list[str]) -> list[ComponentRef]:
    """The metrics of a suite entry with their resolved parameters; the ones that do not apply
    are left out with a warning appended to ``warnings``. A missing one is a :class:`PlanError`:
    left out, the runs would be "ok" with no scores at all."""
    metric_refs: list[ComponentRef] = []
    for choice in entry.metrics:
        try:
            metric = registry.get("metric", choice.name)
        except UnknownComponentError as exc:
            raise PlanError(
                f"suite {suite.name!r} names metric {choice.name!r}, which is not available: {exc}"
            ) from None
        spec = metric.spec
        if entry.task not in spec.tasks or (spec.protocols and entry.protocol not in spec.protocols):
            warnings.append(
                f"suite {suite.name!r}: metric {choice.name!r} does not apply to {entry.task}/{entry.protocol}"
            )
            continue
        metric_refs.append(_ref(metric, resolve_params("metric", spec.name, spec.params, choice.params)))
    return metric_refs


def reference_metrics(
    registry: Registry, entry: SuiteEntry, metric_refs: Sequence[ComponentRef]
) -> tuple[ComponentRef, ...]:
    """``metric_refs`` less those that need a reference where the entry has none."""
    return tuple(
        m for m in metric_refs if not (registry.get("metric", m.name).spec.requires_reference and _no_reference(entry))
    )


def _path_param_hashes(spec: Any, ref: ComponentRef) -> list[str]:
    """``name:sha256`` of every ``path`` parameter that points at something on this machine."""
    from fusionbench.weights import content_sha256, local_path

    out = []
    for name, declared in spec.params.items():
        if declared.type == "path":
            found = local_path(str(ref.params.get(name) or ""))
            if found is not None:
                out.append(f"{name}:{content_sha256(found)}")
    return out


def _no_reference(entry: SuiteEntry) -> bool:
    from fusionbench.tasks import get_task

    return get_task(entry.task).reference is None or entry.protocol == "full"


def _skip_reason(
    model: Registered,
    dataset: Registered,
    entry: SuiteEntry,
    dataset_obj: Any,
    machine: _LazyMachine | None,
    unavailable: str | None,
) -> tuple[SkipCause, str] | None:
    """Why ``model`` does not run on ``dataset`` in this entry, or None; the first reason wins:
    the pair (task, protocol, bands, ratio), then the machine, then the data's availability."""
    spec = model.spec
    if entry.task not in spec.tasks:
        return SkipCause.TASK, f"model {spec.name!r} does not do {entry.task} (it does {', '.join(sorted(spec.tasks))})"
    if spec.protocols is not None and entry.protocol not in spec.protocols:
        return SkipCause.PROTOCOL, f"model {spec.name!r} does not support the {entry.protocol} protocol"
    card = getattr(dataset_obj, "card", None) or dataset.spec.card
    requires = spec.requires
    if requires.bands is not None and card.bands is not None and card.bands not in requires.bands:
        return (
            SkipCause.INCOMPATIBLE,
            f"model {spec.name!r} accepts {sorted(requires.bands)} bands, dataset has {card.bands}",
        )
    if requires.ratios is not None and card.ratio is not None and card.ratio not in requires.ratios:
        return (
            SkipCause.INCOMPATIBLE,
            f"model {spec.name!r} accepts ratios {sorted(requires.ratios)}, dataset has {card.ratio}",
        )
    refused = machine.refuses(model.name, spec.requires) if machine is not None else None
    if refused is not None:
        return SkipCause.DEVICE, refused
    if unavailable is not None:
        return SkipCause.DATA_UNAVAILABLE, unavailable
    return None


def model_default_sampler(model_spec: Any, model_params: Mapping[str, Any]) -> ComponentChoice | None:
    """The sampler a model runs with when nobody names one: the entry of
    ``default_sampler_for`` its parameter values select (a ``release`` preset samples like the
    released code), else ``default_sampler``."""
    for name, by_value in model_spec.default_sampler_for.items():
        choice = by_value.get(model_params.get(name))
        if choice is not None:
            return choice
    if model_spec.default_sampler:
        return ComponentChoice(model_spec.default_sampler, model_spec.default_sampler_params)
    return None


def _samplers_for(
    registry: Registry,
    model_spec: Any,
    entry: SuiteEntry,
    selections: Sequence[Selection] | None,
    model_params: Mapping[str, Any] | None = None,
) -> list[ComponentRef | None]:
    if not model_spec.needs_sampler:
        return [None]
    default = model_default_sampler(model_spec, model_params or {})
    if not selections:
        return [_sampler_for(registry, model_spec, entry, default)]
    refs: list[ComponentRef | None] = []
    for sampler, given in _pick(registry, "sampler", selections, ()):
        # parameters a selection leaves out come from the model's default when it names that sampler
        base = dict(default.params) if default is not None and sampler.name == default.name else {}
        base.update(given)
        refs.append(_ref(sampler, resolve_params("sampler", sampler.name, sampler.spec.params, base)))
    return refs


def _sampler_for(
    registry: Registry, model_spec: Any, entry: SuiteEntry, default: ComponentChoice | None
) -> ComponentRef | None:
    choice: ComponentChoice | None = entry.sampler or default
    if choice is None:
        raise PlanError(f"model {model_spec.name!r} needs a sampler and neither it nor the suite names one")
    sampler = registry.get("sampler", choice.name)
    return _ref(sampler, resolve_params("sampler", sampler.name, sampler.spec.params, choice.params))


def embedded_training_datasets(registry: Any, model_name: str) -> list[str]:
    """The embedded (synthetic) datasets ``model_name`` trains on in the default suites: the
    datasets of its planned runs, full-resolution ones replaced by their training twin."""
    from fusionbench.components.suites import DEFAULT_SUITES

    names: set[str] = set()
    for suite in DEFAULT_SUITES:
        for run in plan_suite(registry, suite.name, models=[Selection(model_name)]).runs:
            spec = registry.get("dataset", run.dataset.name).spec
            if spec.synthetic:
                names.add(spec.train_from or spec.name)
    return sorted(names)
