"""MHIF baselines: exact recovery for GLP-HS, quality on the embedded synthetic CAVE-like data."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench import FusionBatch
from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.mtf import wald_degrade
from fusionbench.lazy import build
from fusionbench.registry import load_registry
from fusionbench.specs import DataCard
from fusionbench_classical.mhif import CNMF, GLPHS, successive_projections


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), bands=st.integers(2, 12))
def test_glp_hs_recovers_bands_that_are_linear_in_the_msi(seed, bands):
    """gt_c = sum_k a_ck msi_k + a_c0, LR-HSI by the same degradation: GLP-HS returns gt exactly."""
    g = torch.Generator().manual_seed(seed)
    msi = torch.rand(1, 3, 32, 32, generator=g, dtype=torch.float64)
    a = torch.rand(bands, 3, generator=g, dtype=torch.float64)
    c = torch.rand(bands, generator=g, dtype=torch.float64)
    gt = torch.einsum("ck,bkhw->bchw", a, msi) + c[None, :, None, None]
    lrhsi = wald_degrade(gt, 0.3, 4)
    batch = FusionBatch(
        ("x",), {"hrmsi": msi, "lrhsi": lrhsi, "hsi_up": interp23tap(lrhsi, 4)}, DataCard(ratio=4, max_value=1.0)
    )
    torch.testing.assert_close(GLPHS().fuse(batch), gt, rtol=1e-9, atol=1e-9)


def test_successive_projections_finds_the_pure_pixels():
    e = torch.eye(4, dtype=torch.float64)
    mixed = torch.rand(4, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    mixed = 0.9 * mixed / mixed.sum(dim=0, keepdim=True)  # interior mixtures, smaller norms
    x = torch.cat([mixed[:, :10], e, mixed[:, 10:]], dim=1)
    assert sorted(successive_projections(x, 4).tolist()) == [10, 11, 12, 13]


@pytest.fixture(scope="module")
def cave():
    reg = load_registry(only=["datasets", "metrics"])
    ds = build(reg.get("dataset", "synthetic-cave-x4").spec)
    items = list(ds.items("test"))[:2]
    stack = lambda f: torch.stack([torch.as_tensor(i.inputs[f], dtype=torch.float64) for i in items])  # noqa: E731
    batch = FusionBatch(tuple(i.image_id for i in items), {f: stack(f) for f in ("hrmsi", "lrhsi", "hsi_up")}, ds.card)
    gt = torch.stack([torch.as_tensor(i.reference, dtype=torch.float64) for i in items])
    metrics = {n: build(reg.get("metric", n).spec) for n in ("psnr", "sam", "ergas")}
    return batch, gt, metrics


@pytest.mark.parametrize("model", [GLPHS(), CNMF(inner=50, outer=2)], ids=["glp-hs", "cnmf"])
def test_mhif_baselines_beat_the_upsampled_hsi(cave, model):
    batch, gt, metrics = cave
    out = model.fuse(batch)
    for name, metric in metrics.items():
        ours = metric(out, gt, batch.inputs, batch.card)
        base = metric(batch.inputs["hsi_up"], gt, batch.inputs, batch.card)
        better = ours > base if name == "psnr" else ours < base
        assert better.all(), (name, ours, base)


def test_cnmf_output_is_nonnegative_and_parameters_checked(cave):
    batch, _, _ = cave
    assert (CNMF(inner=10, outer=1).fuse(batch) >= 0).all()
    with pytest.raises(ValueError, match="endmembers must be >= 1"):
        CNMF(endmembers=0)
    with pytest.raises(ValueError, match="gnyq"):
        GLPHS(gnyq=1.5)
