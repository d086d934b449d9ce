"""Hypothesis properties (issue 3): perfect fusions score the ideal value, SAM/ERGAS invariances
and scaling, and clear errors for invalid inputs naming the metric and the input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fusionbench.errors import MetricInputError
from fusionbench.lazy import resolve
from fusionbench.metrics.ivf import ImageMetric, SourceMetric
from fusionbench.metrics.pansharpening import ERGAS, SAM
from fusionbench.metrics.plugin import metric_specs
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
    other = torch.flip(t, dims=(-1,))
    inputs = {"ir": t, "vi": other}
    assert build("nabf")(t, None, {"ir": t, "vi": t}, IVF_CARD).item() == pytest.approx(0.0, abs=1e-12)
    for name, spec in SPECS.items():
        if "ivf" in spec.tasks:
            for profile in ("cddfuse", "vifb"):
                v = build(name, profile=profile)(t, None, inputs, IVF_CARD)
                assert v.shape == (1,) and v.dtype == torch.float64, name


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
    torch.testing.assert_close(ERGAS()(biased, ref, {}, PS_CARD), torch.full((2,), 0.25, dtype=torch.float64), rtol=1e-9, atol=0)


# -- input validation ----------------------------------------------------------------------------
def _valid_call(name: str):  # type: ignore[no-untyped-def]
    """(pred, ref, inputs, card) that the metric accepts."""
    spec = SPECS[name]
    if "ivf" in spec.tasks:
        t = torch.full((1, 1, 48, 48), 100.0) + torch.arange(48.0)
        return t, None, {"ir": t, "vi": t.flip(-1)}, IVF_CARD
    t = torch.full((1, 4, 32, 32), 500.0) + torch.arange(32.0) * torch.arange(1, 5.0)[:, None, None]
    if spec.requires_reference:
        return t, t + 1, {}, PS_CARD
    return t, None, {"lms": t, "pan": t.mean(1, keepdim=True), "ms": t[..., ::4, ::4]}, PS_CARD


ALL = sorted(SPECS)


@pytest.mark.parametrize("name", ALL)
def test_rejects_nan_and_inf_naming_metric_and_input(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    bad = pred.clone()
    bad[0, 0, 1, 2] = math.nan
    bad[0, 0, 3, 3] = math.nan
    with pytest.raises(MetricInputError, match=rf"^{name}: pred contains NaN at 2 values \(first at image 0, band 0, row 1, col 2\)"):
        build(name)(bad, ref, inputs, card)
    bad = pred.clone()
    bad[0, 0, 0, 0] = math.inf
    with pytest.raises(MetricInputError, match=rf"^{name}: pred contains inf at 1 values"):
        build(name)(bad, ref, inputs, card)
    if ref is not None:
        bad_ref = ref.clone()
        bad_ref[0, 0, 0, 0] = math.nan
        with pytest.raises(MetricInputError, match=rf"^{name}: ref contains NaN"):
            build(name)(pred, bad_ref, inputs, card)
    elif not issubclass(resolve(SPECS[name].factory), ImageMetric):  # EN/SD/SF/AG ignore sources
        src = inputs["lms"] if "lms" in inputs else inputs["ir"]
        key = "lms" if "lms" in inputs else "ir"
        poisoned = src.clone()
        poisoned[0, 0, 0, 0] = math.nan
        with pytest.raises(MetricInputError, match=rf"^{name}: input '{key}' contains NaN"):
            build(name)(pred, ref, {**inputs, key: poisoned}, card)


@pytest.mark.parametrize("name", ALL)
def test_rejects_empty_and_malformed(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred is empty"):
        build(name)(pred[..., :0], ref, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred must have shape \(B, C, H, W\)"):
        build(name)(pred[0], ref, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred must be a torch.Tensor"):
        build(name)(pred.numpy(), ref, inputs, card)


@pytest.mark.parametrize("name", [n for n in ALL if SPECS[n].requires_reference])
def test_reference_metrics_reject_mismatch_and_band_counts(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred \(1, 4, 32, 32\) and ref \(1, 4, 32, 31\) have different shapes"):
        build(name)(pred, ref[..., :31], inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred has 3 bands, the data card \(WV3\) says 4"):
        build(name)(pred[:, :3], ref[:, :3], inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: ref is None"):
        build(name)(pred, None, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: dim_cut=30 leaves no pixels"):
        build(name, dim_cut=30)(pred, ref, inputs, card)


@pytest.mark.parametrize("name", [n for n in ALL if "full" in (SPECS[n].protocols or ())])
def test_full_resolution_metrics_reject_wrong_bands_and_missing_inputs(name: str) -> None:
    pred, ref, inputs, card = _valid_call(name)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred has 3 bands"):
        build(name)(pred[:, :3], ref, {k: v[:, :3] if k != "pan" else v for k, v in inputs.items()}, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred \(1, 4, 32, 32\) and input 'lms' \(1, 2, 32, 32\)"):
        build(name)(pred, ref, {**inputs, "lms": inputs["lms"][:, :2]}, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: input 'lms' is missing"):
        build(name)(pred, ref, {}, card)


@pytest.mark.parametrize("name", [n for n in ALL if "ivf" in SPECS[n].tasks])
def test_fusion_metrics_reject_bad_sources(name: str) -> None:
    pred, _, inputs, card = _valid_call(name)
    if issubclass(resolve(SPECS[name].factory), SourceMetric):
        with pytest.raises(MetricInputError, match=rf"^{name}: needs inputs 'ir' and 'vi'"):
            build(name)(pred, None, {"ir": inputs["ir"]}, card)
        with pytest.raises(MetricInputError, match=rf"^{name}: pred .* and input 'vi' .* differ"):
            build(name)(pred, None, {**inputs, "vi": inputs["vi"][..., :40]}, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: pred \(cddfuse profile\) has 3 channels, expected 1"):
        build(name)(pred.expand(-1, 3, -1, -1), None, inputs, card)
    with pytest.raises(MetricInputError, match=rf"^{name}: quantize='round' needs 8-bit grey data"):
        build(name)(pred, None, inputs, DataCard(max_value=1.0))
    mif = {"mri": inputs["ir"], "other": inputs["vi"]}  # MIF field names are accepted too
    torch.testing.assert_close(build(name)(pred, None, mif, card), build(name)(pred, None, inputs, card), equal_nan=True)


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
