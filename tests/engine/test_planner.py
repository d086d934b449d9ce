"""Suite expansion: compatible pairs become runs, incompatible ones are skipped with a reason."""

from __future__ import annotations

import pytest

from fusionbench import hookimpl
from fusionbench.engine.planner import Selection, plan_suite, resolve_params
from fusionbench.errors import PlanError
from fusionbench.registry import load_registry
from fusionbench.specs import ParamSpec, Requirements


def test_suite_expands_to_runs_and_explains_skips(good_fixture_only):
    plan = plan_suite(load_registry(), "fixture-suite")
    assert sorted(r.model.name for r in plan.runs) == ["fixture-lms", "fixture-noisy"]
    assert all(r.dataset.name == "fixture-scenes" for r in plan.runs)
    assert all(r.data_sha256 for r in plan.runs)
    reasons = {(s.model, s.dataset): s.reason for s in plan.skipped}
    assert "does not do pansharpening" in reasons[("fixture-ivf-only", "fixture-scenes")]
    assert "looked in /nonexistent/fixture" in reasons[("fixture-lms", "fixture-missing")]


def test_resolved_params_enter_the_run_and_its_key(good_fixture_only):
    registry = load_registry()
    default = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy")])
    explicit = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy[sigma=0.1]")])
    other = plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy[sigma=0.2]")])
    assert dict(default.runs[0].model.params) == {"sigma": 0.1}
    assert default.runs[0].run_key == explicit.runs[0].run_key
    assert other.runs[0].run_key != default.runs[0].run_key


def test_seeds_multiply_runs_and_dataset_params_are_recorded(good_fixture_only):
    plan = plan_suite(
        load_registry(), "fixture-suite", seeds=[0, 1, 2], datasets=[Selection.parse("fixture-scenes[n=2]")]
    )
    assert len(plan.runs) == 2 * 3
    assert {r.seed for r in plan.runs} == {0, 1, 2}
    assert all(dict(r.dataset.params) == {"n": 2} for r in plan.runs)


def test_models_outside_the_suite_can_be_selected_by_pattern(good_fixture_only):
    plan = plan_suite(load_registry(), "fixture-suite", models=[Selection.parse("fixture-n*")])
    assert {r.model.name for r in plan.runs} == {"fixture-nan", "fixture-noisy"}


def test_bad_selections_fail_clearly(good_fixture_only):
    registry = load_registry()
    with pytest.raises(PlanError, match="has no parameter"):
        plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-noisy[temperature=3]")])
    with pytest.raises(PlanError, match="no suite named 'fixture-suit'"):
        plan_suite(registry, "fixture-suit")
    with pytest.raises(PlanError, match="'abc'"):
        resolve_params("model", "m", {"sigma": ParamSpec(0.1, "float")}, {"sigma": "abc"})


def test_selection_parsing():
    selection = Selection.parse("ddif[steps=25,preset=tiny]")
    assert selection.pattern == "ddif" and dict(selection.params) == {"steps": "25", "preset": "tiny"}
    assert Selection.parse("synthetic-*").matches("synthetic-wv3-rr")
    with pytest.raises(PlanError):
        Selection.parse("ddif[steps]")


def test_third_party_models_join_default_suites(good_fixture_only):
    """reduced-res selects every pansharpening/reduced dataset and every compatible model."""
    plan = plan_suite(load_registry(), "reduced-res", datasets=[Selection.parse("fixture-scenes")])
    models = {r.model.name for r in plan.runs}
    assert {"fixture-lms", "fixture-noisy", "exp", "brovey"} <= models


def test_sampler_selection_sweeps_diffusion_models_and_leaves_the_others_alone():
    """``-s`` replaces a diffusion model's sampler (one run per choice); missing parameters come
    from the model's default when the choice names its default sampler; a typo fails the plan."""
    registry = load_registry(disabled=["mlflow"])
    samplers = [Selection.parse("ddim[eta=0.5]"), Selection.parse("dpmpp-2m[steps=10]")]
    plan = plan_suite(
        registry,
        "reduced-res",
        models=[Selection.parse("ddif"), Selection.parse("exp")],
        datasets=[Selection.parse("synthetic-wv3-rr")],
        samplers=samplers,
    )
    by_sampler = {(r.model.name, r.sampler.name if r.sampler else None): r for r in plan.runs}
    assert set(by_sampler) == {("ddif", "ddim"), ("ddif", "dpmpp-2m"), ("exp", None)}
    assert dict(by_sampler["ddif", "ddim"].sampler.params)["steps"] == 25  # DDIF's default, kept
    assert dict(by_sampler["ddif", "ddim"].sampler.params)["eta"] == 0.5
    assert dict(by_sampler["ddif", "dpmpp-2m"].sampler.params)["steps"] == 10
    assert len({r.run_key for r in plan.runs}) == 3
    with pytest.raises(PlanError, match="has no parameter"):
        plan_suite(
            registry, "reduced-res", models=[Selection.parse("ddif")], samplers=[Selection.parse("ddim[stepz=3]")]
        )
    with pytest.raises(Exception, match="ddimm"):
        plan_suite(registry, "reduced-res", models=[Selection.parse("ddif")], samplers=[Selection.parse("ddimm")])


def test_a_checkpoint_parameter_keys_runs_by_its_content(tmp_path):
    """Retraining into the same folder must not let a rerun skip as 'done': a ``path`` parameter
    that exists at plan time puts its content hash into the run key and the provenance."""
    registry = load_registry(disabled=["mlflow"])
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "ema.safetensors").write_bytes(b"first")

    def key() -> tuple[str, tuple[str, ...]]:
        plan = plan_suite(
            registry,
            "reduced-res",
            models=[Selection.parse(f"ddif[checkpoint={checkpoint}]")],
            datasets=[Selection.parse("synthetic-wv3-rr")],
        )
        return plan.runs[0].run_key, plan.runs[0].weights_sha256

    first, hashes = key()
    assert len(hashes) == 1 and hashes[0].startswith("checkpoint:")
    assert key()[0] == first
    (checkpoint / "ema.safetensors").write_bytes(b"second")
    second = key()[0]
    assert second != first
    (checkpoint / ".lock").write_bytes(b"")  # hidden bookkeeping files do not count
    assert key()[0] == second


# -- skip reasons: data limits, protocols and the machine ----------------------------------------
def _model(name, **kwargs):
    from fusionbench import ModelSpec

    return ModelSpec(
        name=name, version="1", tasks=frozenset({"pansharpening"}), factory="fb_fixture.components:LmsModel", **kwargs
    )


class _Demanding:
    """Models that each refuse the fixture data (4 bands, ratio 4, reduced protocol) or the machine
    for one reason."""

    @hookimpl
    def fusionbench_register_models(self):
        return [
            _model("needs-8-bands", requires=Requirements(bands=frozenset({8}))),
            _model("needs-ratio-2", requires=Requirements(ratios=frozenset({2, 3}))),
            _model("full-res-only", protocols=frozenset({"full"})),
            _model("gpu-only", requires=Requirements(cpu_ok=False)),
            _model("big-gpu", requires=Requirements(min_gpu_mem_gb=40)),
            _model("big-gpu-only", requires=Requirements(cpu_ok=False, min_gpu_mem_gb=40)),
        ]


def _demanding_registry():
    return load_registry(disabled=["mlflow"], extra_plugins=[("demanding", _Demanding())])


def _reasons(plan):
    return {s.model: s.reason for s in plan.skipped if s.dataset == "fixture-scenes"}


DEMANDING = [
    Selection.parse(m)
    for m in ("needs-8-bands", "needs-ratio-2", "full-res-only", "gpu-only", "big-gpu", "big-gpu-only")
]


def test_band_ratio_and_protocol_limits_are_skip_reasons(good_fixture_only):
    from fusionbench.engine.devices import Machine

    plan = plan_suite(_demanding_registry(), "fixture-suite", models=DEMANDING, machine=Machine((80.0,)))
    reasons = _reasons(plan)
    assert reasons["needs-8-bands"] == "model 'needs-8-bands' accepts [8] bands, dataset has 4"
    assert reasons["needs-ratio-2"] == "model 'needs-ratio-2' accepts ratios [2, 3], dataset has 4"
    assert reasons["full-res-only"] == "model 'full-res-only' does not support the reduced protocol"
    # a machine with a large GPU runs the demanding ones
    assert {r.model.name for r in plan.runs} == {"gpu-only", "big-gpu", "big-gpu-only"}


def test_gpu_requirements_are_checked_against_the_machine(good_fixture_only):
    from fusionbench.engine.devices import Machine

    registry = _demanding_registry()
    cpu_only = _reasons(plan_suite(registry, "fixture-suite", models=DEMANDING, machine=Machine(())))
    assert cpu_only["gpu-only"] == "model 'gpu-only' needs a GPU (cpu_ok=False) and none is available here"
    assert "needs a GPU" in cpu_only["big-gpu-only"]
    assert "big-gpu" not in cpu_only  # cpu_ok: without a GPU it runs on the CPU

    small = plan_suite(registry, "fixture-suite", models=DEMANDING, machine=Machine((24.0, 16.0)))
    reasons = _reasons(small)
    assert (
        reasons["big-gpu"]
        == "model 'big-gpu' needs a GPU with at least 40 GB of memory; the largest available has 24.0 GB"
    )
    assert "at least 40 GB" in reasons["big-gpu-only"]
    assert "gpu-only" in {r.model.name for r in small.runs}

    unknown = plan_suite(registry, "fixture-suite", models=DEMANDING, machine=Machine.unknown())
    assert {"gpu-only", "big-gpu", "big-gpu-only"} <= {r.model.name for r in unknown.runs}


def test_this_machine_is_detected_only_when_a_model_has_a_device_requirement(good_fixture_only, monkeypatch):
    import torch

    from fusionbench.engine.devices import Machine

    calls = []
    real = Machine.detect

    def counting(devices=None):
        calls.append(devices)
        return real(devices)

    monkeypatch.setattr(Machine, "detect", counting)
    registry = _demanding_registry()
    plan_suite(registry, "fixture-suite", models=[Selection.parse("fixture-lms")])
    assert calls == []
    plan = plan_suite(registry, "fixture-suite", models=DEMANDING)
    assert len(calls) == 1
    if not torch.cuda.is_available():
        assert "gpu-only" in _reasons(plan)


def test_cuda_visible_devices_without_cuda_is_a_cpu_only_machine(monkeypatch):
    import torch

    from fusionbench.engine.devices import Machine

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Machine.detect() == Machine(())
