"""Hypothesis properties: perfect fusions score the ideal value, SAM/ERGAS invariances
and scaling, and clear errors for invalid inputs naming the metric and the input: NaN/inf at random
positions, random mismatched shapes, random wrong band counts and empty images, on pred, ref and
every input a metric reads."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fusionbench.components.metrics import metric_specs
from fusionbench.errors import MetricInputError
from fusionbench.lazy import resolve
from fusionbench.metrics.ivf import SourceMetric
from fusionbench.metrics.pansharpening import ERGAS, SAM
from fusionbench.specs import DataCard

SPECS = {s.name: s for s in metric_specs()}
PS_CARD = DataCard(sensor="WV3", ratio=4, bands=4, max_value=2047.0, mtf_gnyq=(0.3,) * 4)
IVF_CARD = DataCard(max_value=255.0)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example]
)


def build(name: str, **params):  # type: ignore[no-untyped-def]
    spec = SPECS[name]
    kw = {k: p.default for k, p in spec.params.items()}
    kw.update(params)
    return resolve(spec.factory)(**kw)


dn_images = arrays(np.float64, (2, 4, 32, 32), elements=st.floats(1, 2047, allow_nan=False))
grey = arrays(np.float64, (1, 1, 48, 48), elements=st.integers(0, 255).map(float))


# -- ideal values ---------------------------------------------------------------------------------
RR_NAMES = [n for n, s in SPECS.items() if s.protocols == frozenset({"reduced"})]


@SETTINGS
@given(img=dn_images)
@pytest.mark.parametrize("name", RR_NAMES)
def test_perfect_reduced_resolution_fusion_scores_ideal(name: str, img: np.ndarray) -> None:
    t = torch.from_numpy(img)
    got = build(name)(t, t, {}, PS_CARD)
    spec = SPECS[name]
    if spec.ideal is None:  # PSNR: unbounded
        assert torch.isinf(got).all() and (got > 0).all()
    else:
        torch.testing.assert_close(got, torch.full((2,), spec.ideal, dtype=torch.float64), atol=1e-6, rtol=0)


@SETTINGS
@given(img=dn_images)
def test_full_resolution_ideal_where_reachable(img: np.ndarray) -> None:
    # a texture keeps every block non-constant (constant blocks give NaN, like MATLAB: tested elsewhere)
    texture = torch.arange(32.0)[:, None] * torch.arange(1, 5.0)[:, None, None] + torch.arange(32.0)
    t = torch.from_numpy(img) + texture  # pred == lms: no spectral distortion by construction
    pan = t.mean(1, keepdim=True)
    inputs = {"lms": t, "pan": pan, "ms": t[..., ::4, ::4]}
    assert torch.allclose(build("d-lambda")(t, None, inputs, PS_CARD), torch.zeros(2, dtype=torch.float64))
    for name in ("d-lambda", "d-s", "qnr", "d-lambda-k", "hqnr"):
        v = build(name)(t, None, inputs, PS_CARD)
        assert v.shape == (2,) and torch.isfinite(v).all()
        if SPECS[name].higher_is_better:
            assert (v <= 1 + 1e-12).all()
        else:
            assert (v >= -1e-12).all()


@settings(SETTINGS, max_examples=8)
@given(img=grey)
def test_nabf_ideal_and_fusion_metrics_finite(img: np.ndarray) -> None:
    t = torch.from_numpy(img)
    same = {"ir": t, "vi": t}
    for name, spec in SPECS.items():  # F == A == B: the metrics with an ideal value reach it
        if "ivf" in spec.tasks and spec.ideal is not None:
            assert build(name)(t, None, same, IVF_CARD).item() == pytest.approx(spec.ideal, abs=1e-12), name
    # two different sources (the random image plus crossing ramps, so no correlation is 0/0) and
    # their rounded mean: every metric is defined and finite under both profiles
    ramp = torch.linspace(0.0, 100.0, 48, dtype=torch.float64)
    ir = 0.5 * t + ramp
    vi = 0.5 * torch.flip(t, dims=(-1,)) + ramp[:, None]
    fused = torch.round((ir + vi) / 2)
    for name, spec in SPECS.items():
        if "ivf" in spec.tasks:
            for profile in resolve(spec.factory).profiles:  # VIFB-only metrics refuse cddfuse
                v = build(name, profile=profile)(fused, None, {"ir": ir, "vi": vi}, IVF_CARD)
                assert v.shape == (1,) and v.dtype == torch.float64, name
                assert torch.isfinite(v).all(), (name, profile, v)


# -- invariances --------------------------------------------------------------------------------
@SETTINGS
@given(img=dn_images, scale=arrays(np.float64, (2, 1, 32, 32), elements=st.floats(0.01, 100)))
def test_sam_invariant_to_per_pixel_scaling(img: np.ndarray, scale: np.ndarray) -> None:
    ref = torch.from_numpy(img)
    pred = torch.from_numpy(img[::-1].copy())
    base = SAM()(pred, ref, {}, PS_CARD)
    scaled = SAM()(pred * torch.from_numpy(scale), ref, {}, PS_CARD)
    # acos is ill-conditioned at 1: near-parallel spectra carry ~sqrt(2 eps) rad = 1e-6 degree noise
    torch.testing.assert_close(scaled, base, rtol=1e-7, atol=1e-5)


@SETTINGS
@given(img=dn_images, noise=arrays(np.float64, (2, 4, 32, 32), elements=st.floats(-50, 50)), c=st.floats(0.01, 100))
def test_ergas_scaling(img: np.ndarray, noise: np.ndarray, c: float) -> None:
    ref = torch.from_numpy(img)
    pred = ref + torch.from_numpy(noise)
    e4 = ERGAS()(pred, ref, {}, PS_CARD)
    # invariant to a common positive scale of both images
    torch.testing.assert_close(ERGAS()(c * pred, c * ref, {}, PS_CARD), e4, rtol=1e-9, atol=0)
    # proportional to 1/ratio: (100/ratio) sqrt(...)
    torch.testing.assert_close(ERGAS(ratio=8)(pred, ref, {}, PS_CARD), e4 / 2, rtol=1e-12, atol=0)
    # a bias of e times the band mean on every band gives RMSE_b / mu_b = e, so exactly 100 e / ratio
    biased = ref + 0.01 * ref.mean((-2, -1), keepdim=True)
    torch.testing.assert_close(
        ERGAS()(biased, ref, {}, PS_CARD), torch.full((2,), 0.25, dtype=torch.float64), rtol=1e-9, atol=0
    )


# -- input validation ----------------------------------------------------------------------------
def _valid_call(name: str, batch: int = 1):  # type: ignore[no-untyped-def]
    """(pred, ref, inputs, card) that the metric accepts."""
    spec = SPECS[name]
    if "ivf" in spec.tasks:
        t = (torch.full((1, 1, 48, 48), 100.0) + torch.arange(48.0)).repeat(batch, 1, 1, 1)
        return t, None, {"ir": t, "vi": t.flip(-1)}, IVF_CARD
    t = torch.full((1, 4, 32, 32), 500.0) + torch.arange(32.0) * torch.arange(1, 5.0)[:, None, None]
    t = t.repeat(batch, 1, 1, 1)
    if spec.requires_reference:
        return t, t + 1, {}, PS_CARD
    return t, None, {"lms": t, "pan": t.mean(1, keepdim=True), "ms": t[..., ::4, ::4]}, PS_CARD


ALL = sorted(SPECS)
IVF_NAMES = [n for n in ALL if "ivf" in SPECS[n].tasks]


def _reads(name: str) -> list[str]:
    """The tensors a metric reads, named as its error messages name them."""
    spec, cls = SPECS[name], resolve(SPECS[name].factory)
    if spec.requires_reference:
        return ["pred", "ref"]
    if "full" in spec.protocols:
        return ["pred", "input 'lms'"] + (["input 'pan'"] if cls.needs_pan else [])
    return ["pred"] + (["input 'ir'", "input 'vi'"] if issubclass(cls, SourceMetric) else [])


def _tensors(name: str, batch: int = 1) -> dict[str, torch.Tensor]:
    pred, ref, inputs, _ = _valid_call(name, batch)
    named = {"pred": pred, **({"ref": ref} if ref is not None else {})}
    return named | {f"input '{k}'": v for k, v in inputs.items()}


def _call(name: str, tensors: dict[str, torch.Tensor], **params):  # type: ignore[no-untyped-def]
    inputs = {k[len("input '") : -1]: v for k, v in tensors.items() if k.startswith("input '")}
    card = IVF_CARD if "ivf" in SPECS[name].tasks else PS_CARD
    return build(name, **params)(tensors["pred"], tensors.get("ref"), inputs, card)


def _raises(name: str, tensors: dict[str, torch.Tensor], message: str, **params) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MetricInputError) as caught:
        _call(name, tensors, **params)
    assert str(caught.value) == f"{name}: {message}"


def _shape(x: torch.Tensor) -> str:
    return str(tuple(x.shape))


VALIDATION = settings(SETTINGS, max_examples=12)
BAD_VALUES = st.sampled_from([math.nan, math.inf, -math.inf])


@VALIDATION
@given(data=st.data())
@pytest.mark.parametrize("name", ALL)
def test_rejects_non_finite_values_anywhere(name: str, data: st.DataObject) -> None:
    """NaN/inf at random positions of pred, ref or any input the metric reads: the message names
    the metric, the input, the counts and the first position in (image, band, row, col) order."""
    tensors = _tensors(name, batch=2)
    role = data.draw(st.sampled_from(_reads(name)), label="role")
    x = tensors[role].clone()
    cell = st.tuples(*(st.integers(0, n - 1) for n in x.shape))
    cells = data.draw(st.lists(cell, min_size=1, max_size=4, unique=True), label="cells")
    values = data.draw(st.lists(BAD_VALUES, min_size=len(cells), max_size=len(cells)), label="values")
    for c, v in zip(cells, values):
        x[c] = v
    nan = sum(math.isnan(v) for v in values)
    inf = len(values) - nan
    what = " and ".join(p for p in (f"NaN at {nan} values" if nan else "", f"inf at {inf} values" if inf else "") if p)
    b, c, h, w = min(cells)
    _raises(name, tensors | {role: x}, f"{role} contains {what} (first at image {b}, band {c}, row {h}, col {w})")


@VALIDATION
@given(data=st.data())
@pytest.mark.parametrize("name", ALL)
def test_rejects_empty_images(name: str, data: st.DataObject) -> None:
    """H = 0, W = 0 or C = 0 on pred, ref or any input the metric reads."""
    tensors = _tensors(name)
    role = data.draw(st.sampled_from(_reads(name)), label="role")
    dims = [data.draw(st.integers(1, 2)), *(data.draw(st.integers(1, 40)) for _ in range(3))]
    dims[data.draw(st.sampled_from([1, 2, 3]), label="empty axis")] = 0
    empty = torch.zeros(dims, dtype=torch.float64)
    _raises(name, tensors | {role: empty}, f"{role} is empty (shape {tuple(dims)})")


def _other_shape(valid: torch.Size) -> st.SearchStrategy[tuple[int, ...]]:
    near = lambda n: st.sampled_from(sorted({1, 2, 3, n - 1, n, n + 1, 2 * n} - {0}))  # noqa: E731
    return st.tuples(*(near(n) for n in valid)).filter(lambda s: s != tuple(valid))


@VALIDATION
@given(data=st.data())
@pytest.mark.parametrize("name", ALL)
def test_rejects_mismatched_shapes(name: str, data: st.DataObject) -> None:
    """A random shape, other than the accepted one, for ref or an input the metric reads."""
    tensors = _tensors(name)
    roles = [r for r in _reads(name) if r != "pred"]
    if not roles:  # EN, SD, SF, AG read pred only
        return
    role = data.draw(st.sampled_from(roles), label="role")
    pred = tensors["pred"]
    shape = data.draw(_other_shape(tensors[role].shape), label="shape")
    other = torch.full(shape, 300.0, dtype=torch.float64)
    size_differs = shape[0] != pred.shape[0] or shape[2:] != tuple(pred.shape[2:])
    if role in ("ref", "input 'lms'"):
        message = f"pred {_shape(pred)} and {role} {shape} have different shapes"
    elif role == "input 'pan'" and shape[1] != 1:
        message = f"input 'pan' has {shape[1]} channels, expected 1"
    elif size_differs:
        message = f"pred {_shape(pred)} and {role} {shape} differ in batch or spatial size"
    else:  # an IVF source with the right size but extra channels (cddfuse: grey only)
        message = f"{role} has {shape[1]} channels, expected 1"
    _raises(name, tensors | {role: other}, message)


@VALIDATION
@given(bands=st.integers(1, 12).filter(lambda c: c != PS_CARD.bands))
@pytest.mark.parametrize("name", [n for n in ALL if n not in IVF_NAMES])
def test_rejects_wrong_band_counts(name: str, bands: int) -> None:
    """pred (and ref/lms alike) with a band count other than the data card's."""
    tensors = _tensors(name)
    resized = {
        k: (v[:, :1].repeat(1, bands, 1, 1) if k in ("pred", "ref", "input 'lms'") else v) for k, v in tensors.items()
    }
    _raises(name, resized, f"pred has {bands} bands, the data card (WV3) says {PS_CARD.bands}")


@VALIDATION
@given(channels=st.integers(1, 8), data=st.data())
@pytest.mark.parametrize("name", IVF_NAMES)
def test_fusion_metrics_reject_wrong_channel_counts(name: str, channels: int, data: st.DataObject) -> None:
    """cddfuse scores grey images, vifb grey or RGB; sources are grey or match pred."""
    profile = data.draw(st.sampled_from(resolve(SPECS[name].factory).profiles), label="profile")
    tensors = _tensors(name)
    allowed = (1,) if profile == "cddfuse" else (1, 3)
    pred = tensors["pred"].repeat(1, channels, 1, 1)
    if channels not in allowed:
        want = " or ".join(map(str, allowed))
        _raises(
            name,
            tensors | {"pred": pred},
            f"pred ({profile} profile) has {channels} channels, expected {want}",
            profile=profile,
        )
        return
    sources = [r for r in _reads(name) if r != "pred"]
    if not sources:
        return
    role = data.draw(st.sampled_from(sources), label="role")
    k = data.draw(st.integers(2, 8).filter(lambda k: k != channels), label="source channels")
    bad = tensors[role][:, :1].repeat(1, k, 1, 1)
    want = " or ".join(str(a) for a in sorted({1, channels}))
    _raises(name, tensors | {"pred": pred, role: bad}, f"{role} has {k} channels, expected {want}", profile=profile)


@pytest.mark.parametrize("name", ALL)
def test_rejects_malformed(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred must have shape \(B, C, H, W\)"):
        build(name)(pred[0], ref, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred must be a torch.Tensor"):
        build(name)(pred.numpy(), ref, inputs, card)


@pytest.mark.parametrize("name", [n for n in ALL if SPECS[n].requires_reference])
def test_reference_metrics_reject_missing_reference_and_overcut(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: ref is None"):
        build(name)(pred, None, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: dim_cut=30 leaves no pixels"):
        build(name, dim_cut=30)(pred, ref, inputs, card)


@pytest.mark.parametrize("name", [n for n in ALL if "full" in (SPECS[n].protocols or ())])
def test_full_resolution_metrics_reject_missing_inputs(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: input 'lms' is missing"):
        build(name)(pred, ref, {}, card)


@pytest.mark.parametrize("name", IVF_NAMES)
def test_fusion_metrics_reject_bad_sources(name: str) -> None:
    pred, _, inputs, card = _valid_call(name)
    if issubclass(resolve(SPECS[name].factory), SourceMetric):
        with pytest.raises(MetricInputError, match=rf"^{name}: needs inputs 'ir' and 'vi'"):
            build(name)(pred, None, {"ir": inputs["ir"]}, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: quantize='round' needs 8-bit grey data"):
        build(name)(pred, None, inputs, DataCard(max_value=1.0))
    mif = {"mri": inputs["ir"], "other": inputs["vi"]}  # MIF field names are accepted too
    torch.testing.assert_close(
        build(name)(pred, None, mif, card), build(name)(pred, None, inputs, card), equal_nan=True
    )


def test_q2n_requires_dn_data() -> None:
    t = torch.rand(1, 4, 32, 32, dtype=torch.float64)
    with pytest.raises(MetricInputError, match="q2n: the data card's max_value is 1.0"):
        build("q2n")(t, t, {}, DataCard(bands=4, max_value=1.0))


def test_bad_parameters_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="sam: dim_cut must be an integer >= 0"):
        build("sam", dim_cut=-1)
    with pytest.raises(ValueError, match="ergas: ratio must be positive"):
        build("ergas", ratio="0")
    with pytest.raises(ValueError, match="en: profile must be one of"):
        build("en", profile="matlab")
    with pytest.raises(ValueError, match="psnr: data_range must be a number"):
        build("psnr", data_range="peak")
    with pytest.raises(MetricInputError, match="ergas: ratio='card' but the data card has no ratio"):
        t = torch.ones(1, 4, 8, 8, dtype=torch.float64)
        build("ergas")(t, t, {}, DataCard(bands=4, max_value=2047.0))
