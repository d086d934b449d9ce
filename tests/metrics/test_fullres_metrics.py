"""Full-resolution metrics (D_lambda, D_s, QNR, D_lambda^K, HQNR) on the real FR samples against
the per-image NumPy re-derivations, to 1e-6 relative."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fusionbench.errors import MetricInputError
from fusionbench.imaging.mtf import mtf_kernel
from fusionbench.metrics import naive
from fusionbench.metrics.fullres import DS, HQNR, QNR, DLambda, DLambdaK
from fusionbench.specs import DataCard

SAMPLES = ["wv3_fr", "ikonos_fr", "wv2_fr"]


def _fused(sample) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """A plausible fused image: EXP plus PAN detail (a crude high-pass injection)."""
    detail = sample.pan - sample.pan.mean()
    return (sample.lms + 0.3 * detail).clamp_min(0)


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].numpy().transpose(1, 2, 0)


@pytest.mark.parametrize("sample", SAMPLES)
def test_against_numpy_rederivation(sample: str, request: pytest.FixtureRequest) -> None:
    s = request.getfixturevalue(sample)
    fused = _fused(s)
    f, lms, pan = _hwc(fused), _hwc(s.lms), s.pan[0, 0].numpy()
    kernels = [mtf_kernel(g, 4) for g in s.card.mtf_gnyq]
    dl = naive.d_lambda(f, lms)
    ds = naive.d_s(f, lms, pan, 4)
    dlk = 1 - naive.q2n(lms, naive.mtf_filter(f, kernels))
    got = {m.name: m()(fused, None, s.inputs, s.card).item() for m in (DLambda, DS, QNR, DLambdaK, HQNR)}
    assert got["d-lambda"] == pytest.approx(dl, rel=1e-6)
    assert got["d-s"] == pytest.approx(ds, rel=1e-6)
    assert got["qnr"] == pytest.approx((1 - dl) * (1 - ds), rel=1e-6)
    assert got["d-lambda-k"] == pytest.approx(dlk, rel=1e-6)
    assert got["hqnr"] == pytest.approx((1 - dlk) * (1 - ds), rel=1e-6)


def test_exp_has_no_spectral_distortion(wv3_fr) -> None:  # type: ignore[no-untyped-def]
    assert DLambda()(wv3_fr.lms, None, wv3_fr.inputs, wv3_fr.card).item() == 0.0
    # D_lambda^K of EXP is not 0: EXP is compared with its own MTF-filtered version
    assert 0 < DLambdaK()(wv3_fr.lms, None, wv3_fr.inputs, wv3_fr.card).item() < 0.2


def test_exponents_and_weights(wv3_fr) -> None:  # type: ignore[no-untyped-def]
    fused = _fused(wv3_fr)
    f, lms, pan = _hwc(fused), _hwc(wv3_fr.lms), wv3_fr.pan[0, 0].numpy()
    dl = naive.d_lambda(f, lms, p=2)
    ds = naive.d_s(f, lms, pan, 4, q=3)
    got = QNR(p=2, q=3, alpha=0.5, beta=2)(fused, None, wv3_fr.inputs, wv3_fr.card).item()
    assert got == pytest.approx((1 - dl) ** 0.5 * (1 - ds) ** 2, rel=1e-6)


def test_sensor_parameter_and_card_fallback(wv3_fr) -> None:  # type: ignore[no-untyped-def]
    fused = _fused(wv3_fr)
    by_card = DLambdaK()(fused, None, wv3_fr.inputs, wv3_fr.card).item()
    assert DLambdaK(sensor="WV3")(fused, None, wv3_fr.inputs, wv3_fr.card).item() == pytest.approx(by_card, rel=1e-12)
    no_gains = DataCard(sensor="WV3", ratio=4, bands=8, max_value=2047.0)  # looked up by name
    assert DLambdaK()(fused, None, wv3_fr.inputs, no_gains).item() == pytest.approx(by_card, rel=1e-12)
    default = DLambdaK(sensor="none-such")(fused, None, wv3_fr.inputs, wv3_fr.card).item()
    kernels = [mtf_kernel(0.3, 4)] * 8
    ref = 1 - naive.q2n(_hwc(wv3_fr.lms), naive.mtf_filter(_hwc(fused), kernels))
    assert default == pytest.approx(ref, rel=1e-6) and default != pytest.approx(by_card, rel=1e-6)


def test_sensor_band_count_mismatch_is_a_metric_input_error() -> None:
    """A known sensor whose band count differs from pred's: MetricInputError naming the metric and
    the sensor (not a bare ValueError from the sensor table)."""
    t = 500.0 + torch.arange(32.0) * torch.arange(1, 5.0)[:, None, None] + torch.arange(32.0)[:, None]
    t = t[None].to(torch.float64)
    inputs = {"lms": t, "pan": t.mean(1, keepdim=True)}
    wv3_name_only = DataCard(sensor="WV3", ratio=4, max_value=2047.0)  # no bands, no mtf_gnyq: looked up
    for m in (DLambdaK, HQNR):
        with pytest.raises(
            MetricInputError,
            match=rf"^{m.name}: no MTF gains for a pred with 4 bands: the data card's sensor 'WV3' does not fit "
            r"\(sensor WV3 has 8 bands, not 4\); pass sensor=<toolbox name> or give the data card mtf_gnyq$",
        ):
            m()(t, None, inputs, wv3_name_only)
        card = DataCard(sensor="mine", ratio=4, bands=4, max_value=2047.0)
        with pytest.raises(
            MetricInputError, match=rf"^{m.name}: no MTF gains for a pred with 4 bands: sensor 'WV2' does not fit"
        ):
            m(sensor="WV2")(t, None, inputs, card)
        assert torch.isfinite(m(sensor="IKONOS")(t, None, inputs, card)).all()  # a 4-band sensor fits


def test_block_constraints(wv3_fr) -> None:  # type: ignore[no-untyped-def]
    fused = _fused(wv3_fr)[..., :120, :120]
    inputs = {k: v[..., :120, :120] if k != "ms" else v for k, v in wv3_fr.inputs.items()}
    for m in (DLambda, DS, QNR, DLambdaK, HQNR):
        with pytest.raises(
            MetricInputError, match=rf"{m.name}: pred size 120x120 is not a multiple of the block size 32"
        ):
            m()(fused, None, inputs, wv3_fr.card)
    with pytest.raises(MetricInputError, match="hqnr: input 'pan' is missing"):
        HQNR()(_fused(wv3_fr), None, {"lms": wv3_fr.lms}, wv3_fr.card)
    with pytest.raises(MetricInputError, match=r"d-s: pred .* and input 'pan' .* differ"):
        DS()(_fused(wv3_fr), None, {"lms": wv3_fr.lms, "pan": wv3_fr.pan[..., :64, :64]}, wv3_fr.card)


def test_constant_blocks_give_nan_like_matlab() -> None:
    card = DataCard(sensor="WV3", ratio=4, bands=2, max_value=2047.0, mtf_gnyq=(0.3, 0.3))
    lms = torch.full((1, 2, 32, 32), 100.0)
    lms[:, 1] += torch.arange(32.0)
    pred = torch.full((1, 2, 32, 32), 200.0)  # constant in both bands: UIQI is 0/0
    assert torch.isnan(DLambda()(pred, None, {"lms": lms}, card)).all()


def test_batched_equals_single(wv3_fr) -> None:  # type: ignore[no-untyped-def]
    fused = torch.cat([_fused(wv3_fr), wv3_fr.lms])
    inputs = {k: v.expand(2, -1, -1, -1) for k, v in wv3_fr.inputs.items()}
    for m in (DLambda, DS, DLambdaK, HQNR):
        batched = m()(fused, None, inputs, wv3_fr.card)
        single = [
            m()(fused[i : i + 1], None, {k: v[i : i + 1] for k, v in inputs.items()}, wv3_fr.card).item()
            for i in range(2)
        ]
        np.testing.assert_allclose(batched.numpy(), single, rtol=1e-12)
