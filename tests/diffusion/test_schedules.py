"""Noise schedules against their closed forms and numbers from Nichol & Dhariwal 2021 / Ho et al. 2020."""

from __future__ import annotations

import math

import pytest
import torch

from fusionbench.diffusion.schedules import (
    NoiseSchedule,
    cosine_betas,
    cosine_schedule,
    linear_betas,
    linear_schedule,
    make_schedule,
)


def _f(u: float, s: float = 0.008) -> float:
    return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2


@pytest.mark.parametrize("T", [25, 500, 1000])
def test_cosine_alpha_bar_is_the_closed_form_ratio(T):
    sched = cosine_schedule(T)
    # without the 0.999 clip, prod(1 - beta) telescopes to f((t+1)/T) / f(0)
    for t in range(T - 1):
        assert sched.alpha_bar(t) == pytest.approx(_f((t + 1) / T) / _f(0), rel=1e-10)
    assert float(cosine_betas(T).max()) <= 0.999
    assert float(sched.betas[-1]) == pytest.approx(0.999)  # the last step is clipped


def test_linear_schedule_matches_ddpm_and_the_spec_value():
    betas = linear_betas(1000)
    assert float(betas[0]) == pytest.approx(1e-4)
    assert float(betas[-1]) == pytest.approx(0.02)
    assert linear_schedule(1000).alpha_bar(999) == pytest.approx(4.04e-5, rel=0.01)  # Ho et al. 2020 linear schedule
    # scaled for other T: the same noise range as T = 1000
    assert float(linear_betas(500)[0]) == pytest.approx(2e-4)
    assert float(linear_betas(500)[-1]) == pytest.approx(0.04)


def test_schedule_is_float64_monotone_and_indexed_by_original_timesteps():
    sched = make_schedule("cosine", 500)
    assert sched.alphas_cumprod.dtype == torch.float64
    assert bool((sched.alphas_cumprod[1:] < sched.alphas_cumprod[:-1]).all())
    assert sched.timesteps.tolist() == list(range(500))
    assert sched.alpha_bar_prev(0) == 1.0
    assert sched.alpha_bar_prev(3) == sched.alpha_bar(2)


def test_q_sample_is_the_forward_process():
    sched = cosine_schedule(100)
    x0 = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    noise = torch.randn_like(x0)
    index = torch.tensor([0, 50, 99])
    xt = sched.q_sample(x0, index, noise)
    for b, i in enumerate(index.tolist()):
        ab = sched.alpha_bar(i)
        torch.testing.assert_close(xt[b], math.sqrt(ab) * x0[b] + math.sqrt(1 - ab) * noise[b])


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="unknown noise schedule"):
        make_schedule("sigmoid", 10)
    with pytest.raises(ValueError, match="positive integer"):
        cosine_schedule(0)
    with pytest.raises(ValueError, match="non-increasing"):
        NoiseSchedule(torch.tensor([0.5, 0.9], dtype=torch.float64), torch.tensor([0, 1]), 2)
