"""pytest plugin (entry point ``pytest11``): the ``--fusionbench-plugin`` option and fixtures."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fusionbench")
    group.addoption(
        "--fusionbench-plugin",
        action="append",
        default=[],
        help="run fusionbench conformance tests (fusionbench.testing.conformance) for this plugin; repeatable",
    )


def _selected(config: pytest.Config) -> list[str]:
    return [name for value in config.getoption("--fusionbench-plugin") or [] for name in value.split(",") if name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the conformance tests over the selected plugins' components."""
    wanted = {
        "fb_model": "model",
        "fb_metric": "metric",
        "fb_dataset": "dataset",
        "fb_sampler": "sampler",
        "fb_plugin_name": None,
    }
    for fixture, kind in wanted.items():
        if fixture not in metafunc.fixturenames:
            continue
        from fusionbench.registry import load_registry

        plugins = _selected(metafunc.config)
        registry = load_registry()
        if kind is None:
            metafunc.parametrize(
                fixture, plugins or [pytest.param(None, marks=pytest.mark.skip(reason="no --fusionbench-plugin given"))]
            )
            continue
        from .checks import components_of

        entries = [e for plugin in plugins for e in components_of(registry, plugin, kind)]
        params = [pytest.param(e, id=f"{e.plugin}:{e.name}") for e in entries]
        if not params:
            params = [pytest.param(None, marks=pytest.mark.skip(reason=f"the selected plugins register no {kind}"))]
        metafunc.parametrize(fixture, params)
