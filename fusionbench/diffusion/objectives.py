"""The denoising training objective shared by supervised diffusion models (DDIF, SSDiff).

One call draws t ~ U{0..T-1} per sample, noises x0, optionally runs a self-conditioning pass,
and returns the loss between the network output and the target of its parameterisation. The
network sees the same ``fn(x_t, t, cond=…[, self_cond=…])`` signature as at sampling time, and
the *original* timestep as a float — what :class:`~.samplers.Denoiser` feeds with
``time_input="original"``, so training and (correct) sampling agree by construction.

All random draws come from ``generator`` (a CPU generator is fine for any device): a training
run is reproducible and its generator state can be checkpointed for an exact resume.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .parameterization import to_x0_eps, training_target
from .schedules import NoiseSchedule

LOSSES = ("l1", "l2")


def diffusion_loss(
    fn: Callable[..., torch.Tensor],
    x0: torch.Tensor,
    schedule: NoiseSchedule,
    *,
    parameterization: str = "x0",
    loss: str = "l1",
    cond: Any = None,
    generator: torch.Generator | None = None,
    self_condition_prob: float = 0.0,
) -> torch.Tensor:
    """Mean training loss over a batch of clean targets ``x0`` (B, …).

    ``self_condition_prob`` > 0 enables self-conditioning (Chen et al., "Analog Bits"): with that
    probability (one coin per batch, as Dif-PAN does) the network first runs without gradient and
    its x̂0 is fed back as ``self_cond``; otherwise ``self_cond=None`` (the model's default).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    batch = x0.shape[0]
    gen_device = generator.device if generator is not None else torch.device("cpu")
    index = torch.randint(len(schedule), (batch,), generator=generator, device=gen_device)
    noise = torch.randn(x0.shape, generator=generator, device=gen_device, dtype=x0.dtype).to(x0.device)
    index = index.to(x0.device)
    x_t = schedule.q_sample(x0, index, noise)
    alpha_bar = schedule.alphas_cumprod.to(x0.device)[index].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
    t = schedule.timesteps.to(x0.device)[index].to(x0.dtype)

    kwargs: dict[str, Any] = {"cond": cond}
    if self_condition_prob > 0:
        coin = torch.rand((), generator=generator, device=gen_device).item()
        kwargs["self_cond"] = None
        if coin < self_condition_prob:
            with torch.no_grad():
                first = fn(x_t, t, cond=cond, self_cond=None)
                kwargs["self_cond"] = to_x0_eps(parameterization, x_t, first.to(x_t.dtype), alpha_bar)[0].detach()
    output = fn(x_t, t, **kwargs)
    target = training_target(parameterization, x0, noise, alpha_bar)
    output = output.to(target.dtype)
    return F.l1_loss(output, target) if loss == "l1" else F.mse_loss(output, target)
