"""Reduced-resolution pansharpening metrics: regression values (an independent implementation of the toolbox) on the real samples,
agreement with the per-image NumPy re-derivations (fusionbench.metrics.naive) to 1e-6 relative,
and the GT-vs-GT ideal row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fusionbench.imaging import crop_border
from fusionbench.metrics import naive
from fusionbench.metrics.pansharpening import ERGAS, PSNR, SAM, SCC, Q2n, QAvg

# regression values (EXP = interp23tap(lrms); DN; block 32; ratio 4): Q2n, Q_avg, SAM, ERGAS, SCC
REGRESSION = {
    ("wv3_rr", 30): (0.702393, 0.730538, 6.221405, 8.686723, 0.754484),
    ("wv3_rr", 21): (0.714218, 0.719627, 6.158248, 8.628995, 0.752438),
    ("wv3_rr", 0): (0.638328, 0.702323, 6.197563, 8.490146, 0.749603),
    ("pleiades_rr", 30): (0.754885, 0.749597, 4.749194, 6.052086, 0.762122),
    ("pleiades_rr", 21): (0.768266, 0.754657, 4.717982, 5.938098, 0.764696),
    ("pleiades_rr", 0): (0.776451, 0.770604, 4.665937, 5.736003, 0.776067),
}
METRICS = (Q2n, QAvg, SAM, ERGAS, SCC)


@pytest.mark.parametrize("sample,dim_cut", sorted(REGRESSION))
def test_regression_values_spec_I2(sample: str, dim_cut: int, request: pytest.FixtureRequest) -> None:
    s = request.getfixturevalue(sample)
    got = [m(dim_cut=dim_cut)(s.exp, s.gt, {}, s.card).item() for m in METRICS]
    # the spec prints 6 decimals: agreement to rounding, i.e. <= 5e-7 absolute
    np.testing.assert_allclose(got, REGRESSION[(sample, dim_cut)], rtol=0, atol=5.000001e-7)


@pytest.mark.parametrize("sample", ["wv3_rr", "pleiades_rr"])
@pytest.mark.parametrize("dim_cut", [0, 21, 30])
def test_agrees_with_numpy_rederivation(sample: str, dim_cut: int, request: pytest.FixtureRequest) -> None:
    s = request.getfixturevalue(sample)
    hwc = lambda t: crop_border(t[0], dim_cut).numpy().transpose(1, 2, 0)  # noqa: E731
    gt, exp = hwc(s.gt), hwc(s.exp)
    ref = {
        "q2n": naive.q2n(gt, exp),
        "q-avg": naive.q_avg(gt, exp),
        "sam": naive.sam(gt, exp),
        "ergas": naive.ergas(gt, exp, 4),
        "scc": naive.scc(exp, gt),
    }
    for m in METRICS:
        got = m(dim_cut=dim_cut)(s.exp, s.gt, {}, s.card).item()
        assert got == pytest.approx(ref[m.name], rel=1e-6), m.name


def test_psnr_matches_definition(wv3_rr) -> None:  # type: ignore[no-untyped-def]
    got = PSNR(dim_cut=0)(wv3_rr.exp, wv3_rr.gt, {}, wv3_rr.card).item()
    x, y = wv3_rr.gt[0].numpy() / 2047, wv3_rr.exp[0].numpy() / 2047  # the [0,1] form of the definition
    ref = np.mean([10 * np.log10(1 / np.mean((x[b] - y[b]) ** 2)) for b in range(8)])
    assert got == pytest.approx(ref, rel=1e-9)
    assert PSNR(data_range=2047)(wv3_rr.exp, wv3_rr.gt, {}, wv3_rr.card).item() == pytest.approx(got, rel=1e-12)


@pytest.mark.parametrize("sample", ["wv3_rr", "pleiades_rr"])
def test_ground_truth_row_is_ideal(sample: str, request: pytest.FixtureRequest) -> None:
    s = request.getfixturevalue(sample)
    for dim_cut in (0, 30):
        assert Q2n(dim_cut=dim_cut)(s.gt, s.gt, {}, s.card).item() == pytest.approx(1.0, abs=1e-12)
        assert QAvg(dim_cut=dim_cut)(s.gt, s.gt, {}, s.card).item() == pytest.approx(1.0, abs=1e-12)
        assert SCC(dim_cut=dim_cut)(s.gt, s.gt, {}, s.card).item() == pytest.approx(1.0, abs=1e-12)
        assert SAM(dim_cut=dim_cut)(s.gt, s.gt, {}, s.card).item() == pytest.approx(0.0, abs=1e-6)
        assert ERGAS(dim_cut=dim_cut)(s.gt, s.gt, {}, s.card).item() == 0.0
    assert PSNR()(s.gt, s.gt, {}, s.card).item() == float("inf")


def test_batch_equals_single_images(wv3_rr) -> None:  # type: ignore[no-untyped-def]
    pred = torch.cat([wv3_rr.exp, wv3_rr.gt, 0.5 * (wv3_rr.exp + wv3_rr.gt)])
    ref = wv3_rr.gt.expand(3, -1, -1, -1)
    for m in METRICS + (PSNR,):
        batched = m(dim_cut=30)(pred, ref, {}, wv3_rr.card)
        assert batched.shape == (3,) and batched.dtype == torch.float64
        single = torch.stack([m(dim_cut=30)(pred[i : i + 1], ref[i : i + 1], {}, wv3_rr.card)[0] for i in range(3)])
        torch.testing.assert_close(batched, single, rtol=1e-12, atol=1e-12)


def test_q2n_rounds_half_away_like_matlab() -> None:
    from fusionbench.specs import DataCard

    card = DataCard(bands=4, max_value=2047.0)
    rng = np.random.default_rng(5)
    ref = torch.from_numpy(rng.integers(0, 2047, size=(1, 4, 32, 32)).astype(np.float64))
    fused = ref + 0.5  # every value is a tie: MATLAB rounds up, np.round would go to even
    got = Q2n()(fused, ref, {}, card).item()
    assert got == pytest.approx(Q2n()(ref + 1.0, ref, {}, card).item(), rel=1e-15)
    assert got == pytest.approx(
        naive.q2n(ref[0].numpy().transpose(1, 2, 0), fused[0].numpy().transpose(1, 2, 0)), rel=1e-9
    )


@pytest.mark.parametrize("bands", [3, 4, 5, 8])
@pytest.mark.parametrize("size", [32, 40, 64])
def test_q2n_band_padding_and_block_padding_match_naive(bands: int, size: int) -> None:
    from fusionbench.specs import DataCard

    rng = np.random.default_rng(bands * 100 + size)
    gt = rng.uniform(100, 1500, size=(size, size, bands)).round()
    gt[:32, :32, 0] = 0  # an all-zero band block takes the toolbox's "mean == 0" branch
    fused = gt + rng.normal(0, 60, size=gt.shape)
    got = Q2n()(
        torch.from_numpy(fused.transpose(2, 0, 1))[None],
        torch.from_numpy(gt.transpose(2, 0, 1))[None],
        {},
        DataCard(max_value=2047.0),
    ).item()
    assert got == pytest.approx(naive.q2n(gt, fused), rel=1e-9)
