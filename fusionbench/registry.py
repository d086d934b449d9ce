"""Plugin discovery and the component registry.

Why not ``PluginManager.load_setuptools_entrypoints``: one plugin that fails to import would abort
start-up, and one hook implementation that raises would abort the whole hook call. Here each entry
point is loaded in isolation and each plugin's registration hooks are called one implementation at
a time, so a broken plugin is *listed* as broken with its error and the others keep working.
"""

from __future__ import annotations

import difflib
import sys
import traceback
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

from fusionbench import hookspecs, settings
from fusionbench.errors import ComponentConflictError, UnknownComponentError
from fusionbench.specs import (
    KINDS,
    NAME_PATTERN,
    PARAM_TYPES,
    PROTOCOLS,
    ComponentChoice,
    DataCard,
    DatasetSpec,
    ExecutorSpec,
    MetricSpec,
    ModelSpec,
    ParamSpec,
    Requirements,
    SamplerSpec,
    SuiteEntry,
    SuiteSpec,
    WeightsRef,
    sequence_of,
)
from fusionbench.tasks import TASKS

ENTRY_POINT_GROUP = "fusionbench"
PROJECT = "fusionbench"


@dataclass
class PluginStatus:
    """One entry point: where it comes from and whether it works."""

    name: str
    dist: str
    version: str
    module: str
    state: str = "ok"  # ok | broken | disabled
    error: str = ""
    components: dict[str, list[str]] = field(default_factory=dict)

    @property
    def short_error(self) -> str:
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


S = TypeVar("S", ModelSpec, SamplerSpec, DatasetSpec, MetricSpec, SuiteSpec, ExecutorSpec)


@dataclass(frozen=True)
class Registered(Generic[S]):
    """A component spec with the plugin that registered it."""

    spec: S
    plugin: str
    dist: str
    dist_version: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass
class Conflict:
    kind: str
    name: str
    sources: list[str]

    def message(self) -> str:
        return (
            f"{self.kind} {self.name!r} is registered by more than one plugin: "
            f"{', '.join(self.sources)}; the first is used, use 'PLUGIN:{self.name}' to pick one"
        )


class KindView(Generic[S]):
    """The registry seen through one component kind, typed:
    ``registry.models.get("exp")`` is a ``Registered[ModelSpec]``."""

    def __init__(self, registry: Registry, kind: str):
        self._registry = registry
        self.kind = kind

    def get(self, name: str) -> Registered[S]:
        return self._registry.get(self.kind, name)

    def all(self) -> list[Registered[S]]:
        return self._registry.all(self.kind)

    def names(self) -> list[str]:
        return self._registry.names(self.kind)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()


class Registry:
    """Every installed component, grouped by kind, with plugin health and conflicts.

    String-keyed access (``registry.get("model", name)``) serves code that handles every kind
    alike; the typed views (``registry.models``, ``.datasets``, ...) serve code that knows its kind.
    """

    def __init__(self, pm: pluggy.PluginManager, statuses: list[PluginStatus]):
        self.pm = pm
        self.statuses = statuses
        self._by_kind: dict[str, dict[str, Registered]] = {kind: {} for kind in KINDS}
        self._all_sources: dict[tuple[str, str], list[Registered]] = {}
        self.conflicts: list[Conflict] = []

    # -- typed views ---------------------------------------------------------------------------
    @property
    def models(self) -> KindView[ModelSpec]:
        return KindView(self, "model")

    @property
    def samplers(self) -> KindView[SamplerSpec]:
        return KindView(self, "sampler")

    @property
    def datasets(self) -> KindView[DatasetSpec]:
        return KindView(self, "dataset")

    @property
    def metrics(self) -> KindView[MetricSpec]:
        return KindView(self, "metric")

    @property
    def suites(self) -> KindView[SuiteSpec]:
        return KindView(self, "suite")

    @property
    def executors(self) -> KindView[ExecutorSpec]:
        return KindView(self, "executor")

    # -- queries -----------------------------------------------------------------------------
    def all(self, kind: str) -> list[Registered]:
        self._check_kind(kind)
        return sorted(self._by_kind[kind].values(), key=lambda r: r.name)

    def names(self, kind: str) -> list[str]:
        return [r.name for r in self.all(kind)]

    def get(self, kind: str, name: str) -> Registered:
        """Look a component up by ``name`` or ``plugin:name`` (to pick one side of a conflict)."""
        self._check_kind(kind)
        if ":" in name:
            plugin, _, bare = name.partition(":")
            for candidate in self._all_sources.get((kind, bare), []):
                if candidate.plugin == plugin:
                    return candidate
            raise UnknownComponentError(f"no plugin {plugin!r} registers a {kind} named {bare!r}")
        try:
            return self._by_kind[kind][name]
        except KeyError:
            raise UnknownComponentError(self._unknown_message(kind, name)) from None

    def find(self, name: str) -> list[Registered]:
        """All components of any kind with this name (for ``fusionbench info``)."""
        return [self._by_kind[kind][name] for kind in KINDS if name in self._by_kind[kind]]

    def status(self, plugin: str) -> PluginStatus:
        for status in self.statuses:
            if status.name == plugin:
                return status
        raise UnknownComponentError(f"no plugin named {plugin!r}")

    @property
    def broken(self) -> list[PluginStatus]:
        return [s for s in self.statuses if s.state == "broken"]

    def _check_kind(self, kind: str) -> None:
        if kind not in self._by_kind:
            raise UnknownComponentError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")

    def _unknown_message(self, kind: str, name: str) -> str:
        known = list(self._by_kind[kind])
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        broken = [s.name for s in self.broken]
        broken_hint = f" (broken plugins, which may provide it: {', '.join(broken)})" if broken else ""
        listing = f" Installed: {', '.join(sorted(known)) or 'none'}." if not close else ""
        return f"no {kind} named {name!r}{hint}{broken_hint}.{listing}"

    # -- building ----------------------------------------------------------------------------
    def _add(self, entry: Registered) -> None:
        key = (entry.kind, entry.name)
        sources = self._all_sources.setdefault(key, [])
        sources.append(entry)
        if entry.name not in self._by_kind[entry.kind]:
            self._by_kind[entry.kind][entry.name] = entry

    def _collect_conflicts(self) -> None:
        for (kind, name), sources in sorted(self._all_sources.items()):
            if len(sources) > 1:
                self.conflicts.append(
                    Conflict(kind, name, [f"{s.plugin} ({s.dist} {s.dist_version})" for s in sources])
                )

    def require_no_conflicts(self) -> None:
        if self.conflicts:
            raise ComponentConflictError("; ".join(c.message() for c in self.conflicts))

    # -- hooks -------------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        return self.pm.hook


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _validate_spec(spec: Any, kind: str) -> None:
    """Refuse a spec the core could not use, naming the field at fault.

    Why here: a spec is used long after it is registered (by every planner call, every worker),
    so a wrong field found there fails *every* suite with a traceback. Checked once at load time,
    it marks only its plugin broken, with the reason, and every other plugin keeps working.
    """
    expected = KINDS[kind]
    if not isinstance(spec, expected):
        raise TypeError(f"returned {type(spec).__name__}, expected {expected.__name__}")
    if not isinstance(spec.name, str) or not NAME_PATTERN.match(spec.name):
        raise ValueError(f"invalid {kind} name {spec.name!r}: must match {NAME_PATTERN.pattern}")
    problems = _field_problems(spec, kind)
    if problems:
        raise ValueError(f"{kind} {spec.name!r}: " + "; ".join(problems))
    tasks = spec.covered_tasks
    if kind in ("model", "metric") and not tasks:
        raise ValueError(f"{kind} {spec.name!r} declares no task")
    if kind == "dataset" and spec.protocol not in PROTOCOLS:
        raise ValueError(f"dataset {spec.name!r}: unknown protocol {spec.protocol!r}")
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"{kind} {spec.name!r} names unknown task(s) {unknown}; known: {sorted(TASKS)}")


def _is_str_set(value: Any) -> bool:
    return isinstance(value, (set, frozenset, tuple, list)) and all(isinstance(v, str) for v in value)


def _param_problems(params: Any, where: str = "params") -> list[str]:
    """A ``params`` mapping must map names to :class:`ParamSpec`s whose default (unless None)
    converts to the declared type and lies among the choices: the planner resolves every
    declared default for every run, so a bad default would fail them all."""
    if not isinstance(params, Mapping):
        return [f"{where} is {type(params).__name__}, expected a mapping of name -> ParamSpec"]
    problems = []
    for name, declared in params.items():
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: parameter name {name!r} is not a non-empty string")
        elif not isinstance(declared, ParamSpec):
            problems.append(f"{where}[{name!r}] is {type(declared).__name__} {declared!r}, expected a ParamSpec")
        elif declared.type not in PARAM_TYPES:
            problems.append(f"{where}[{name!r}]: unknown type {declared.type!r}; types: {', '.join(PARAM_TYPES)}")
        elif declared.default is not None:
            try:
                declared.coerce(declared.default)
            except (TypeError, ValueError) as exc:
                problems.append(
                    f"{where}[{name!r}]: default {declared.default!r} is not a valid {declared.type}: {exc}"
                )
    return problems


def _field_problems(spec: Any, kind: str) -> list[str]:
    """Type checks of the fields the core reads, per kind (dataclasses do not check types)."""
    problems: list[str] = []

    def need(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    if kind != "suite":
        need(
            isinstance(spec.factory, str) and ":" in spec.factory or callable(spec.factory),
            f"factory {spec.factory!r} is neither callable nor a 'module:attr' string",
        )
    need(
        isinstance(spec.version, (str, int)) and not isinstance(spec.version, bool),
        f"version {spec.version!r} is not a string",
    )
    if kind in ("model", "sampler", "dataset", "metric"):
        problems += _param_problems(spec.params)
    if kind in ("model", "metric"):
        need(
            _is_str_set(spec.tasks) and not isinstance(spec.tasks, str),
            f"tasks {spec.tasks!r} is not a set of task names",
        )
        need(
            spec.protocols is None or (_is_str_set(spec.protocols) and set(spec.protocols) <= set(PROTOCOLS)),
            f"protocols {spec.protocols!r} is not None or a set of {list(PROTOCOLS)}",
        )
    if kind == "model":
        need(isinstance(spec.requires, Requirements), f"requires is {spec.requires!r}, expected a Requirements")
        need(isinstance(spec.needs_sampler, bool), f"needs_sampler {spec.needs_sampler!r} is not a bool")
        need(
            spec.default_sampler is None or isinstance(spec.default_sampler, str),
            f"default_sampler {spec.default_sampler!r} is not a name",
        )
        need(isinstance(spec.default_sampler_params, Mapping), "default_sampler_params is not a mapping")
        need(
            isinstance(spec.default_sampler_for, Mapping)
            and all(
                name in spec.params
                and isinstance(by_value, Mapping)
                and all(isinstance(choice, ComponentChoice) for choice in by_value.values())
                for name, by_value in spec.default_sampler_for.items()
            ),
            "default_sampler_for must map a declared parameter to {value: ComponentChoice}",
        )
        need(
            isinstance(spec.weights, (tuple, list)) and all(isinstance(w, WeightsRef) for w in spec.weights),
            f"weights {spec.weights!r} is not a tuple of WeightsRef",
        )
    if kind == "metric":
        need(isinstance(spec.requires_reference, bool), f"requires_reference {spec.requires_reference!r} is not a bool")
        need(isinstance(spec.higher_is_better, bool), f"higher_is_better {spec.higher_is_better!r} is not a bool")
    if kind == "dataset":
        need(isinstance(spec.task, str), f"task {spec.task!r} is not a task name")
        need(isinstance(spec.card, DataCard), f"card is {spec.card!r}, expected a DataCard")
        need(
            isinstance(spec.splits, (tuple, list))
            and bool(spec.splits)
            and all(isinstance(s, str) for s in spec.splits),
            f"splits {spec.splits!r} is not a non-empty tuple of names",
        )
        need(isinstance(spec.synthetic, bool), f"synthetic {spec.synthetic!r} is not a bool")
    if kind == "suite":
        entries = spec.entries if isinstance(spec.entries, (tuple, list)) else None
        need(
            entries is not None and all(isinstance(e, SuiteEntry) for e in entries),
            f"entries {spec.entries!r} is not a tuple of SuiteEntry",
        )
        for index, entry in enumerate(entries or ()):
            if not isinstance(entry, SuiteEntry):
                continue
            need(isinstance(entry.task, str) and entry.task in TASKS, f"entries[{index}]: unknown task {entry.task!r}")
            need(entry.protocol in PROTOCOLS, f"entries[{index}]: unknown protocol {entry.protocol!r}")
            need(
                all(isinstance(m, ComponentChoice) for m in entry.metrics),
                f"entries[{index}]: metrics must be ComponentChoices",
            )
            need(
                all(isinstance(s, int) and not isinstance(s, bool) for s in entry.seeds),
                f"entries[{index}]: seeds {entry.seeds!r} are not integers",
            )
            need(
                _is_str_set(entry.datasets) and not isinstance(entry.datasets, str),
                f"entries[{index}]: datasets {entry.datasets!r} is not a tuple of patterns",
            )
    return problems


def _collect(registry: Registry, plugin_name: str, status: PluginStatus) -> None:
    """Call one plugin's registration hooks; any failure marks only this plugin broken."""
    for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
        impls = [i for i in getattr(registry.pm.hook, hook_name).get_hookimpls() if i.plugin_name == plugin_name]
        if not impls:
            continue
        specs = tuple(spec for impl in impls for spec in sequence_of(impl.function()))
        for spec in specs:
            try:
                _validate_spec(spec, kind)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{hook_name}: {exc}") from exc
        for spec in specs:
            registry._add(Registered(spec, plugin_name, status.dist, status.version))
            status.components.setdefault(kind, []).append(spec.name)


def load_registry(
    *,
    extra_plugins: Sequence[tuple[str, Any]] = (),
    use_entry_points: bool = True,
    disabled: Iterable[str] | None = None,
    only: Iterable[str] | None = None,
) -> Registry:
    """Discover plugins and build a fresh registry (no global state; tests build their own).

    ``extra_plugins`` are ``(name, module_or_object)`` pairs registered as if they came from an
    entry point (tests, and programmatic use). ``FUSIONBENCH_DISABLE_PLUGINS=a,b`` blocks plugins;
    ``FUSIONBENCH_PLUGINS=a,b`` loads only those.
    """
    pm = new_plugin_manager()
    blocked = set(disabled or ()) | settings.plugins_disabled()
    allowed = set(only or ()) | settings.plugins_only()
    statuses: list[PluginStatus] = []
    registry = Registry(pm, statuses)

    candidates: list[tuple[str, str, str, str, Any]] = []  # name, dist, version, module, loader
    if use_entry_points:
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        for ep in eps:
            dist = ep.dist.name if ep.dist is not None else "?"
            version = ep.dist.version if ep.dist is not None else "?"
            candidates.append((ep.name, dist, version, ep.value, ep.load))
    for name, obj in extra_plugins:
        dist = getattr(obj, "__fusionbench_dist__", "(registered in process)")
        version = getattr(obj, "__fusionbench_dist_version__", "")
        module = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__name__
        candidates.append((name, dist, version, module, lambda obj=obj: obj))

    for name, dist, version, module, loader in candidates:
        status = PluginStatus(name=name, dist=dist, version=version, module=module)
        statuses.append(status)
        if name in blocked or (allowed and name not in allowed):
            status.state = "disabled"
            pm.set_blocked(name)
            continue
        if pm.get_plugin(name) is not None or pm.is_blocked(name):
            status.state = "broken"
            status.error = f"plugin name {name!r} is already taken by another distribution"
            continue
        try:
            plugin = loader()
            pm.register(plugin, name=name)
            pm.check_pending()
            _collect(registry, name, status)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - isolation is the point
            status.state = "broken"
            status.error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            status.components.clear()
            _forget(registry, name)
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
    registry._collect_conflicts()
    return registry


def _forget(registry: Registry, plugin_name: str) -> None:
    """Drop whatever a plugin registered before it failed, so a broken plugin contributes nothing."""
    for key, sources in list(registry._all_sources.items()):
        kept = [s for s in sources if s.plugin != plugin_name]
        registry._all_sources[key] = kept
        kind, name = key
        current = registry._by_kind[kind].get(name)
        if current is not None and current.plugin == plugin_name:
            if kept:
                registry._by_kind[kind][name] = kept[0]
            else:
                del registry._by_kind[kind][name]


# Plugins already warned about, per registry: each (plugin, hook) is printed once per process.
_WARNED: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()


def call_hook_isolated(
    registry: Registry, hook_name: str, kwargs: Mapping[str, Any], errors: list[str], *, firstresult: bool = False
) -> Any:
    """Call each plugin's implementation of ``hook_name`` on its own; a plugin that raises never
    stops the caller.

    This is how every runtime hook is called (observers by the coordinator, the device selector
    by the local executor, the weights resolver in workers). A failure is appended to ``errors``
    as ``"<plugin>.<hook>: <Type>: <message>"`` (the caller records these on the run and the
    session: ``observer_errors``) and the plugin's traceback is printed to stderr once per
    registry; later failures of the same plugin and hook are recorded but not printed again.

    ``firstresult=False`` returns every implementation's answer, in registration order.
    ``firstresult=True`` asks them in pluggy's order (the last registered first) and returns the
    first answer that is not ``None``; one that raises is skipped as if it had answered ``None``,
    so the next plugin, or the caller's default, decides.
    """
    impls = [
        impl
        for impl in getattr(registry.pm.hook, hook_name).get_hookimpls()
        if not (impl.hookwrapper or getattr(impl, "wrapper", False))
    ]
    results: list[Any] = []
    for impl in reversed(impls) if firstresult else impls:
        try:
            # pluggy lets an implementation take a subset of the spec's arguments
            result = impl.function(*(kwargs[name] for name in impl.argnames))
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            message = f"{impl.plugin_name}.{hook_name}: {type(exc).__name__}: {exc}"
            errors.append(message)
            _warn_once(registry, impl.plugin_name, hook_name, message, exc)
            continue
        if firstresult:
            if result is not None:
                return result
        else:
            results.append(result)
    return None if firstresult else results


def _warn_once(registry: Registry, plugin: str, hook_name: str, message: str, exc: BaseException) -> None:
    try:
        seen = _WARNED.setdefault(registry, set())
    except TypeError:  # not weak-referenceable: warn every time
        seen = set()
    if (plugin, hook_name) in seen:
        return
    seen.add((plugin, hook_name))
    sys.stderr.write(
        f"warning: plugin {plugin!r} raised in {hook_name}; ignored and recorded on the run "
        f"(further errors of this hook are recorded without this message): {message}\n"
    )
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
