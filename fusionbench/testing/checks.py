"""The conformance checks as plain functions, runnable without pytest.

Why not pytest only: ``fusionbench plugins check`` must work wherever ``fusionbench run`` works,
and ``requirements.txt`` (what users install) has no pytest. So the checks live here as plain
functions that raise :class:`AssertionError` on a failure and :class:`CheckSkipped` when a check
does not apply. :func:`run_checks` runs them in-process for the CLI; the pytest module
:mod:`fusionbench.testing.conformance` wraps the same functions for ``pytest --pyargs``; and
:func:`assert_conformance` is the one call a plugin's own test file needs.
"""

from __future__ import annotations

import importlib
import itertools
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DatasetUnavailable, FusionbenchError
from ..lazy import build, resolve, signature_problems
from ..protocols import FusionBatch, ModelContext
from ..tasks import get_task
from .synthetic import synthetic_batch, synthetic_card

COMPONENT_KINDS = ("model", "metric", "dataset", "sampler", "executor")


class CheckSkipped(Exception):
    """A check that does not apply here (a model that needs weights, a dataset not on disk)."""


@dataclass(frozen=True)
class Outcome:
    """The result of one check on one target (a plugin or one of its components)."""

    check: str
    target: str
    state: str  # passed | failed | skipped
    message: str = ""


@dataclass(frozen=True)
class Case:
    """One check bound to its target; ``run(workdir)`` raises on failure."""

    check: str
    target: str
    run: Callable[[Path], None]

    def __str__(self) -> str:
        return f"{self.check}[{self.target}]"


def _default_params(spec: Any) -> dict[str, Any]:
    return {name: p.default for name, p in spec.params.items()}


def _status(registry: Any, plugin: str) -> Any:
    return registry.status(plugin)


# ---------------------------------------------------------------- plugin-wide checks


def plugin_loads_cleanly(registry: Any, plugin: str) -> None:
    status = _status(registry, plugin)
    assert status.state == "ok", f"plugin {plugin!r} is {status.state}: {status.error}"


def hook_module_does_not_import_torch(registry: Any, plugin: str) -> None:
    """Run in a fresh interpreter: this process may have imported torch already."""
    module = _status(registry, plugin).module.split(":")[0]
    code = f"import sys, importlib; importlib.import_module({module!r}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False", f"importing {module} imports torch: make factories lazy 'module:attr' strings"


def _entries_of(registry: Any, plugin: str, kinds: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for kind in kinds:
        for entry in registry.all(kind):
            if entry.plugin == plugin:
                yield kind, entry


def factories_resolve(registry: Any, plugin: str) -> None:
    for _, entry in _entries_of(registry, plugin, COMPONENT_KINDS):
        resolve(entry.spec.factory)
    importlib.invalidate_caches()


def factory_signatures_match_their_parameters(registry: Any, plugin: str) -> None:
    """Every declared ParamSpec is accepted by its factory, and every argument the factory needs
    is declared (datasets also get ``root``)."""
    problems = [
        problem
        for kind, entry in _entries_of(registry, plugin, ("model", "metric", "dataset", "sampler"))
        for problem in signature_problems(entry.spec, runtime_args=("root",) if kind == "dataset" else ())
    ]
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- per-component checks


def _setup(model: Any, task: str, workdir: Path) -> None:
    setup = getattr(model, "setup", None)
    if not callable(setup):
        return
    context = ModelContext(
        device="cpu",
        card=synthetic_card(task),
        dataset=None,
        cache_dir=workdir,
        resolve_weights=lambda uri, sha: None,
        seed=0,
        report=lambda message: None,
        task=task,
    )
    try:
        setup(context)
    except FusionbenchError as exc:
        raise CheckSkipped(f"model needs weights or training data to run ({exc})") from None


def _sampler_for(registry: Any, spec: Any) -> Any:
    if not spec.needs_sampler:
        return None
    sampler = registry.get("sampler", spec.default_sampler)
    params = {**_default_params(sampler.spec), **dict(spec.default_sampler_params)}
    return build(sampler.spec, **params)


def model_output_contract_and_determinism(registry: Any, entry: Any, workdir: Path) -> None:
    import torch

    spec = entry.spec
    resolve(spec.factory)
    for task in sorted(spec.tasks):
        inputs, _ = synthetic_batch(task, size=32, batch=2)
        card = synthetic_card(task)
        if spec.requires.bands is not None and card.bands not in spec.requires.bands:
            continue
        model = build(spec, **_default_params(spec))
        _setup(model, task, workdir)
        info = get_task(task)
        expected = (2, inputs[info.output_channels_from].shape[1], *inputs[info.output_size_from].shape[2:])
        outs = []
        for _ in range(2):
            generator = torch.Generator().manual_seed(1234)
            batch = FusionBatch(image_ids=("a", "b"), inputs=inputs, card=card)
            with torch.no_grad():
                outs.append(model.fuse(batch, sampler=_sampler_for(registry, spec), generator=generator))
        out = outs[0]
        assert isinstance(out, torch.Tensor), f"{spec.name} returned {type(out).__name__}"
        assert tuple(out.shape) == expected, f"{spec.name} on {task}: shape {tuple(out.shape)} != {expected}"
        assert out.dtype.is_floating_point, f"{spec.name} on {task}: dtype {out.dtype} is not floating point"
        assert torch.isfinite(out).all(), f"{spec.name} on {task}: non-finite output"
        assert torch.equal(outs[0], outs[1]), f"{spec.name} on {task}: same seed, different output"


def metric_contract_and_ideal_value(registry: Any, entry: Any, workdir: Path) -> None:
    import torch

    spec = entry.spec
    metric = build(spec, **_default_params(spec))
    for task, protocol in itertools.product(
        sorted(spec.tasks), sorted(spec.protocols or get_task(next(iter(spec.tasks))).protocols)
    ):
        if protocol not in get_task(task).protocols:
            continue
        if spec.requires_reference and (protocol == "full" or get_task(task).reference is None):
            continue  # no reference exists under this protocol
        inputs, reference = synthetic_batch(task, size=64, batch=2)
        card = synthetic_card(task)
        reference_or_pred = inputs[get_task(task).output_size_from].clone() if reference is None else reference
        if protocol == "full":
            pred, ref = inputs["lms"].clone(), None
        else:
            pred = reference_or_pred.clone()
            ref = reference if spec.requires_reference else None
        values = metric(pred, ref, inputs, card)
        assert isinstance(values, torch.Tensor) and values.shape == (2,), (
            f"{spec.name}: expected shape (2,), got {getattr(values, 'shape', None)}"
        )
        assert values.dtype == torch.float64, f"{spec.name}: expected float64, got {values.dtype}"
        assert torch.isfinite(values).all(), f"{spec.name}: non-finite value"
        if spec.ideal is not None and spec.requires_reference and ref is not None:
            assert torch.allclose(values, torch.full_like(values, spec.ideal), rtol=1e-6, atol=1e-9), (
                f"{spec.name}: a perfect fusion scores {values.tolist()}, declared ideal {spec.ideal}"
            )


def dataset_yields_the_task_fields(registry: Any, entry: Any, workdir: Path) -> None:
    spec = entry.spec
    try:
        dataset = build(spec, root=None, **_default_params(spec))
    except DatasetUnavailable as exc:
        assert str(exc), "DatasetUnavailable must say where it looked and how to get the data"
        raise CheckSkipped(f"{spec.name} unavailable here: {exc}") from None
    task = get_task(spec.task)
    split = spec.splits[0]
    first = next(iter(dataset.items(split)))
    assert set(task.input_names) <= set(first.inputs), (
        f"{spec.name}: missing fields {set(task.input_names) - set(first.inputs)}"
    )
    for name, array in first.inputs.items():
        assert array.ndim == 3, f"{spec.name}/{first.image_id}: {name} must be (C, H, W), got {array.shape}"
    if task.reference is not None and spec.protocol != "full":
        assert first.reference is not None and first.reference.ndim == 3, f"{spec.name}: no (C, H, W) reference"
    assert dataset.content_sha256(split) == dataset.content_sha256(split), f"{spec.name}: content hash is not stable"


def sampler_builds_with_defaults(registry: Any, entry: Any, workdir: Path) -> None:
    sampler = build(entry.spec, **_default_params(entry.spec))
    assert hasattr(sampler, "sample"), f"{entry.name}: built object has no sample()"


PLUGIN_CHECKS: tuple[Callable[[Any, str], None], ...] = (
    plugin_loads_cleanly,
    hook_module_does_not_import_torch,
    factories_resolve,
    factory_signatures_match_their_parameters,
)
COMPONENT_CHECKS: dict[str, Callable[[Any, Any, Path], None]] = {
    "model": model_output_contract_and_determinism,
    "metric": metric_contract_and_ideal_value,
    "dataset": dataset_yields_the_task_fields,
    "sampler": sampler_builds_with_defaults,
}


def components_of(registry: Any, plugin: str, kind: str) -> list[Any]:
    """The plugin's components of ``kind``, those that lost a name conflict included (they are
    still the plugin's, and reachable as ``PLUGIN:NAME``)."""
    entries = [e for e in registry.all(kind) if e.plugin == plugin]
    for conflict in registry.conflicts:
        if conflict.kind != kind:
            continue
        try:
            entry = registry.get(kind, f"{plugin}:{conflict.name}")
        except KeyError:
            continue
        if entry not in entries:
            entries.append(entry)
    return entries


def cases(registry: Any, plugin: str) -> list[Case]:
    """Every check that applies to ``plugin`` (an entry-point name), bound to its target."""
    out = [Case(check.__name__, plugin, lambda _dir, check=check: check(registry, plugin)) for check in PLUGIN_CHECKS]
    if _status(registry, plugin).state != "ok":
        return out[:1]  # a broken plugin has no components: the first check says why
    for kind, check in COMPONENT_CHECKS.items():
        for entry in components_of(registry, plugin, kind):
            out.append(
                Case(
                    check.__name__,
                    f"{plugin}:{entry.name}",
                    lambda workdir, check=check, entry=entry: check(registry, entry, workdir),
                )
            )
    return out


def run_case(case: Case) -> Outcome:
    """Run one case in its own temporary folder; any exception other than a skip is a failure."""
    with tempfile.TemporaryDirectory(prefix="fusionbench-check-") as folder:
        try:
            case.run(Path(folder))
        except CheckSkipped as exc:
            return Outcome(case.check, case.target, "skipped", str(exc))
        except AssertionError as exc:
            return Outcome(case.check, case.target, "failed", str(exc) or traceback.format_exc())
        except Exception:  # noqa: BLE001 - a check reports whatever the plugin raised
            return Outcome(case.check, case.target, "failed", traceback.format_exc())
    return Outcome(case.check, case.target, "passed")


def run_checks(plugin: str, registry: Any = None) -> list[Outcome]:
    """Every conformance check against one plugin (an entry-point name), in this process."""
    if registry is None:
        from ..registry import load_registry

        registry = load_registry()
    return [run_case(case) for case in cases(registry, plugin)]


def assert_conformance(plugin: str) -> None:
    """The whole conformance kit in one assertion, for a plugin's own test file: fails listing
    every failed check with its message (skips are not failures)."""
    failed = [o for o in run_checks(plugin) if o.state == "failed"]
    assert not failed, "\n".join(f"{o.check}[{o.target}]: {o.message}" for o in failed)
