"""Factories and their declared parameters must agree (the conformance kit checks every plugin)."""

from __future__ import annotations

from fusionbench.lazy import signature_problems
from fusionbench.specs import ModelSpec, ParamSpec


def _model(steps: int = 10, *, scale: float = 1.0):
    return (steps, scale)


def _model_needing_path(path, steps: int = 10):
    return (path, steps)


def _spec(factory, **params):
    return ModelSpec(name="m", version="1", tasks=frozenset({"ivf"}), factory=factory, params=params)


def test_matching_signature_has_no_problems():
    assert signature_problems(_spec(_model, steps=ParamSpec(10, "int"), scale=ParamSpec(1.0, "float"))) == []


def test_declared_parameter_the_factory_does_not_take_is_named():
    problems = signature_problems(_spec(_model, steps=ParamSpec(10, "int"), stpes=ParamSpec(3, "int")))
    assert len(problems) == 1 and "'stpes' is declared" in problems[0]


def test_required_argument_nobody_declares_is_named_unless_the_core_passes_it():
    problems = signature_problems(_spec(_model_needing_path, steps=ParamSpec(10, "int")))
    assert len(problems) == 1 and "requires 'path'" in problems[0]
    assert signature_problems(_spec(_model_needing_path, steps=ParamSpec(10, "int")), runtime_args=("path",)) == []


def test_factory_taking_keyword_arguments_accepts_any_parameter():
    def loose(**kwargs):
        return kwargs

    assert signature_problems(_spec(loose, anything=ParamSpec(1, "int"))) == []
