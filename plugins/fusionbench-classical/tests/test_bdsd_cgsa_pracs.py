"""BDSD-PC (constrained LS, the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)), C-GSA (segmented gains) and PRACS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

from fusionbench import FusionBatch
from fusionbench.imaging.matlab import imresize_bicubic, nearest_decimate
from fusionbench.imaging.mtf import mtf_filter
from fusionbench_classical._kmeans import kmeans
from fusionbench_classical.bdsd import BDSDPC, bdsd_coefficients, sign_constrained_lstsq
from fusionbench_classical.cgsa import CGSA, cluster_gains, gsa_intensity
from fusionbench_classical.pracs import PRACS


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(2, 9))
def test_sign_constrained_lstsq_matches_bounded_solver(seed, k):
    """Same minimiser as a bounded LS solver with gamma_PAN >= 0, gamma_MS <= 0 (lsqlin's problem)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(60, k))
    y = rng.normal(size=(60, 2))
    ours = sign_constrained_lstsq(torch.from_numpy(a)[None], torch.from_numpy(y)[None])[0].numpy()
    lower = np.r_[0.0, np.full(k - 1, -np.inf)]
    upper = np.r_[np.inf, np.zeros(k - 1)]
    for j in range(2):
        ref = lsq_linear(a, y[:, j], bounds=(lower, upper), method="bvls", tol=1e-14).x
        assert ours[0, j] >= 0 and (ours[1:, j] <= 0).all()
        obj = lambda x: np.sum((a @ x - y[:, j]) ** 2)  # noqa: E731
        assert obj(ours[:, j]) <= obj(ref) * (1 + 1e-10) + 1e-12
        np.testing.assert_allclose(ours[:, j], ref, rtol=1e-7, atol=1e-9)


def test_bdsd_pc_satisfies_constraints_and_applies_them(ps_batch):
    batch, gt = ps_batch(seed=21, bands=4, size=64)
    pan, lms = batch.inputs["pan"], batch.inputs["lms"]
    card = batch.card
    gamma = bdsd_coefficients(pan, lms, card.mtf_gnyq, card.pan_gnyq, 4)
    assert gamma.shape == (1, 5, 4)
    assert (gamma[:, 0] >= 0).all() and (gamma[:, 1:] <= 0).all()
    # the reduced-scale problem as the BDSD-PC paper (Vivone 2019) describes it, built independently
    gt_lr = imresize_bicubic(lms[0].numpy(), 0.25)
    ms_lr = mtf_filter(gt_lr, list(card.mtf_gnyq), 4)
    pan_lr = nearest_decimate(mtf_filter(pan[0].numpy(), card.pan_gnyq, 4), 4)
    design = np.column_stack([pan_lr.reshape(-1), ms_lr.reshape(4, -1).T])
    lower, upper = np.r_[0.0, -np.inf * np.ones(4)], np.r_[np.inf, np.zeros(4)]
    for b in range(4):
        ref = lsq_linear(design, (gt_lr[b] - ms_lr[b]).ravel(), bounds=(lower, upper), method="bvls", tol=1e-14).x
        np.testing.assert_allclose(gamma[0, :, b].numpy(), ref, rtol=1e-6, atol=1e-9)
    out = BDSDPC().fuse(batch)
    full = torch.cat([pan, lms], dim=1)[0]
    expected = lms[0] + torch.einsum("khw,kc->chw", full, gamma[0])
    torch.testing.assert_close(out[0], expected)
    assert float(((out - gt) ** 2).mean()) < float(((lms - gt) ** 2).mean())


def test_kmeans_recovers_separated_clusters_and_is_seeded():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], dtype=torch.float64)
    truth = torch.arange(3).repeat_interleave(50)
    x = centres[truth] + 0.3 * torch.randn(150, 2, generator=g, dtype=torch.float64)
    labels = kmeans(x, 3, seed=4)
    # same partition up to label names
    pairs = {(int(a), int(b)) for a, b in zip(truth, labels)}
    assert len(pairs) == 3
    assert torch.equal(labels, kmeans(x, 3, seed=4))


def test_cgsa_with_one_cluster_is_global_regression(ps_batch):
    batch, _ = ps_batch(seed=22, size=64)
    pan, ms, lms = (batch.inputs[k] for k in ("pan", "ms", "lms"))
    intensity = gsa_intensity(pan, ms, lms, 4)
    x, y = intensity[0, 0].numpy().ravel(), lms[0].numpy().reshape(4, -1)
    gains = np.array([np.cov(x, b)[0, 1] / np.var(x, ddof=1) for b in y])
    expected = lms[0].numpy() + gains[:, None, None] * (pan[0, 0].numpy() - intensity[0, 0].numpy())
    np.testing.assert_allclose(CGSA(clusters=1).fuse(batch)[0].numpy(), expected, rtol=1e-10, atol=1e-8)


def test_cluster_gains_are_per_cluster_regressions():
    g = torch.Generator().manual_seed(1)
    lms = torch.rand(1, 2, 6, 6, generator=g, dtype=torch.float64)
    intensity = torch.rand(1, 1, 6, 6, generator=g, dtype=torch.float64)
    labels = (torch.arange(36) % 3)[None]
    gains = cluster_gains(labels, intensity, lms, 3)
    for k in range(3):
        sel = labels[0] == k
        x = intensity.reshape(-1)[sel].numpy()
        for b in range(2):
            y = lms[0, b].reshape(-1)[sel].numpy()
            expected = np.cov(x, y)[0, 1] / np.var(x, ddof=1)
            np.testing.assert_allclose(gains[0, b].reshape(-1)[sel].numpy(), expected, rtol=1e-12)


def test_cgsa_seed_is_a_parameter(ps_batch):
    batch, _ = ps_batch(seed=23, size=64)
    a, b = CGSA(seed=0).fuse(batch), CGSA(seed=0).fuse(batch)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="clusters must be >= 1"):
        CGSA(clusters=0)


def test_pracs_injects_detail(ps_batch):
    batch, gt = ps_batch(seed=24, size=64)
    err = lambda x: float(((x - gt) ** 2).mean())  # noqa: E731
    assert err(PRACS().fuse(batch)) < err(batch.inputs["lms"])
    with pytest.raises(ValueError, match="beta"):
        PRACS(beta=0.0)
    flat = dict(batch.inputs, pan=torch.full_like(batch.inputs["pan"], 500.0))
    assert torch.isfinite(PRACS().fuse(FusionBatch(batch.image_ids, flat, batch.card))).all()
