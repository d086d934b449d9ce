"""The EM likelihood rectification: its closed-form pieces on small tensors, the variants'
measured behaviour from the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM), and invariance under a perfect prior."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench_ddfm.em import (
    E_EPS,
    EMState,
    difference_otfs,
    e_step_weights,
    em_step,
    forward_difference,
    k_step,
    released_difference,
    u_step,
    update_taus,
    x_step,
)

D64 = torch.float64


def _images(seed: int = 0, shape=(1, 1, 12, 10)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=D64) * 2 - 1, torch.rand(shape, generator=g, dtype=D64) * 2 - 1


def _blend_weight(f: torch.Tensor, i: torch.Tensor, v: torch.Tensor) -> float:
    """Least-squares b in f ≈ b·I + (1 − b)·V."""
    return float(((f - v) * (i - v)).sum() / ((i - v) ** 2).sum())


# -- operators -----------------------------------------------------------------------------------
def test_otfs_are_the_circular_forward_difference():
    k, _ = _images(1, (2, 1, 6, 5))
    otf1, otf2 = difference_otfs(6, 5, dtype=D64)
    via_fft1 = torch.fft.ifft2(otf1 * torch.fft.fft2(k)).real
    via_fft2 = torch.fft.ifft2(otf2 * torch.fft.fft2(k)).real
    torch.testing.assert_close(via_fft1, forward_difference(k, -1))
    torch.testing.assert_close(via_fft2, forward_difference(k, -2))
    assert forward_difference(k, -1)[0, 0, 2, 1] == pytest.approx(float(k[0, 0, 2, 2] - k[0, 0, 2, 1]))
    assert forward_difference(k, -1)[0, 0, 2, 4] == pytest.approx(float(k[0, 0, 2, 0] - k[0, 0, 2, 4]))  # wraps


def test_released_difference_has_flipped_sign_and_keeps_the_last_entry():
    k = torch.tensor([[[[1.0, 4.0, 9.0], [2.0, 3.0, 5.0]]]], dtype=D64)
    a1 = released_difference(k, -1)
    assert a1.tolist() == [[[[-3.0, -5.0, 9.0], [-1.0, -2.0, 5.0]]]]
    a2 = released_difference(k, -2)
    assert a2.tolist() == [[[[-1.0, 1.0, 4.0], [2.0, 3.0, 5.0]]]]


def test_k_step_solves_its_normal_equations():
    z, u1 = _images(2, (1, 1, 7, 6))
    u2, _ = _images(3, (1, 1, 7, 6))
    otf1, otf2 = difference_otfs(7, 6, dtype=D64)
    k = k_step(z, u1, u2, otf1, otf2)

    def grad(x: torch.Tensor, axis: int) -> torch.Tensor:
        return forward_difference(x, axis)

    def grad_t(x: torch.Tensor, axis: int) -> torch.Tensor:  # adjoint of the circular forward difference
        return torch.roll(x, shifts=1, dims=axis) - x

    lhs = k + grad_t(grad(k, -1), -1) + grad_t(grad(k, -2), -2)
    rhs = z + grad_t(u1, -1) + grad_t(u2, -2)
    torch.testing.assert_close(lhs, rhs)


def test_u_step_is_the_minimiser():
    k, _ = _images(4)
    lamb, rho = 0.5, 0.3
    u1, u2 = u_step(k, lamb, rho, forward_difference)
    a1 = forward_difference(k, -1)
    torch.testing.assert_close(u1, rho / (2 * lamb + rho) * a1)
    # gradient of λu² + ρ/2 (u − a)² vanishes
    torch.testing.assert_close(2 * lamb * u1 + rho * (u1 - a1), torch.zeros_like(u1))
    torch.testing.assert_close(u2, rho / (2 * lamb + rho) * forward_difference(k, -2))


def test_e_step_weights_closed_form_and_cap():
    r_c = torch.tensor([0.5, 0.1, 0.2], dtype=D64).view(1, 1, 1, 3)
    r_d = torch.tensor([0.5, 0.4, 0.01], dtype=D64).view(1, 1, 1, 3)
    tau_a = torch.full((1, 1, 1, 1), 2.0, dtype=D64)
    tau_b = torch.full((1, 1, 1, 1), 0.5, dtype=D64)
    c, d = e_step_weights(r_c, r_d, tau_a, tau_b)
    expected_c = [math.sqrt(2 / 2.0 / (r**2 + E_EPS)) for r in (0.5, 0.1, 0.2)]
    raw_d = [math.sqrt(2 / 0.5 / (r**2 + E_EPS)) for r in (0.5, 0.4, 0.01)]
    assert c.flatten().tolist() == pytest.approx(expected_c)
    assert d.flatten().tolist() == pytest.approx([min(x, 2 * y) for x, y in zip(raw_d, expected_c)])
    assert float(d[0, 0, 0, 2]) == pytest.approx(2 * expected_c[2])  # capped


def test_released_e_step_puts_the_shifted_square_on_c_the_data_term():
    """MMIF-DDFM's EM_onestep.py: D = sqrt(2/τ_b/(X² + 1e-6)) and C = sqrt(2/τ_a/((Y − X + 1e-6)²)).
    At r_C = 0 the released C is 1000 times the symmetric one (1e-12 vs 1e-6 under the root)."""
    r_c = torch.tensor([0.0, 0.3], dtype=D64).view(1, 1, 1, 2)
    r_d = torch.tensor([0.5, 0.0], dtype=D64).view(1, 1, 1, 2)
    tau_a = torch.full((1, 1, 1, 1), 2.0, dtype=D64)
    tau_b = torch.full((1, 1, 1, 1), 0.5, dtype=D64)
    c, d = e_step_weights(r_c, r_d, tau_a, tau_b, symmetric=False)
    expected_c = [math.sqrt(2 / 2.0 / (r + E_EPS) ** 2) for r in (0.0, 0.3)]
    raw_d = [math.sqrt(2 / 0.5 / (r**2 + E_EPS)) for r in (0.5, 0.0)]
    assert c.flatten().tolist() == pytest.approx(expected_c, rel=1e-12)
    assert d.flatten().tolist() == pytest.approx([min(x, 2 * y) for x, y in zip(raw_d, expected_c)], rel=1e-12)
    c_sym, _ = e_step_weights(r_c, r_d, tau_a, tau_b)
    assert float(c[0, 0, 0, 0] / c_sym[0, 0, 0, 0]) == pytest.approx(1000.0, rel=1e-6)


def test_tau_update_is_the_mean_posterior_latent_variance():
    c = torch.tensor([1.0, 4.0], dtype=D64).view(1, 1, 1, 2)
    d = torch.tensor([2.0, 0.5], dtype=D64).view(1, 1, 1, 2)
    tau = torch.ones(1, 1, 1, 1, dtype=D64)
    tau_a, tau_b = update_taus(c, d, tau, tau)
    assert float(tau_a) == pytest.approx(((1 / 1.0 + 0.5) + (1 / 4.0 + 0.5)) / 2)
    assert float(tau_b) == pytest.approx(((1 / 2.0 + 0.5) + (1 / 0.5 + 0.5)) / 2)


def test_x_step_is_the_pixelwise_minimiser():
    c, d = torch.tensor(3.0, dtype=D64), torch.tensor(1.5, dtype=D64)
    y, k, rho = torch.tensor(0.7, dtype=D64), torch.tensor(-0.2, dtype=D64), 0.4
    x = x_step(c, d, y, k, rho)
    # derivative of C(y − x)² + D x² + ρ/2 (x − k)²
    assert float(-2 * c * (y - x) + 2 * d * x + rho * (x - k)) == pytest.approx(0.0, abs=1e-12)


# -- variants (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM), measured behaviour) ------------------------------------------------
@pytest.mark.parametrize("a", [1.0, 0.9, 0.6, 0.5, 1 / 3 + 1e-3])
def test_fv_variant_keeps_blends_with_a_at_least_one_third(a):
    i, v = _images(5, (1, 1, 32, 32))
    f = em_step(a * i + (1 - a) * v, i, v, EMState.initial(i), "fv")
    torch.testing.assert_close(f, a * i + (1 - a) * v, atol=2e-3, rtol=0)


@pytest.mark.parametrize(("a", "expected"), [(0.1, 1 / 3), (-0.2, 1 / 3), (1.2, 6 / 7)])
def test_fv_variant_pulls_outliers_back(a, expected):
    i, v = _images(6, (1, 1, 32, 32))
    f = em_step(a * i + (1 - a) * v, i, v, EMState.initial(i), "fv")
    assert _blend_weight(f, i, v) == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize(("a", "expected"), [(0.9, 0.1), (0.5, 0.5), (0.1, 2 / 3)])
def test_released_variant_reflects_about_the_midpoint(a, expected):
    i, v = _images(7, (1, 1, 32, 32))
    f = em_step(a * i + (1 - a) * v, i, v, EMState.initial(i), "released")
    assert _blend_weight(f, i, v) == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("variant", ["presubmission", "paper"])
def test_bf_onestep_variants_are_attractive_and_smoothing(variant):
    i, v = _images(8, (1, 1, 32, 32))
    weights = [
        _blend_weight(em_step(a * i + (1 - a) * v, i, v, EMState.initial(i), variant), i, v)
        for a in (1.2, 0.9, 0.5, 0.1, -0.2)
    ]
    assert weights[0] == pytest.approx(weights[1], abs=0.02)  # both capped the same way
    assert all(0.0 < w < 0.75 for w in weights)  # pulled into the [v, i] interval
    assert weights[4] > 0.0 and weights[3] < weights[2] < weights[1]


def test_state_is_carried_and_updated():
    i, v = _images(9)
    state = EMState.initial(i)
    f = 0.5 * (i + v)
    em_step(f + 0.1 * i, i, v, state, "paper")
    tau_a = state.tau_a.clone()
    assert state.steps == 1 and not torch.equal(tau_a, torch.ones_like(tau_a))
    em_step(f + 0.1 * i, i, v, state, "paper")
    assert state.steps == 2 and not torch.equal(state.tau_a, tau_a)


def _smooth_pair(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth, periodic sources (the k-step's FFT has a periodic boundary)."""
    grid = torch.arange(n, dtype=D64) / n
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    i = (torch.sin(2 * math.pi * xx) * torch.cos(2 * math.pi * yy)).view(1, 1, n, n) * 0.8
    v = (0.6 * torch.cos(2 * math.pi * (xx + yy)) - 0.2).view(1, 1, n, n)
    return i, v


@pytest.mark.parametrize("variant", ["paper", "fv"])
def test_perfect_prior_is_kept_over_many_steps(variant):
    """The balanced fusion ½(I + V) is the rectification's fixed point: feeding it back for 100
    steps (state carried) keeps it (the paper variant's TV part is exact only on smooth images)."""
    i, v = _smooth_pair()
    ideal = 0.5 * (i + v)
    state = EMState.initial(i)
    for _ in range(100):
        f = em_step(ideal, i, v, state, variant)
    torch.testing.assert_close(f, ideal, atol=5e-3, rtol=0)


def test_fv_collapses_onto_one_source_when_the_prior_leans():
    """Why the default is not ``fv``: with the learnt τ's, a prior leaning to one source makes that
    source's weight grow (a → a²/(a² + (1−a)²) per step at ρ → 0): fed back step after step, as a
    prior that follows the rectified estimate does, it collapses onto that source."""
    i, v = _smooth_pair()
    out_fv = out_paper = 0.6 * i + 0.4 * v
    fv, paper = EMState.initial(i), EMState.initial(i)
    for _ in range(30):
        out_fv = em_step(out_fv, i, v, fv, "fv")
        out_paper = em_step(out_paper, i, v, paper, "paper")
    assert _blend_weight(out_fv, i, v) > 0.9
    assert 0.4 < _blend_weight(out_paper, i, v) < 0.75


def test_unknown_variant():
    i, v = _images(10)
    with pytest.raises(ValueError, match="unknown EM variant"):
        em_step(i, i, v, EMState.initial(i), "nope")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), variant=st.sampled_from(["paper", "fv", "released", "presubmission"]))
def test_batching_never_changes_a_result(seed, variant):
    i, v = _images(seed, (3, 1, 8, 8))
    f, _ = _images(seed + 1, (3, 1, 8, 8))
    state = EMState.initial(i)
    together = em_step(f, i, v, state, variant)
    together = em_step(together, i, v, state, variant)
    for b in range(3):
        s = EMState.initial(i[b : b + 1])
        alone = em_step(f[b : b + 1], i[b : b + 1], v[b : b + 1], s, variant)
        alone = em_step(alone, i[b : b + 1], v[b : b + 1], s, variant)
        torch.testing.assert_close(alone, together[b : b + 1])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_fv_output_stays_between_the_sources_for_estimates_between_them(seed):
    i, v = _images(seed, (1, 1, 8, 8))
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(i.shape, generator=g, dtype=D64)
    f = em_step(a * i + (1 - a) * v, i, v, EMState.initial(i), "fv")
    low, high = torch.minimum(i, v), torch.maximum(i, v)
    assert bool(((f >= low - 1e-2) & (f <= high + 1e-2)).all())
