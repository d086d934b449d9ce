"""Samplers any diffusion model can be run with: DDPM ancestral, DDIM, DPM-Solver++(2M).

The split: a *model* wraps its network in a :class:`Denoiser` — the network
call, the schedule it was trained with, what it predicts (ε / x0 / v) and which time value it
expects — and a *sampler* (built by the core from its ``SamplerSpec`` with ``steps``, ``eta``,
``respacing``…) turns that into a sample::

    denoiser = Denoiser(fn=net_fn, schedule=cosine_schedule(500), parameterization="x0")
    x0 = sampler.sample(denoiser, shape, cond=cond, generator=generator)
    sampler.nfe  # network evaluations used by the last call

Every sampler reduces the network output to the pair (x̂0, ε̂), optionally passes x̂0 through an
``x0_correction`` hook (DDFM's EM rectification, clipping, guidance…), re-derives ε̂ from the
corrected x̂0 and then applies its own update. The last step always lands on ᾱ = 1, so the
returned tensor is the final x̂0 estimate (DDIM with η = 0 and an exact x0 oracle returns x0).

All randomness comes from the ``generator`` (initial noise, ancestral noise): the same seed gives
the same output. Nothing here wraps the loop in ``torch.no_grad()`` — callers do that (the core
does around ``fuse``), and guidance-style corrections may need gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from .parameterization import PARAMETERIZATIONS, eps_from_x0, to_x0_eps
from .respacing import RESPACING_RULES, respacing_spec
from .schedules import NoiseSchedule

TIME_INPUTS = ("original", "index", "scaled")
"""What the network receives as its time input:

* ``original`` — the original training timestep of the step (correct; guided-diffusion without
  rescaling);
* ``index`` — the position in the respaced schedule (0 … steps-1): the released Dif-PAN and SSDiff
  code does this at inference (see docs/diffusion.md and docs/ssdiff.md);
* ``scaled`` — original · 1000 / T (guided-diffusion ``rescale_timesteps=True``).
"""


@dataclass(frozen=True)
class StepInfo:
    """Where a sampler is in its loop; handed to x0-correction hooks and callbacks."""

    index: int  # position in the respaced schedule; counts down from total-1 to 0
    total: int  # number of sampling steps (= network evaluations)
    timestep: int  # original training timestep of this position
    alpha_bar: float  # ᾱ at this step
    alpha_bar_prev: float  # ᾱ of the step the update moves to (1.0 after the last)
    model_time: float  # the time value the network receives (see TIME_INPUTS)


class X0Correction(Protocol):
    """Hook called once per step with the network's x̂0: returns a (possibly) corrected x̂0.

    It may keep state across steps (DDFM's EM carries its hyper-parameters): samplers call it in
    order, from the noisiest step (``step.index == step.total - 1``) to the last (``index == 0``).
    """

    def __call__(self, x0: torch.Tensor, x_t: torch.Tensor, step: StepInfo) -> torch.Tensor: ...


StepCallback = Callable[[StepInfo, torch.Tensor, torch.Tensor], None]
"""``callback(step, x_next, x0)`` after every update (progress, recording intermediates)."""


@dataclass
class Denoiser:
    """A trained network as the samplers see it.

    ``fn(x_t, t, cond=cond)`` returns the network output for a batch x_t (B, …) and a time tensor
    t of shape (B,) (dtype of x_t). With ``self_condition=True`` the sampler also passes
    ``self_cond=`` the previous step's x̂0 (None at the first step; models then use their own
    default, e.g. DDIF feeds x_t itself). ``schedule`` is the *training* schedule; samplers respace it.
    ``clip_x0`` clamps x̂0 before any correction (DDFM: (-1, 1)).
    """

    fn: Callable[..., torch.Tensor]
    schedule: NoiseSchedule
    parameterization: str = "x0"
    time_input: str = "original"
    clip_x0: tuple[float, float] | None = None
    self_condition: bool = False

    def __post_init__(self) -> None:
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {self.parameterization!r}")
        if self.time_input not in TIME_INPUTS:
            raise ValueError(f"time_input must be one of {TIME_INPUTS}, got {self.time_input!r}")

    def model_time(self, index: int, schedule: NoiseSchedule) -> float:
        """The time value the network gets at position ``index`` of the (respaced) ``schedule``."""
        if self.time_input == "index":
            return float(index)
        timestep = schedule.timestep(index)
        if self.time_input == "scaled":
            return timestep * 1000.0 / schedule.num_train_timesteps
        return float(timestep)

    def predict(
        self, x_t: torch.Tensor, step: StepInfo, cond: Any = None, self_cond: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Call the network once and return (x̂0, ε̂)."""
        t = torch.full((x_t.shape[0],), step.model_time, dtype=x_t.dtype, device=x_t.device)
        kwargs: dict[str, Any] = {"cond": cond}
        if self.self_condition:
            kwargs["self_cond"] = self_cond
        output = self.fn(x_t, t, **kwargs).to(x_t.dtype)
        x0, eps = to_x0_eps(self.parameterization, x_t, output, step.alpha_bar)
        if self.clip_x0 is not None:
            x0 = x0.clamp(*self.clip_x0)
            eps = eps_from_x0(x_t, x0, step.alpha_bar)
        return x0, eps


def gaussian_noise(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str | None, dtype: torch.dtype
) -> torch.Tensor:
    """N(0, I) drawn from ``generator`` (on its own device), then moved to ``device``."""
    gen_device = generator.device if generator is not None else torch.device(device or "cpu")
    noise = torch.randn(shape, generator=generator, device=gen_device, dtype=dtype)
    return noise.to(device) if device is not None else noise


class DiffusionSampler:
    """Shared loop of the samplers; subclasses implement :meth:`update`.

    ``steps`` network evaluations over the training schedule respaced by ``respacing``
    (``"ddim"`` stride rule or ``"even"`` rounding rule, see :mod:`.respacing`).
    """

    name = "base"

    def __init__(self, steps: int = 25, respacing: str = "ddim"):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"{self.name}: steps must be a positive integer, got {steps!r}")
        if respacing not in RESPACING_RULES:
            raise ValueError(f"{self.name}: respacing must be one of {RESPACING_RULES}, got {respacing!r}")
        self.steps = steps
        self.respacing = respacing
        self.nfe = 0
        self.timesteps: tuple[int, ...] = ()
        self.on_step: Callable[[int, int], None] | None = None
        """Called with (steps done, total steps) after every step: the runner's progress bar."""

    def params(self) -> Mapping[str, Any]:
        return {"steps": self.steps, "respacing": self.respacing}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"

    def sampling_schedule(self, schedule: NoiseSchedule) -> NoiseSchedule:
        """The training schedule respaced to this sampler's step count."""
        if self.steps > len(schedule):
            raise ValueError(
                f"{self.name}: {self.steps} steps requested but the model's schedule has only {len(schedule)}"
            )
        return schedule.respace(respacing_spec(self.respacing, self.steps))

    def sample(
        self,
        denoiser: Denoiser,
        shape: tuple[int, ...],
        cond: Any = None,
        generator: torch.Generator | None = None,
        *,
        x0_correction: X0Correction | None = None,
        x_init: torch.Tensor | None = None,
        callback: StepCallback | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Draw one sample batch of ``shape``; returns the final x̂0 (in the model's variable space).

        ``x_init`` replaces the initial N(0, I) draw (tests, SDEdit-style starts). ``device``
        defaults to the generator's device.
        """
        if not isinstance(denoiser, Denoiser):
            raise TypeError(f"{self.name}: expected a fusionbench.diffusion.Denoiser, got {type(denoiser).__name__}")
        schedule = self.sampling_schedule(denoiser.schedule)
        if device is None:
            device = generator.device if generator is not None else torch.device("cpu")
        x = (
            x_init.to(device=device, dtype=dtype)
            if x_init is not None
            else gaussian_noise(tuple(shape), generator, device, dtype)
        )
        self.nfe = 0
        self.timesteps = tuple(int(t) for t in schedule.timesteps)
        state: dict[str, Any] = {}
        previous_x0: torch.Tensor | None = None
        total = len(schedule)
        for index in reversed(range(total)):
            step = StepInfo(
                index=index,
                total=total,
                timestep=schedule.timestep(index),
                alpha_bar=schedule.alpha_bar(index),
                alpha_bar_prev=schedule.alpha_bar_prev(index),
                model_time=denoiser.model_time(index, schedule),
            )
            x0, eps = denoiser.predict(x, step, cond, previous_x0)
            self.nfe += 1
            if x0_correction is not None:
                x0 = x0_correction(x0, x, step)
                eps = eps_from_x0(x, x0, step.alpha_bar)
            x_next = self.update(x, x0, eps, step, generator, state)
            if callback is not None:
                callback(step, x_next, x0)
            if self.on_step is not None:
                self.on_step(total - index, total)
            x, previous_x0 = x_next, x0
        return x

    def update(
        self,
        x: torch.Tensor,
        x0: torch.Tensor,
        eps: torch.Tensor,
        step: StepInfo,
        generator: torch.Generator | None,
        state: dict[str, Any],
    ) -> torch.Tensor:
        raise NotImplementedError


class DDIMSampler(DiffusionSampler):
    """DDIM (Song et al. 2021). ``eta=0``: the deterministic ODE sampler DDIF, SSDiff and DDFM use;
    ``eta=1``: ancestral-like noise. x_{prev} = sqrt(ᾱ') x̂0 + sqrt(1-ᾱ'-σ²) ε̂ + σ z."""

    name = "ddim"

    def __init__(self, steps: int = 25, eta: float = 0.0, respacing: str = "ddim"):
        super().__init__(steps, respacing)
        if not (isinstance(eta, (int, float)) and eta >= 0 and math.isfinite(eta)):
            raise ValueError(f"ddim: eta must be a finite number >= 0, got {eta!r}")
        self.eta = float(eta)

    def params(self) -> Mapping[str, Any]:
        return {**super().params(), "eta": self.eta}

    def update(self, x, x0, eps, step, generator, state):  # type: ignore[override]
        ab, ab_prev = step.alpha_bar, step.alpha_bar_prev
        sigma = self.eta * math.sqrt((1 - ab_prev) / (1 - ab)) * math.sqrt(1 - ab / ab_prev) if self.eta else 0.0
        out = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps
        if sigma > 0:
            out = out + sigma * gaussian_noise(tuple(x.shape), generator, x.device, x.dtype)
        return out


class DDPMSampler(DiffusionSampler):
    """Ancestral sampling from the posterior q(x_prev | x_t, x̂0) (Ho et al. 2020) on the respaced
    schedule. ``variance="small"``: posterior variance β̃; ``"large"``: β. No noise on the last step."""

    name = "ddpm"

    def __init__(self, steps: int = 100, respacing: str = "ddim", variance: str = "small"):
        super().__init__(steps, respacing)
        if variance not in ("small", "large"):
            raise ValueError(f"ddpm: variance must be 'small' or 'large', got {variance!r}")
        self.variance = variance

    def params(self) -> Mapping[str, Any]:
        return {**super().params(), "variance": self.variance}

    def update(self, x, x0, eps, step, generator, state):  # type: ignore[override]
        ab, ab_prev = step.alpha_bar, step.alpha_bar_prev
        beta = 1 - ab / ab_prev
        mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x0 + (math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)) * x
        if step.index == 0:
            return mean
        var = beta * (1 - ab_prev) / (1 - ab) if self.variance == "small" else beta
        return mean + math.sqrt(var) * gaussian_noise(tuple(x.shape), generator, x.device, x.dtype)


class DPMSolverPP2MSampler(DiffusionSampler):
    """DPM-Solver++(2M) (Lu et al. 2022), the multistep second-order data-prediction solver of the
    probability-flow ODE, in log-SNR time λ = log(sqrt(ᾱ)/sqrt(1-ᾱ)). First order on the first
    step (there is no history yet) and on the final jump to ᾱ = 1 (λ = ∞), where it returns x̂0."""

    name = "dpmpp-2m"

    def __init__(self, steps: int = 20, respacing: str = "ddim"):
        super().__init__(steps, respacing)

    def update(self, x, x0, eps, step, generator, state):  # type: ignore[override]
        ab, ab_prev = step.alpha_bar, step.alpha_bar_prev
        if ab_prev >= 1.0:
            return x0
        lam, lam_next = _log_snr(ab), _log_snr(ab_prev)
        h = lam_next - lam
        data = x0
        previous = state.get("x0")
        if previous is not None:
            r = state["h"] / h
            data = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * previous
        state["x0"], state["h"] = x0, h
        sigma_ratio = math.sqrt((1 - ab_prev) / (1 - ab))
        return sigma_ratio * x - math.sqrt(ab_prev) * math.expm1(-h) * data


def _log_snr(alpha_bar: float) -> float:
    return 0.5 * (math.log(alpha_bar) - math.log1p(-alpha_bar))


SAMPLER_CLASSES: dict[str, type[DiffusionSampler]] = {
    cls.name: cls for cls in (DDPMSampler, DDIMSampler, DPMSolverPP2MSampler)
}


def make_sampler(name: str, **params: Any) -> DiffusionSampler:
    """Build a first-party sampler by name without the registry (tests, notebooks, benchmarks)."""
    try:
        cls = SAMPLER_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; known: {', '.join(sorted(SAMPLER_CLASSES))}") from None
    return cls(**params)
