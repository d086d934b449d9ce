"""One plugin with an invalid spec is broken, with the reason; every other plugin keeps working."""

from __future__ import annotations

import pytest

from fusionbench import hookimpl
from fusionbench.registry import load_registry
from fusionbench.specs import (
    ComponentChoice,
    DataCard,
    DatasetSpec,
    MetricSpec,
    ModelSpec,
    ParamSpec,
    SuiteEntry,
    SuiteSpec,
)

from .conftest import fb, install_plugin

PAN = frozenset({"pansharpening"})


def _model(**fields):
    return ModelSpec(**{"name": "odd-model", "version": "1", "tasks": PAN, "factory": "x:y", **fields})


class _Registers:
    """A plugin registering ``specs`` through the hook of their kind."""

    def __init__(self, hook: str, *specs):
        self.specs = list(specs)
        setattr(self, hook, hookimpl(specname=hook)(lambda: self.specs))


BAD_SPECS = [
    (_model(params={"mode": 5}), "params['mode'] is int 5, expected a ParamSpec"),
    (_model(params={"mode": ParamSpec("abc", "int")}), "default 'abc' is not a valid int"),
    (_model(params={"mode": ParamSpec("x", "str", choices=("a", "b"))}), "default 'x' is not a valid str"),
    (_model(params={"mode": ParamSpec(1, "integer")}), "unknown type 'integer'"),
    (_model(requires=None), "requires is None, expected a Requirements"),
    (_model(weights=["w.pt"]), "is not a tuple of WeightsRef"),
    (_model(tasks="pansharpening"), "is not a set of task names"),
    (_model(factory=42), "factory 42 is neither callable"),
    (
        MetricSpec("odd-metric", "1", PAN, "x:y", requires_reference=None, higher_is_better=True),
        "requires_reference None",
    ),
    (DatasetSpec("odd-data", "1", "pansharpening", "reduced", "x:y", card=None), "card is None, expected a DataCard"),
    (DatasetSpec("odd-data", "1", "pansharpening", "reduced", "x:y", splits=()), "splits () is not a non-empty tuple"),
    (
        SuiteSpec("odd-suite", "1", entries=(SuiteEntry("pansharpening", "reduced", seeds=("0",)),)),
        "seeds ('0',) are not integers",
    ),
    (
        SuiteSpec("odd-suite", "1", entries=(SuiteEntry("pansharpening", "reduced", metrics=("q2n",)),)),
        "metrics must be ComponentChoices",
    ),
    (SuiteSpec("odd-suite", "1", entries=(SuiteEntry("denoise", "reduced"),)), "unknown task 'denoise'"),
]
HOOKS = {
    "model": "fusionbench_register_models",
    "metric": "fusionbench_register_metrics",
    "dataset": "fusionbench_register_datasets",
    "suite": "fusionbench_register_suites",
}


@pytest.mark.parametrize("spec, message", BAD_SPECS, ids=[m for _, m in BAD_SPECS])
def test_an_invalid_spec_breaks_only_its_plugin(spec, message):
    good = _Registers(HOOKS["model"], _model(name="fine-model"))
    odd = _Registers(HOOKS[spec.kind], spec)
    registry = load_registry(use_entry_points=False, extra_plugins=[("odd", odd), ("good", good)])
    status = registry.status("odd")
    assert status.state == "broken"
    assert message in status.short_error
    assert registry.names(spec.kind) == (["fine-model"] if spec.kind == "model" else [])
    assert registry.status("good").state == "ok"


def test_valid_specs_of_every_first_party_plugin_still_load():
    registry = load_registry()
    assert not registry.broken, [(s.name, s.short_error) for s in registry.broken]


def test_a_suite_with_choices_and_a_none_default_is_valid():
    spec = SuiteSpec(
        "fine-suite", "1", entries=(SuiteEntry("pansharpening", "reduced", metrics=(ComponentChoice("q2n"),)),)
    )
    model = _model(name="fine", params={"ckpt": ParamSpec(None, "path")})
    dataset = DatasetSpec("fine-data", "1", "pansharpening", "reduced", "x:y", card=DataCard())
    plugins = [
        ("s", _Registers(HOOKS["suite"], spec)),
        ("m", _Registers(HOOKS["model"], model)),
        ("d", _Registers(HOOKS["dataset"], dataset)),
    ]
    registry = load_registry(use_entry_points=False, extra_plugins=plugins)
    assert not registry.broken


BAD_PLUGIN = """
from fusionbench import ModelSpec, ParamSpec, hookimpl

@hookimpl
def fusionbench_register_models():
    return [ModelSpec(name="bad-params", version="1", tasks=frozenset({"pansharpening"}), factory="x:y",
                      params={"mode": 5}, requires=None)]
"""


def test_an_installed_plugin_with_a_bad_spec_does_not_stop_a_suite(plugin_dir, tmp_path):
    """No ``-m``: every model is planned, the bad one included unless the registry refused it."""
    install_plugin(plugin_dir, "bad-spec", BAD_PLUGIN)
    result = fb("run", "--suite", "reduced-res", "-d", "synthetic-wv3-rr", "--plan", "--no-mlflow", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "broken plugin: bad-spec" in result.stdout and "expected a ParamSpec" in result.stdout
    assert "exp" in result.stdout and "pending" in result.stdout
