"""Plugin discovery through real pip-installed entry points, with isolation and conflicts."""

from __future__ import annotations

import pytest

from fusionbench import ModelSpec, hookimpl
from fusionbench.errors import ComponentConflictError, UnknownComponentError
from fusionbench.registry import load_registry


def test_first_party_plugins_load_through_entry_points():
    registry = load_registry()
    states = {s.name: s for s in registry.statuses}
    assert states["core"].state == "ok"
    assert states["core"].dist == "fusionbench"
    assert {"inline", "local"} <= set(registry.names("executor"))
    assert "reduced-res" in registry.names("suite")
    assert states["classical"].dist == "fusionbench-classical"
    assert "exp" in registry.names("model")


def test_broken_plugins_are_listed_with_their_error_and_others_keep_working(with_fixture_plugins):
    registry = load_registry()
    states = {s.name: s for s in registry.statuses}
    assert states["fixture-broken-import"].state == "broken"
    assert "fusionbench_this_module_does_not_exist" in states["fixture-broken-import"].error
    assert states["fixture-raising"].state == "broken"
    assert "exploded while registering" in states["fixture-raising"].short_error
    assert states["fixture-good"].state == "ok"
    assert states["fixture-good"].dist == "fb-fixture-plugins"
    assert "fixture-scenes" in registry.names("dataset")
    assert "exp" in registry.names("model")  # first-party plugins unaffected


def test_name_conflicts_are_reported_with_both_sources(with_fixture_plugins):
    registry = load_registry()
    conflicts = [c for c in registry.conflicts if c.name == "fixture-lms"]
    assert len(conflicts) == 1
    message = conflicts[0].message()
    assert "fixture-conflict" in message and "fixture-good" in message
    with pytest.raises(ComponentConflictError, match="fixture-lms"):
        registry.require_no_conflicts()
    # either side can be picked explicitly
    assert registry.get("model", "fixture-good:fixture-lms").spec.version == "1"
    assert registry.get("model", "fixture-conflict:fixture-lms").spec.version == "9"


def test_disable_plugins_environment_variable(with_fixture_plugins, monkeypatch):
    monkeypatch.setenv("FUSIONBENCH_DISABLE_PLUGINS", "fixture-conflict, fixture-raising")
    registry = load_registry()
    states = {s.name: s.state for s in registry.statuses}
    assert states["fixture-conflict"] == "disabled"
    assert states["fixture-raising"] == "disabled"
    assert not registry.conflicts
    assert registry.get("model", "fixture-lms").plugin == "fixture-good"


def test_only_plugins_environment_variable(with_fixture_plugins, monkeypatch):
    monkeypatch.setenv("FUSIONBENCH_PLUGINS", "core,fixture-good")
    registry = load_registry()
    assert {s.name for s in registry.statuses if s.state == "ok"} == {"core", "fixture-good"}
    assert "exp" not in registry.names("model")


class _InvalidPlugin:
    @hookimpl
    def fusionbench_register_models(self):
        return [ModelSpec(name="Bad Name", version="1", tasks=frozenset({"pansharpening"}), factory="x:y")]


class _UnknownTaskPlugin:
    @hookimpl
    def fusionbench_register_models(self):
        return [ModelSpec(name="weird", version="1", tasks=frozenset({"denoising"}), factory="x:y")]


class _NotASpecPlugin:
    @hookimpl
    def fusionbench_register_metrics(self):
        return [{"name": "dict-is-not-a-spec"}]


@pytest.mark.parametrize(
    "plugin, message",
    [
        (_InvalidPlugin(), "invalid model name 'Bad Name'"),
        (_UnknownTaskPlugin(), "unknown task(s) ['denoising']"),
        (_NotASpecPlugin(), "returned dict, expected MetricSpec"),
    ],
)
def test_invalid_registrations_break_only_their_plugin(plugin, message):
    registry = load_registry(use_entry_points=False, extra_plugins=[("odd", plugin)])
    status = registry.status("odd")
    assert status.state == "broken"
    assert message in status.error
    assert registry.names("model") == []


def test_unknown_component_suggests_close_names():
    registry = load_registry()
    with pytest.raises(UnknownComponentError, match="did you mean 'brovey'"):
        registry.get("model", "brovy")
