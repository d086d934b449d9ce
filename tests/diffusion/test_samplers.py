"""Numerical checks of the samplers.

* an exact x0 oracle is returned exactly by every sampler (DDIM η=0 in particular);
* on a Gaussian toy problem, where the exact posterior mean E[x0 | x_t] is known in closed form,
  DDIM follows its analytic linear map, DDIM and DPM-Solver++ converge to the exact ODE solution
  at first and second order, and DDPM / DDIM / DPM-Solver++ all reproduce N(μ, s²);
* seeding, nfe, time inputs, self-conditioning and the x0-correction hook behave as documented.
"""

from __future__ import annotations

import math

import pytest
import torch

from fusionbench.diffusion.parameterization import training_target
from fusionbench.diffusion.samplers import (
    DDIMSampler,
    DDPMSampler,
    Denoiser,
    DPMSolverPP2MSampler,
    make_sampler,
)
from fusionbench.diffusion.schedules import NoiseSchedule, cosine_schedule, linear_schedule

ALL = ("ddim", "ddpm", "dpmpp-2m")


def _alpha_bar_at(schedule: NoiseSchedule, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return schedule.alphas_cumprod[t.long()].to(like.dtype).view(-1, *([1] * (like.ndim - 1)))


def gaussian_denoiser(schedule: NoiseSchedule, mu: float, s: float, kind: str = "x0") -> Denoiser:
    """Exact denoiser for data x0 ~ N(mu, s^2) per element, in any parameterisation."""

    def fn(x, t, cond=None):
        ab = _alpha_bar_at(schedule, t, x)
        x0 = mu + ab.sqrt() * s**2 / (ab * s**2 + 1 - ab) * (x - ab.sqrt() * mu)
        eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
        return training_target(kind, x0, eps, ab)

    return Denoiser(fn, schedule, parameterization=kind)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("respacing", ["ddim", "even"])
def test_an_exact_x0_oracle_is_returned_exactly(name, respacing):
    target = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    denoiser = Denoiser(lambda x, t, cond=None: target.expand_as(x), cosine_schedule(500), "x0")
    sampler = make_sampler(name, steps=25 if respacing == "ddim" else 17, respacing=respacing)
    out = sampler.sample(denoiser, target.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(out, target, rtol=0, atol=1e-12)


def test_ddim_follows_its_analytic_linear_map_on_a_gaussian():
    # mu = 0: x0_hat = k x_t, so each DDIM step multiplies x by (a' a s^2 + σ' σ) / (a^2 s^2 + σ^2)
    s, sched = 0.3, linear_schedule(1000)
    sampler = DDIMSampler(steps=10)
    out = sampler.sample(
        gaussian_denoiser(sched, 0.0, s), (1,), x_init=torch.ones(1, dtype=torch.float64), dtype=torch.float64
    )
    kept = sampler.timesteps
    factor = 1.0
    for i in reversed(range(len(kept))):
        ab = sched.alpha_bar(kept[i])
        ab_prev = 1.0 if i == 0 else sched.alpha_bar(kept[i - 1])
        a, sig, a2, sig2 = math.sqrt(ab), math.sqrt(1 - ab), math.sqrt(ab_prev), math.sqrt(1 - ab_prev)
        factor *= (a2 * a * s**2 + sig2 * sig) / (a**2 * s**2 + sig**2)
    assert float(out) == pytest.approx(factor, rel=1e-12)


def _ode_error(name: str, steps: int) -> float:
    """|sampler − exact probability-flow ODE solution| for a Gaussian, from a deterministic start."""
    s, sched = 0.3, cosine_schedule(4000)
    sampler = make_sampler(name, steps=steps, respacing="even")
    out = sampler.sample(
        gaussian_denoiser(sched, 0.0, s), (1,), x_init=torch.ones(1, dtype=torch.float64), dtype=torch.float64
    )
    ab_start = sched.alpha_bar(sampler.timesteps[-1])
    exact = math.sqrt(s**2 / (ab_start * s**2 + 1 - ab_start))  # the flow scales by the std ratio
    return abs(float(out) - exact)


def test_convergence_orders_ddim_first_dpm_solver_second():
    ddim = [_ode_error("ddim", n) for n in (40, 80, 160)]
    dpm = [_ode_error("dpmpp-2m", n) for n in (40, 80, 160)]
    assert ddim[0] / ddim[1] == pytest.approx(2.0, rel=0.1)  # first order
    assert ddim[1] / ddim[2] == pytest.approx(2.0, rel=0.1)
    assert dpm[1] / dpm[2] > 3.2  # approaching 4: second order
    assert dpm[2] < ddim[2] / 2


@pytest.mark.parametrize(
    "name, steps",
    [("ddim", 250), ("dpmpp-2m", 250), ("ddpm", 1000)],
)
def test_samplers_reproduce_the_gaussian_data_distribution(name, steps):
    mu, s = 0.7, 0.3
    sampler = make_sampler(name, steps=steps, respacing="even")
    generator = torch.Generator().manual_seed(0)
    out = sampler.sample(
        gaussian_denoiser(linear_schedule(1000), mu, s), (1, 20_000), generator=generator, dtype=torch.float64
    )
    assert float(out.mean()) == pytest.approx(mu, abs=0.01)
    assert float(out.std()) == pytest.approx(s, abs=0.01)
    assert sampler.nfe == steps


@pytest.mark.parametrize("kind", ["eps", "v"])
@pytest.mark.parametrize("name", ALL)
def test_parameterisations_give_the_same_samples(kind, name):
    sched = cosine_schedule(200)
    reference = make_sampler(name, steps=20).sample(
        gaussian_denoiser(sched, 0.5, 0.2, "x0"), (64,), generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    other = make_sampler(name, steps=20).sample(
        gaussian_denoiser(sched, 0.5, 0.2, kind), (64,), generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    torch.testing.assert_close(other, reference, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "sampler", [DDPMSampler(steps=20), DDIMSampler(steps=20, eta=1.0), DPMSolverPP2MSampler(steps=20)]
)
def test_same_seed_same_output_other_seed_other_output(sampler):
    denoiser = gaussian_denoiser(cosine_schedule(100), 0.0, 0.5)
    a = sampler.sample(denoiser, (4, 8), generator=torch.Generator().manual_seed(7))
    b = sampler.sample(denoiser, (4, 8), generator=torch.Generator().manual_seed(7))
    c = sampler.sample(denoiser, (4, 8), generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_ddim_eta_adds_noise_only_when_positive():
    denoiser = gaussian_denoiser(cosine_schedule(100), 0.0, 0.5)
    x_init = torch.randn(16, generator=torch.Generator().manual_seed(0))
    det = [
        DDIMSampler(steps=10).sample(denoiser, (16,), generator=torch.Generator().manual_seed(s), x_init=x_init)
        for s in (1, 2)
    ]
    sto = [
        DDIMSampler(steps=10, eta=1.0).sample(
            denoiser, (16,), generator=torch.Generator().manual_seed(s), x_init=x_init
        )
        for s in (1, 2)
    ]
    assert torch.equal(det[0], det[1])
    assert not torch.equal(sto[0], sto[1])


@pytest.mark.parametrize(
    "time_input, expected",
    [
        ("original", [480.0 - 20 * i for i in range(25)]),
        ("index", [24.0 - i for i in range(25)]),
        ("scaled", [(480.0 - 20 * i) * 2 for i in range(25)]),
    ],
)
def test_time_input_modes(time_input, expected):
    seen: list[float] = []

    def fn(x, t, cond=None):
        seen.append(float(t[0]))
        assert t.shape == (x.shape[0],) and t.dtype == x.dtype
        return torch.zeros_like(x)

    sampler = DDIMSampler(steps=25)
    sampler.sample(Denoiser(fn, cosine_schedule(500), "x0", time_input=time_input), (2, 1))
    assert seen == expected
    assert sampler.timesteps == tuple(range(0, 500, 20))
    assert sampler.nfe == 25


def test_cond_is_passed_through_and_self_condition_feeds_the_previous_x0():
    calls: list[tuple[object, object]] = []

    def fn(x, t, cond=None, self_cond=None):
        calls.append((cond, None if self_cond is None else float(self_cond.flatten()[0])))
        return torch.full_like(x, float(t[0]))  # x0_hat = t, so the next self_cond is the previous t

    DDIMSampler(steps=4).sample(Denoiser(fn, cosine_schedule(8), "x0", self_condition=True), (1, 1), cond="C")
    assert [c for c, _ in calls] == ["C"] * 4
    assert [s for _, s in calls] == [None, 6.0, 4.0, 2.0]


def test_no_self_cond_keyword_without_self_conditioning():
    def fn(x, t, cond=None):  # would raise TypeError if self_cond were passed
        return torch.zeros_like(x)

    DDIMSampler(steps=3).sample(Denoiser(fn, cosine_schedule(9), "x0"), (1,))


@pytest.mark.parametrize("name", ALL)
def test_x0_correction_hook_is_called_every_step_and_used(name):
    steps: list[tuple[int, int]] = []
    target = torch.full((2, 3), 0.25, dtype=torch.float64)

    def correct(x0, x_t, step):
        steps.append((step.index, step.timestep))
        assert 0 < step.alpha_bar < 1 and step.alpha_bar < step.alpha_bar_prev <= 1
        return target

    sampler = make_sampler(name, steps=5)
    out = sampler.sample(
        gaussian_denoiser(cosine_schedule(50), 0.0, 1.0),
        (2, 3),
        generator=torch.Generator().manual_seed(0),
        x0_correction=correct,
        dtype=torch.float64,
    )
    assert [i for i, _ in steps] == [4, 3, 2, 1, 0]
    assert [t for _, t in steps] == [40, 30, 20, 10, 0]
    torch.testing.assert_close(out, target)


def test_clip_x0_and_callback():
    sched = cosine_schedule(50)
    seen = []
    denoiser = Denoiser(lambda x, t, cond=None: torch.full_like(x, 5.0), sched, "x0", clip_x0=(-1.0, 1.0))
    out = DDIMSampler(steps=5).sample(denoiser, (3,), callback=lambda step, x, x0: seen.append(float(x0.max())))
    assert torch.allclose(out, torch.ones(3))
    assert seen == [1.0] * 5


def test_invalid_parameters_and_inputs():
    with pytest.raises(ValueError, match="steps"):
        DDIMSampler(steps=0)
    with pytest.raises(ValueError, match="eta"):
        DDIMSampler(eta=-1.0)
    with pytest.raises(ValueError, match="respacing"):
        DDPMSampler(respacing="karras")
    with pytest.raises(ValueError, match="variance"):
        DDPMSampler(variance="learned")
    with pytest.raises(ValueError, match="only 10"):
        DDIMSampler(steps=25).sample(gaussian_denoiser(cosine_schedule(10), 0, 1), (1,))
    with pytest.raises(TypeError, match="Denoiser"):
        DDIMSampler().sample(lambda x, t: x, (1,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_input"):
        Denoiser(lambda x, t: x, cosine_schedule(10), time_input="respaced")
    with pytest.raises(ValueError, match="unknown sampler"):
        make_sampler("euler")


def test_samplers_report_every_step_for_progress_bars():
    seen: list[tuple[int, int]] = []
    sampler = make_sampler("ddim", steps=7)
    sampler.on_step = lambda done, total: seen.append((done, total))
    denoiser = Denoiser(lambda x, t, cond=None: torch.zeros_like(x), cosine_schedule(100), "x0")
    sampler.sample(denoiser, (1, 1, 2, 2), generator=torch.Generator().manual_seed(0))
    assert seen == [(i, 7) for i in range(1, 8)]
