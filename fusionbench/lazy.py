"""Resolve lazy factories: ``"package.module:attr"`` strings are imported only when needed."""

from __future__ import annotations

import importlib
from typing import Any, Callable

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
