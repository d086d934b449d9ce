"""Run keys: canonical form, equal specs <=> equal keys, round trips, every identity field counts."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fusionbench.engine.runspec import ComponentRef, RunSpec, canonical_json, image_seed
from fusionbench.specs import frozen_mapping

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, -2.0, 0.5]),  # the values whose spellings are confusable
    st.integers(-1000, 1000).map(float),  # integral floats
)
scalars = st.one_of(
    st.integers(-(2**40), 2**40),
    floats,
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
params = st.dictionaries(names, scalars, max_size=3)


@st.composite
def components(draw, kind):
    return ComponentRef(
        kind=kind,
        name=draw(names),
        params=frozen_mapping(draw(params)),
        spec_version=draw(st.sampled_from(["1", "2"])),
        dist=draw(st.sampled_from(["a", "b"])),
        dist_version=draw(st.sampled_from(["0.1", "0.2"])),
        plugin=draw(st.sampled_from(["", "p", "q"])),
    )


@st.composite
def runspecs(draw):
    return RunSpec(
        suite=draw(st.sampled_from(["reduced-res", "full-res"])),
        suite_version=draw(st.sampled_from(["1", "2"])),
        task="pansharpening",
        protocol=draw(st.sampled_from(["reduced", "full"])),
        dataset=draw(components("dataset")),
        split=draw(st.sampled_from(["test", "train"])),
        model=draw(components("model")),
        sampler=draw(st.one_of(st.none(), components("sampler"))),
        metrics=tuple(draw(st.lists(components("metric"), max_size=3))),
        seed=draw(st.integers(0, 2**31)),
        repetition=draw(st.integers(0, 3)),
        data_sha256=draw(st.sampled_from(["aa", "bb"])),
        weights_sha256=tuple(draw(st.lists(st.sampled_from(["w1", "w2"]), max_size=2))),
        card=frozen_mapping({"ratio": draw(st.sampled_from([4, 8])), "max_value": draw(floats)}),
        max_items=draw(st.one_of(st.none(), st.integers(1, 5))),
    )


# -- the canonical form --------------------------------------------------------------------------
# Python says 1 == 1.0 == True and -0.0 == 0.0; the run key (and spec equality) says:
SAME = [
    ({"x": 0.0}, {"x": -0.0}),  # one value
    ({"x": 0.5}, {"x": np.float64(0.5)}),  # numpy scalars are their Python value
    ({"x": 3}, {"x": np.int64(3)}),
    ({"x": [1, 2]}, {"x": (1, 2)}),  # sequences alike
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # key order
]
DIFFERENT = [
    ({"x": 1}, {"x": 1.0}),  # int and float are distinct types (a model may compute differently)
    ({"x": True}, {"x": 1}),  # bool is not an int
    ({"x": False}, {"x": 0.0}),
    ({"x": 2.0}, {"x": 2}),
]


def _spec(model_params=None, **changes) -> RunSpec:
    spec = RunSpec(
        suite="s",
        suite_version="1",
        task="pansharpening",
        protocol="reduced",
        dataset=ComponentRef("dataset", "d", dist="fb"),
        split="test",
        model=ComponentRef("model", "m", frozen_mapping(model_params or {}), "1", dist="fb", plugin="p"),
        sampler=None,
        metrics=(ComponentRef("metric", "q", dist="fb"),),
        seed=0,
        repetition=0,
        data_sha256="x",
    )
    return replace(spec, **changes)


@pytest.mark.parametrize("left, right", SAME)
def test_equal_in_canonical_form_means_equal_specs_and_keys(left, right):
    a, b = _spec(left), _spec(right)
    assert a == b and hash(a) == hash(b)
    assert a.run_key == b.run_key
    assert canonical_json(left) == canonical_json(right)


@pytest.mark.parametrize("left, right", DIFFERENT)
def test_python_equal_but_differently_typed_values_are_different_specs_and_keys(left, right):
    assert left == right  # for Python's dicts these are equal ...
    a, b = _spec(left), _spec(right)
    assert a != b  # ... for specs they are not, and neither are their keys
    assert a.run_key != b.run_key


# -- properties ---------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(runspecs())
def test_a_spec_equals_its_json_round_trip_and_has_the_same_key(spec):
    back = RunSpec.from_json(spec.to_json())
    assert back == spec and hash(back) == hash(spec)
    assert back.run_key == spec.run_key
    assert back.to_json() == spec.to_json()


def _changed_value(value):
    """A value that differs from ``value`` in canonical form (often only by its type)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return value + "x"
    return 0  # None


def _change_component(ref: ComponentRef, what: str, data) -> ComponentRef:
    if what == "name":
        return replace(ref, name=ref.name + "-x")
    if what == "spec_version":
        return replace(ref, spec_version=ref.spec_version + "x")
    if what == "dist":
        return replace(ref, dist=ref.dist + "x")
    if what == "plugin":
        return replace(ref, plugin=ref.plugin + "x")
    if what == "kind":
        return replace(ref, kind=ref.kind + "x")
    # params: add one, or change one value (by type alone when that is how it differs)
    if ref.params and data.draw(st.booleans(), label="retype"):
        key = data.draw(st.sampled_from(sorted(ref.params)), label="param")
        return replace(ref, params=frozen_mapping({**ref.params, key: _changed_value(ref.params[key])}))
    return replace(ref, params=frozen_mapping({**ref.params, "new_param": 1}))


COMPONENT_FIELDS = ["name", "spec_version", "dist", "plugin", "kind", "params"]
SPEC_FIELDS = [
    "suite",
    "suite_version",
    "task",
    "protocol",
    "split",
    "seed",
    "repetition",
    "data_sha256",
    "weights_sha256",
    "card",
    "max_items",
    "dataset",
    "model",
    "sampler",
    "metrics",
]


def _change(spec: RunSpec, field: str, data) -> RunSpec:
    if field in ("suite", "suite_version", "task", "protocol", "split", "data_sha256"):
        return replace(spec, **{field: getattr(spec, field) + "x"})
    if field in ("seed", "repetition"):
        return replace(spec, **{field: getattr(spec, field) + 1})
    if field == "weights_sha256":
        return replace(spec, weights_sha256=(*spec.weights_sha256, "w3"))
    if field == "card":
        key = data.draw(st.sampled_from(sorted(spec.card)), label="card key")
        return replace(spec, card=frozen_mapping({**spec.card, key: _changed_value(spec.card[key])}))
    if field == "max_items":
        return replace(spec, max_items=1 if spec.max_items is None else spec.max_items + 1)
    if field in ("dataset", "model"):
        what = data.draw(st.sampled_from(COMPONENT_FIELDS), label="component field")
        return replace(spec, **{field: _change_component(getattr(spec, field), what, data)})
    if field == "sampler":
        if spec.sampler is None:
            return replace(spec, sampler=ComponentRef("sampler", "ddim"))
        if data.draw(st.booleans(), label="drop sampler"):
            return replace(spec, sampler=None)
        what = data.draw(st.sampled_from(COMPONENT_FIELDS), label="component field")
        return replace(spec, sampler=_change_component(spec.sampler, what, data))
    assert field == "metrics"
    if not spec.metrics or data.draw(st.booleans(), label="add metric"):
        return replace(spec, metrics=(*spec.metrics, ComponentRef("metric", "new-metric")))
    index = data.draw(st.integers(0, len(spec.metrics) - 1), label="metric")
    what = data.draw(st.sampled_from(COMPONENT_FIELDS), label="component field")
    metrics = list(spec.metrics)
    metrics[index] = _change_component(metrics[index], what, data)
    return replace(spec, metrics=tuple(metrics))


@settings(max_examples=300, deadline=None)
@given(runspecs(), st.sampled_from(SPEC_FIELDS), st.data())
def test_changing_any_one_identity_field_changes_the_key(spec, field, data):
    changed = _change(spec, field, data)
    event(field)
    assert changed != spec
    assert changed.run_key != spec.run_key


@settings(max_examples=60, deadline=None)
@given(runspecs(), st.data())
def test_provenance_and_metric_order_do_not_change_the_key(spec, data):
    bumped = replace(spec, model=replace(spec.model, dist_version=spec.model.dist_version + "9"))
    assert bumped.run_key == spec.run_key
    assert bumped != spec  # provenance differs, so the specs do
    shuffled = data.draw(st.permutations(spec.metrics))
    reordered = replace(spec, metrics=tuple(shuffled))
    assert reordered.run_key == spec.run_key and reordered == spec


# Pairs of values that are equal for Python, equal in canonical form, or neither.
def _variant(value, how):
    """(variant of ``value``, whether it is the same value in canonical form)."""
    if how == "numpy" and isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**53:
        return (np.float64(value) if isinstance(value, float) else np.int64(value)), True
    if how == "negative-zero" and isinstance(value, float) and value == 0.0:
        return math.copysign(0.0, -math.copysign(1.0, value)), True
    if how == "int-float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value), False  # 1 -> 1.0: equal for Python, not for the key
    if how == "float-int" and isinstance(value, float) and value.is_integer():
        return int(value), False
    if how == "bool-int" and isinstance(value, bool):
        return int(value), False  # True -> 1
    if how == "other":
        return _changed_value(value), False
    return value, True


@st.composite
def spec_pairs(draw):
    """Two specs with the same provenance that differ at most in one parameter value, by a
    variant that is equal in canonical form (numpy scalar, -0.0) or only for Python (1 / 1.0 /
    True), or not at all; the strategy leans on the confusable values so every kind occurs."""
    spec = draw(runspecs())
    confusable = st.one_of(st.sampled_from([0, 1, 2, 0.0, -0.0, 1.0, 2.0, True, False]), scalars)
    value = draw(confusable)
    how = draw(st.sampled_from(["same", "numpy", "negative-zero", "int-float", "float-int", "bool-int", "other"]))
    other, same = _variant(value, how)
    a = replace(spec, model=replace(spec.model, params=frozen_mapping({**spec.model.params, "v": value})))
    b = replace(spec, model=replace(spec.model, params=frozen_mapping({**spec.model.params, "v": other})))
    if draw(st.booleans()):  # the same parameters, inserted in another order
        b = replace(b, model=replace(b.model, params=frozen_mapping(dict(reversed(list(b.model.params.items()))))))
    return a, b, same, value == other


@settings(max_examples=400, deadline=None)
@given(spec_pairs())
def test_equal_specs_iff_equal_keys(pair):
    a, b, same, python_equal = pair
    event(f"canonically {'equal' if same else 'different'}; Python {'equal' if python_equal else 'different'}")
    assert (a == b) == (a.run_key == b.run_key)
    assert (a == b) == same
    if a == b:
        assert hash(a) == hash(b)


def test_the_providing_distribution_and_plugin_are_identity():
    """Two plugins registering the same name and version are different components."""
    spec = _spec()
    assert replace(spec, model=replace(spec.model, dist="other-dist")).run_key != spec.run_key
    assert replace(spec, model=replace(spec.model, plugin="other-plugin")).run_key != spec.run_key
    assert replace(spec, model=replace(spec.model, dist_version="9.9")).run_key == spec.run_key


def test_image_seeds_do_not_depend_on_the_providing_distribution():
    """The key changed with the provider, the numbers must not: per-image seeds use only the
    component's configuration."""
    spec = _spec({"sigma": 0.1})
    moved = replace(spec, model=replace(spec.model, dist="elsewhere", plugin="other"))
    assert image_seed(moved, "img0") == image_seed(spec, "img0")


def test_canonical_json_is_order_independent_and_exact():
    assert canonical_json({"b": 1, "a": [1.1, 2]}) == canonical_json({"a": (1.1, 2), "b": 1})
    assert canonical_json({"x": 0.1 + 0.2}) != canonical_json({"x": 0.3})
    assert canonical_json({"x": -0.0}) == canonical_json({"x": 0.0})
    assert canonical_json({"x": 1}) != canonical_json({"x": 1.0}) != canonical_json({"x": True})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_cannot_enter_a_key(bad):
    with pytest.raises(ValueError, match="non-finite"):
        canonical_json({"sigma": bad})


def test_unserialisable_values_are_rejected():
    with pytest.raises(TypeError, match="cannot be part of a run key"):
        canonical_json({"f": object()})


@given(runspecs(), st.text(min_size=1, max_size=8))
def test_image_seeds_are_32_bit_and_stable(spec, a):
    sa = image_seed(spec, a)
    assert 0 <= sa < 2**32
    assert image_seed(spec, a) == sa  # stable across calls (and so across batching and resume)


def test_image_seeds_differ_between_images_and_seeds():
    spec = RunSpec(
        suite="s",
        suite_version="1",
        task="pansharpening",
        protocol="reduced",
        dataset=ComponentRef("dataset", "d"),
        split="test",
        model=ComponentRef("model", "m"),
        sampler=None,
        metrics=(),
        seed=0,
        repetition=0,
        data_sha256="x",
    )
    seeds = {image_seed(spec, f"img{i}") for i in range(100)}
    assert len(seeds) == 100
    assert image_seed(replace(spec, seed=1), "img0") != image_seed(spec, "img0")


def test_frozen_mappings_are_read_only_picklable_and_hashable():
    import pickle

    from fusionbench.specs import DataCard

    card = DataCard(sensor="WV3", extra=frozen_mapping({"rgb_bands": [4, 2, 1]}))
    assert pickle.loads(pickle.dumps(card)) == card
    hash(card)
    with pytest.raises(TypeError, match="read-only"):
        card.extra["rgb_bands"] = [0, 1, 2]
    # equal mappings hash alike (Python's == says these are equal)
    assert hash(frozen_mapping({"a": 1})) == hash(frozen_mapping({"a": 1.0}))


def test_specs_pickle_and_keep_their_key():
    import pickle

    spec = _spec({"sigma": 0.25})
    back = pickle.loads(pickle.dumps(spec))
    assert back == spec and back.run_key == spec.run_key
