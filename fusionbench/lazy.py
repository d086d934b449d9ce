"""Resolve lazy factories: ``"package.module:attr"`` strings are imported only when needed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import PluginError


def resolve(factory: str | Callable[..., Any]) -> Callable[..., Any]:
    """Return the callable behind a factory, importing its module on first use."""
    if callable(factory):
        return factory
    if not isinstance(factory, str) or ":" not in factory:
        raise PluginError(f"factory {factory!r} is neither callable nor a 'module:attr' string")
    module_name, _, attr_path = factory.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - report any import failure with its cause
        raise PluginError(f"cannot import {module_name!r} for factory {factory!r}: {exc}") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"factory {factory!r}: {module_name} has no attribute {attr_path!r}") from None
    if not callable(obj):
        raise PluginError(f"factory {factory!r} resolved to a non-callable {type(obj).__name__}")
    return obj


def build(spec: Any, /, **kwargs: Any) -> Any:
    """Call a spec's factory with keyword arguments."""
    return resolve(spec.factory)(**kwargs)


def signature_problems(spec: Any, runtime_args: tuple[str, ...] = ()) -> list[str]:
    """Where a spec's factory and its declared ``params`` disagree, as sentences (empty: none).

    Why: the planner passes every declared parameter by keyword, so a ``ParamSpec`` the factory
    does not accept fails every run, and a factory argument without a default that no
    ``ParamSpec`` declares can never be given. ``runtime_args`` are what the core passes besides
    the parameters (a dataset factory gets ``root``).
    """
    import inspect

    factory = resolve(spec.factory)
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: nothing to compare
        return []
    parameters = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    by_keyword = {
        name
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    problems = []
    for name in spec.params:
        if name not in by_keyword and not takes_any:
            problems.append(
                f"{spec.kind} {spec.name!r}: parameter {name!r} is declared but {spec.factory!r} does not accept it"
            )
    for name, p in parameters.items():
        required = p.default is inspect.Parameter.empty and p.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        if required and name not in spec.params and name not in runtime_args:
            problems.append(
                f"{spec.kind} {spec.name!r}: {spec.factory!r} requires {name!r}, which no ParamSpec declares"
            )
    return problems
