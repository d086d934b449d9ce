"""Frozen spec dataclasses: what plugins hand to the core through the registration hooks.

A spec describes a component *without building it*: the `factory` is either a callable or an
import path string ``"package.module:attr"`` that is imported only when a run needs the component.
This is why ``fusionbench plugins list`` can show fifty plugins without importing torch.

Everything that changes numbers (versions, parameters, data hashes) lives in these specs so that
run keys (see :mod:`fusionbench.engine.runspec`) can be derived from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Factory = str | Callable[..., Any]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

PARAM_TYPES = ("int", "float", "str", "bool", "path")
"""The types a :class:`ParamSpec` may declare."""

PROTOCOLS = ("reduced", "full", "none")
"""Evaluation protocols. Pansharpening has reduced (Wald, with reference) and full resolution
(no reference); the other tasks use ``reduced`` when a reference exists and ``none`` otherwise."""


class FrozenDict(dict):
    """A read-only dict: frozen specs cannot be mutated through their mapping fields, yet they
    still pickle (``MappingProxyType`` does not), hash and compare like plain dicts."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this mapping is read-only (it belongs to a frozen spec)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        # by keys only: consistent with ``==`` (which says {"a": 1} == {"a": 1.0}, whose reprs
        # differ) and defined for unhashable values such as lists
        return hash(frozenset(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def frozen_mapping(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only mapping, so a frozen spec cannot be mutated through its dict fields."""
    return FrozenDict(dict(value or {}))


@dataclass(frozen=True)
class ParamSpec:
    """One user-settable parameter of a component (``ddif[steps=25]`` on the command line)."""

    default: Any
    type: str = "str"  # "int" | "float" | "str" | "bool" | "path"
    """``path``: a file or folder (a checkpoint) given as a string; when it exists at plan time its
    content hash enters the run key, so retraining into the same path is a new run, not a resume."""
    choices: tuple[Any, ...] | None = None
    help: str = ""

    def coerce(self, raw: Any) -> Any:
        """Turn a command-line string (or a Python value) into this parameter's type."""
        converters: dict[str, Callable[[Any], Any]] = {
            "int": int,
            "float": float,
            "str": str,
            "path": str,
            "bool": _to_bool,
        }
        if self.type not in converters:
            raise ValueError(f"unknown parameter type {self.type!r}")
        value = converters[self.type](raw)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"value {value!r} is not one of {list(self.choices)}")
        return value


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {raw!r}")


@dataclass(frozen=True)
class WeightsRef:
    """A checkpoint a model needs. Nothing downloads it: a resolver hook finds it locally."""

    uri: str
    sha256: str = ""
    license: str = ""
    description: str = ""


@dataclass(frozen=True)
class Requirements:
    """What a model needs from the data and the machine; the planner skips runs that do not fit,
    with the reason (``fusionbench run --plan`` lists them).

    ``cpu_ok=False``: the model needs a GPU; skipped where no CUDA device is usable.
    ``min_gpu_mem_gb``: the GPU memory a run needs; skipped where every usable GPU has less. On a
    machine without a GPU it does not apply when ``cpu_ok`` is true (the run goes to the CPU).
    The machine checked is the one the local and inline executors run on (``--devices`` or every
    visible GPU); executors that place runs elsewhere (Ray) are not checked at plan time.
    """

    cpu_ok: bool = True
    min_gpu_mem_gb: float = 0.0
    bands: frozenset[int] | None = None  # accepted output band counts; None = any
    ratios: frozenset[int] | None = None  # accepted resolution ratios; None = any


@dataclass(frozen=True)
class DataCard:
    """Constants of a dataset that metrics and models must agree on, recorded with every result.

    ``max_value`` is the data range of the stored values (2047 for 11-bit WV3 DN, 1023 for GF2,
    1.0 for CAVE, 255 for 8-bit IVF images). Arrays are handed out in these native units.
    """

    sensor: str = "none"
    ratio: int | None = None
    bands: int | None = None
    max_value: float = 1.0
    mtf_gnyq: tuple[float, ...] | None = None
    pan_gnyq: float | None = None
    extra: Mapping[str, Any] = field(default_factory=frozen_mapping)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor,
            "ratio": self.ratio,
            "bands": self.bands,
            "max_value": self.max_value,
            "mtf_gnyq": list(self.mtf_gnyq) if self.mtf_gnyq is not None else None,
            "pan_gnyq": self.pan_gnyq,
            "extra": dict(self.extra),
        }


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    tasks: frozenset[str]
    factory: Factory
    params: Mapping[str, ParamSpec] = field(default_factory=frozen_mapping)
    needs_sampler: bool = False
    default_sampler: str | None = None
    default_sampler_params: Mapping[str, Any] = field(default_factory=frozen_mapping)
    default_sampler_for: Mapping[str, Mapping[Any, ComponentChoice]] = field(default_factory=frozen_mapping)
    """Defaults that depend on a parameter's value, checked before ``default_sampler``:
    ``{"preset": {"release": ComponentChoice("ddim", {"steps": 100})}}`` makes the ``release``
    preset sample as the released code does unless the user or the suite names a sampler."""
    weights: tuple[WeightsRef, ...] = ()
    requires: Requirements = field(default_factory=Requirements)
    protocols: frozenset[str] | None = None  # None = every protocol of its tasks
    description: str = ""
    citation: str = ""
    url: str = ""
    license: str = ""

    kind = "model"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """The tasks this component is for (``fusionbench list --task``, suite membership)."""
        return frozenset(self.tasks)


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    version: str
    factory: Factory
    params: Mapping[str, ParamSpec] = field(default_factory=frozen_mapping)
    description: str = ""
    citation: str = ""

    kind = "sampler"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """Not task-specific: empty (``fusionbench list --task`` leaves it out)."""
        return frozenset()


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset split collection for one task and protocol.

    ``factory(root=Path|None, **params)`` returns a :class:`fusionbench.protocols.FusionDataset`.
    ``synthetic`` marks generated data so a leaderboard can never mistake it for a real benchmark.
    """

    name: str
    version: str
    task: str
    protocol: str
    factory: Factory
    card: DataCard = field(default_factory=DataCard)
    splits: tuple[str, ...] = ("test",)
    params: Mapping[str, ParamSpec] = field(default_factory=frozen_mapping)
    synthetic: bool = False
    train_from: str = ""
    """Dataset whose ``train`` split trains models evaluated on this one when it has none (a
    full-resolution set names its reduced-resolution twin); empty: train on this dataset."""
    description: str = ""
    citation: str = ""
    url: str = ""
    license: str = ""

    kind = "dataset"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """The tasks this component is for (``fusionbench list --task``, suite membership)."""
        return frozenset({self.task})


@dataclass(frozen=True)
class MetricSpec:
    """A quality metric. ``factory(**params)`` returns a :class:`fusionbench.protocols.Metric`."""

    name: str
    version: str
    tasks: frozenset[str]
    factory: Factory
    requires_reference: bool
    higher_is_better: bool
    ideal: float | None = None
    params: Mapping[str, ParamSpec] = field(default_factory=frozen_mapping)
    protocols: frozenset[str] | None = None
    reference_impl: str = ""
    description: str = ""

    kind = "metric"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """The tasks this component is for (``fusionbench list --task``, suite membership)."""
        return frozenset(self.tasks)


@dataclass(frozen=True)
class ComponentChoice:
    """A component named in a suite with fixed parameters, e.g. ``q2n[block=32]``."""

    name: str
    params: Mapping[str, Any] = field(default_factory=frozen_mapping)


@dataclass(frozen=True)
class SuiteEntry:
    """One block of a suite: a task/protocol, which datasets, which metrics, with which settings.

    ``datasets`` are fnmatch patterns over registered dataset names restricted to ``task`` and
    ``protocol``, so a third party's dataset of the same task and protocol joins ``"*"`` suites.
    """

    task: str
    protocol: str
    datasets: tuple[str, ...] = ("*",)
    metrics: tuple[ComponentChoice, ...] = ()
    split: str = "test"
    seeds: tuple[int, ...] = (0,)
    sampler: ComponentChoice | None = None
    models: tuple[str, ...] | None = None  # None = every compatible model, third-party ones too
    max_items: int | None = None
    exclude: tuple[str, ...] = ("custom-*",)  # datasets that need user-given paths never join by pattern


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    version: str
    entries: tuple[SuiteEntry, ...]
    description: str = ""

    kind = "suite"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """The tasks this component is for (``fusionbench list --task``, suite membership)."""
        return frozenset(entry.task for entry in self.entries)


@dataclass(frozen=True)
class ExecutorSpec:
    """An execution backend; ``factory(**options)`` returns a :class:`fusionbench.protocols.Executor`."""

    name: str
    factory: Factory
    description: str = ""
    version: str = "1"

    kind = "executor"

    @property
    def covered_tasks(self) -> frozenset[str]:
        """Not task-specific: empty (``fusionbench list --task`` leaves it out)."""
        return frozenset()


@dataclass(frozen=True)
class ReportedResult:
    """One number a paper reports (``fusionbench_register_reported``): shown beside measured rows
    in a separate block ("reported in paper, not run here"), never ranked with them.

    ``metric`` is the fusionbench metric it corresponds to (``q2n`` for a paper's Q8/Q4,
    ``ssim-fusion`` for a fusion paper's SSIM) and ``metric_as_published`` the paper's name;
    ``model`` is the fusionbench model it reproduces ("" if none), which is what the gap
    (measured − reported) is computed against. ``settings`` records the metric settings the paper
    states, or ``"unstated"``; ``source_table`` and ``transcribed_by`` say where the number was
    copied from and by whom, so every value can be checked against its source.
    """

    method: str
    paper: str
    year: int | None
    dataset: str
    protocol: str
    metric: str
    value: float
    std: float | None = None
    metric_as_published: str = ""
    model: str = ""
    settings: str = "unstated"
    citation: str = ""
    url: str = ""
    source_table: str = ""
    transcribed_by: str = ""
    note: str = ""
    provider: str = ""  # the plugin that registered it (filled in by the core)


ComponentSpec = ModelSpec | SamplerSpec | DatasetSpec | MetricSpec | SuiteSpec | ExecutorSpec

KINDS: dict[str, type] = {
    "model": ModelSpec,
    "sampler": SamplerSpec,
    "dataset": DatasetSpec,
    "metric": MetricSpec,
    "suite": SuiteSpec,
    "executor": ExecutorSpec,
}


def sequence_of(value: Any) -> Sequence[Any]:
    """Hooks may return one spec, a list, a tuple or a generator; normalise to a tuple."""
    if value is None:
        return ()
    if isinstance(value, tuple(KINDS.values())):
        return (value,)
    return tuple(value)
