"""Reduced-resolution scores on the real WV3 and Pléiades samples (../shared/data/pansharpening).

Scored with the benchmark's own metrics (through the registry) in DN with the Deng multi-image
protocol (dim_cut 30). The literature's ranking must hold: every method beats EXP, and the
MTF-matched methods beat Brovey/IHS on Q2n and SAM. EXP itself must reproduce the regression
regression values of an independent implementation of the toolbox (it checks the loading, the 23-tap interpolator and the units).
"""

from __future__ import annotations

import warnings

import pytest

from fusionbench.lazy import build
from fusionbench.registry import load_registry

METRICS = ("sam", "ergas", "q2n", "q-avg", "scc")
METHODS = (
    "exp", "brovey", "ihs", "pca", "bt-h", "gsa", "c-gsa", "bdsd-pc",
    "mtf-glp", "mtf-glp-fs", "mtf-glp-hpm", "mtf-glp-hpm-r", "awlp", "pracs",
)  # fmt: skip
MTF_BASED = ("mtf-glp", "mtf-glp-fs", "mtf-glp-hpm", "mtf-glp-hpm-r", "bdsd-pc", "bt-h")
SIMPLE = ("brovey", "ihs")

# regression values (independent toolbox implementation), EXP = interp23tap(lrms), dim_cut 30
EXP_REFERENCE = {
    "WV3": {"q2n": 0.702393, "q-avg": 0.730538, "sam": 6.221405, "ergas": 8.686723, "scc": 0.754484},
    "Pleiades": {"q2n": 0.754885, "q-avg": 0.749597, "sam": 4.749194, "ergas": 6.052086, "scc": 0.762122},
}


@pytest.fixture(scope="module")
def scores(rr_sample):
    reg = load_registry(only=["classical", "metrics"])
    metrics = {m: build(reg.get("metric", m).spec, dim_cut=30) for m in METRICS}
    table = {}
    for sample in EXP_REFERENCE:
        batch, gt = rr_sample(sample)
        for method in METHODS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # BDSD-PC: no PAN GNyq for Pléiades -> 0.15
                fused = build(reg.get("model", method).spec).fuse(batch)
            table[sample, method] = {m: float(f(fused, gt, batch.inputs, batch.card)[0]) for m, f in metrics.items()}
    lines = [f"{'sample':9s} {'method':14s} " + " ".join(f"{m:>8s}" for m in METRICS)]
    lines += [f"{s:9s} {m:14s} " + " ".join(f"{v[k]:8.4f}" for k in METRICS) for (s, m), v in table.items()]
    print("\n" + "\n".join(lines))
    return table


@pytest.mark.parametrize("sample", EXP_REFERENCE)
def test_exp_reproduces_spec_regression_values(scores, sample):
    for metric, expected in EXP_REFERENCE[sample].items():
        assert scores[sample, "exp"][metric] == pytest.approx(expected, abs=2e-6), metric


@pytest.mark.parametrize("sample", EXP_REFERENCE)
@pytest.mark.parametrize("method", METHODS[1:])
def test_every_method_beats_exp(scores, sample, method):
    ours, exp = scores[sample, method], scores[sample, "exp"]
    assert ours["q2n"] > exp["q2n"] and ours["ergas"] < exp["ergas"] and ours["scc"] > exp["scc"]


@pytest.mark.parametrize("sample", EXP_REFERENCE)
@pytest.mark.parametrize("method", MTF_BASED)
def test_mtf_based_methods_beat_brovey_and_ihs(scores, sample, method):
    for simple in SIMPLE:
        assert scores[sample, method]["q2n"] > scores[sample, simple]["q2n"], simple
        assert scores[sample, method]["sam"] < scores[sample, simple]["sam"], simple
        assert scores[sample, method]["ergas"] < scores[sample, simple]["ergas"], simple
