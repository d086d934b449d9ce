"""The conformance tests for pytest (``pytest --pyargs fusionbench.testing.conformance
--fusionbench-plugin=NAME``): thin wrappers over the plain checks of :mod:`.checks`, which
``fusionbench plugins check`` runs without pytest."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from . import checks


@functools.cache
def _registry() -> Any:
    from fusionbench.registry import load_registry

    return load_registry()


@contextmanager
def _skips_as_pytest() -> Iterator[None]:
    try:
        yield
    except checks.CheckSkipped as exc:
        pytest.skip(str(exc))


def test_plugin_loads_cleanly(fb_plugin_name):
    checks.plugin_loads_cleanly(_registry(), fb_plugin_name)


def test_hook_module_does_not_import_torch(fb_plugin_name):
    checks.hook_module_does_not_import_torch(_registry(), fb_plugin_name)


def test_model_output_contract_and_determinism(fb_model, tmp_path):
    with _skips_as_pytest():
        checks.model_output_contract_and_determinism(_registry(), fb_model, tmp_path)


def test_metric_contract_and_ideal_value(fb_metric, tmp_path):
    checks.metric_contract_and_ideal_value(_registry(), fb_metric, tmp_path)


def test_dataset_yields_the_task_fields(fb_dataset, tmp_path):
    with _skips_as_pytest():
        checks.dataset_yields_the_task_fields(_registry(), fb_dataset, tmp_path)


def test_sampler_builds_with_defaults(fb_sampler, tmp_path):
    checks.sampler_builds_with_defaults(_registry(), fb_sampler, tmp_path)


def test_factories_resolve(fb_plugin_name):
    checks.factories_resolve(_registry(), fb_plugin_name)


def test_factory_signatures_match_their_parameters(fb_plugin_name):
    checks.factory_signatures_match_their_parameters(_registry(), fb_plugin_name)
