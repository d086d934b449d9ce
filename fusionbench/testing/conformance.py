"""The conformance tests (collected with ``pytest --pyargs fusionbench.testing.conformance``)."""

from __future__ import annotations

import importlib
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from ..errors import DatasetUnavailable, FusionbenchError
from ..lazy import build, resolve, signature_problems
from fusionbench.registry import load_registry
from ..protocols import FusionBatch, ModelContext
from ..tasks import get_task
from .synthetic import synthetic_batch, synthetic_card


def _status(name: str):
    return load_registry().status(name)


def test_plugin_loads_cleanly(fb_plugin_name):
    status = _status(fb_plugin_name)
    assert status.state == "ok", f"plugin {fb_plugin_name!r} is {status.state}: {status.error}"


def test_hook_module_does_not_import_torch(fb_plugin_name):
    module = _status(fb_plugin_name).module
    code = f"import sys, importlib; importlib.import_module({module!r}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False", f"importing {module} imports torch: make factories lazy 'module:attr' strings"


def _default_params(spec) -> dict:
    return {name: p.default for name, p in spec.params.items()}


def _setup(model, task: str, tmp_path: Path) -> None:
    setup = getattr(model, "setup", None)
    if not callable(setup):
        return
    context = ModelContext(
        device="cpu", card=synthetic_card(task), dataset=None, cache_dir=tmp_path,
        resolve_weights=lambda uri, sha: None, seed=0, report=lambda message: None, task=task,
    )
    try:
        setup(context)
    except FusionbenchError as exc:
        pytest.skip(f"model needs weights or training data to run ({exc})")


def _sampler_for(spec):
    if not spec.needs_sampler:
        return None
    registry = load_registry()
    sampler = registry.get("sampler", spec.default_sampler)
    params = {**_default_params(sampler.spec), **dict(spec.default_sampler_params)}
    return build(sampler.spec, **params)


def test_model_output_contract_and_determinism(fb_model, tmp_path):
    import torch

    spec = fb_model.spec
    resolve(spec.factory)
    for task in sorted(spec.tasks):
        inputs, _ = synthetic_batch(task, size=32, batch=2)
        card = synthetic_card(task)
        if spec.requires.bands is not None and card.bands not in spec.requires.bands:
            continue
        model = build(spec, **_default_params(spec))
        _setup(model, task, tmp_path)
        info = get_task(task)
        expected = (2, inputs[info.output_channels_from].shape[1], *inputs[info.output_size_from].shape[2:])
        outs = []
        for _ in range(2):
            generator = torch.Generator().manual_seed(1234)
            batch = FusionBatch(image_ids=("a", "b"), inputs=inputs, card=card)
            with torch.no_grad():
                outs.append(model.fuse(batch, sampler=_sampler_for(spec), generator=generator))
        out = outs[0]
        assert isinstance(out, torch.Tensor), f"{spec.name} returned {type(out).__name__}"
        assert tuple(out.shape) == expected, f"{spec.name} on {task}: shape {tuple(out.shape)} != {expected}"
        assert out.dtype.is_floating_point
        assert torch.isfinite(out).all(), f"{spec.name} on {task}: non-finite output"
        assert torch.equal(outs[0], outs[1]), f"{spec.name} on {task}: same seed, different output"


def test_metric_contract_and_ideal_value(fb_metric):
    import torch

    spec = fb_metric.spec
    metric = build(spec, **_default_params(spec))
    for task, protocol in itertools.product(sorted(spec.tasks), sorted(spec.protocols or get_task(next(iter(spec.tasks))).protocols)):
        if protocol not in get_task(task).protocols:
            continue
        if spec.requires_reference and (protocol == "full" or get_task(task).reference is None):
            continue  # no reference exists under this protocol
        inputs, reference = synthetic_batch(task, size=64, batch=2)
        card = synthetic_card(task)
        if reference is None:
            reference_or_pred = inputs[get_task(task).output_size_from].clone()
        else:
            reference_or_pred = reference
        if protocol == "full":
            pred = inputs["lms"].clone()
            ref = None
        else:
            pred = reference_or_pred.clone()
            ref = reference if spec.requires_reference else None
        values = metric(pred, ref, inputs, card)
        assert isinstance(values, torch.Tensor) and values.shape == (2,), f"{spec.name}: expected shape (2,), got {getattr(values, 'shape', None)}"
        assert values.dtype == torch.float64, f"{spec.name}: expected float64, got {values.dtype}"
        assert torch.isfinite(values).all()
        if spec.ideal is not None and spec.requires_reference and ref is not None:
            assert torch.allclose(values, torch.full_like(values, spec.ideal), rtol=1e-6, atol=1e-9), (
                f"{spec.name}: a perfect fusion scores {values.tolist()}, declared ideal {spec.ideal}"
            )


def test_dataset_yields_the_task_fields(fb_dataset):
    spec = fb_dataset.spec
    try:
        dataset = build(spec, root=None, **_default_params(spec))
    except DatasetUnavailable as exc:
        assert str(exc), "DatasetUnavailable must say where it looked and how to get the data"
        pytest.skip(f"{spec.name} unavailable here: {exc}")
    task = get_task(spec.task)
    split = spec.splits[0]
    first = next(iter(dataset.items(split)))
    assert set(task.input_names) <= set(first.inputs), f"{spec.name}: missing fields {set(task.input_names) - set(first.inputs)}"
    for name, array in first.inputs.items():
        assert array.ndim == 3, f"{spec.name}/{first.image_id}: {name} must be (C, H, W), got {array.shape}"
    if task.reference is not None and spec.protocol != "full":
        assert first.reference is not None and first.reference.ndim == 3
    assert dataset.content_sha256(split) == dataset.content_sha256(split)


def test_sampler_builds_with_defaults(fb_sampler):
    sampler = build(fb_sampler.spec, **_default_params(fb_sampler.spec))
    assert hasattr(sampler, "sample"), f"{fb_sampler.name}: built object has no sample()"


def test_factories_resolve(fb_plugin_name):
    registry = load_registry()
    for kind in ("model", "metric", "dataset", "sampler", "executor"):
        for entry in registry.all(kind):
            if entry.plugin == fb_plugin_name:
                resolve(entry.spec.factory)
    importlib.invalidate_caches()


def test_factory_signatures_match_their_parameters(fb_plugin_name):
    """Every declared ParamSpec is accepted by its factory, and every argument the factory needs
    is declared (datasets also get ``root``)."""
    registry = load_registry()
    problems = [
        problem
        for kind in ("model", "metric", "dataset", "sampler")
        for entry in registry.all(kind)
        if entry.plugin == fb_plugin_name
        for problem in signature_problems(entry.spec, runtime_args=("root",) if kind == "dataset" else ())
    ]
    assert problems == [], "\n".join(problems)
