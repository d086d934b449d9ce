"""Noise schedules: the cumulative signal fractions ᾱ a diffusion model was trained with.

A :class:`NoiseSchedule` is stored as ``alphas_cumprod`` (ᾱ) plus, for every position, the
*original* training timestep it stands for. A full training schedule has ``timesteps = 0..T-1``;
a respaced one (see :mod:`.respacing`) keeps a subset, e.g. ``0, 20, …, 480``. Keeping ᾱ (not β)
as the primary quantity makes respacing exact: the β of a respaced step is re-derived as
``1 - ᾱ_k / ᾱ_prev``, which is the guided/improved-diffusion convention (Nichol & Dhariwal 2021).

Everything is float64 on the CPU: schedules are tiny, and float32 ᾱ near 1 loses the precision
that ε ↔ x0 conversions at small t depend on. Samplers read Python floats out of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

SCHEDULES = ("cosine", "linear")


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """ᾱ per position, and the original training timestep each position stands for.

    ``num_train_timesteps`` is T of the schedule the network was trained with; it is what
    ``time_input="scaled"`` divides by and what respacing indices refer to.
    """

    alphas_cumprod: torch.Tensor  # float64, shape (N,), strictly decreasing, in (0, 1)
    timesteps: torch.Tensor  # int64, shape (N,), strictly increasing original timesteps
    num_train_timesteps: int
    name: str = ""

    def __post_init__(self) -> None:
        ab, ts = self.alphas_cumprod, self.timesteps
        if ab.ndim != 1 or ts.ndim != 1 or ab.shape != ts.shape or len(ab) == 0:
            raise ValueError("alphas_cumprod and timesteps must be non-empty 1-D tensors of equal length")
        if not bool(((ab > 0) & (ab <= 1)).all()):
            raise ValueError("alphas_cumprod must lie in (0, 1]")
        if len(ab) > 1 and not bool((ab[1:] <= ab[:-1]).all()):
            raise ValueError("alphas_cumprod must be non-increasing")
        if len(ts) > 1 and not bool((ts[1:] > ts[:-1]).all()):
            raise ValueError("timesteps must be strictly increasing")
        if int(ts[-1]) >= self.num_train_timesteps or int(ts[0]) < 0:
            raise ValueError(f"timesteps must lie in [0, {self.num_train_timesteps})")

    def __len__(self) -> int:
        return int(self.alphas_cumprod.shape[0])

    @property
    def betas(self) -> torch.Tensor:
        """β of each position relative to the previous kept position (ᾱ_{-1} := 1)."""
        prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        return 1.0 - self.alphas_cumprod / prev

    def alpha_bar(self, index: int) -> float:
        """ᾱ at a position of this schedule."""
        return float(self.alphas_cumprod[index])

    def alpha_bar_prev(self, index: int) -> float:
        """ᾱ of the previous (less noisy) position; 1.0 before the first, so the last sampling
        step lands exactly on x0."""
        return 1.0 if index == 0 else float(self.alphas_cumprod[index - 1])

    def timestep(self, index: int) -> int:
        return int(self.timesteps[index])

    def respace(self, spec: str | int | Sequence[int]) -> NoiseSchedule:
        """A schedule keeping a subset of this one's positions (``"ddim25"``, ``100``, ``[0, 5]``)."""
        from .respacing import respace

        return respace(self, spec)

    def q_sample(self, x0: torch.Tensor, index: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε for a batch of positions ``index`` (shape (B,))."""
        ab = self.alphas_cumprod.to(x0.device)[index].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise


def _from_betas(betas: torch.Tensor, name: str) -> NoiseSchedule:
    ab = torch.cumprod(1.0 - betas, dim=0)
    return NoiseSchedule(ab, torch.arange(len(betas), dtype=torch.int64), len(betas), name)


def cosine_betas(num_timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Improved-DDPM cosine schedule: β_t = min(1 - f((t+1)/T) / f(t/T), max_beta),
    f(u) = cos²(((u + s)/(1 + s)) π/2). Identical to Dif-PAN's version normalised by f(0)."""
    _check_steps(num_timesteps)

    def f(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1.0 - f((t + 1) / num_timesteps) / f(t / num_timesteps), max_beta) for t in range(num_timesteps)]
    return torch.tensor(betas, dtype=torch.float64)


def linear_betas(num_timesteps: int, start: float = 1e-4, end: float = 0.02) -> torch.Tensor:
    """DDPM linear schedule, scaled so any T spans the same noise range as T = 1000:
    β from ``start·1000/T`` to ``end·1000/T`` (guided-diffusion convention)."""
    _check_steps(num_timesteps)
    scale = 1000.0 / num_timesteps
    return torch.linspace(start * scale, end * scale, num_timesteps, dtype=torch.float64)


def cosine_schedule(num_timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    return _from_betas(cosine_betas(num_timesteps, s, max_beta), f"cosine{num_timesteps}")


def linear_schedule(num_timesteps: int, start: float = 1e-4, end: float = 0.02) -> NoiseSchedule:
    return _from_betas(linear_betas(num_timesteps, start, end), f"linear{num_timesteps}")


def make_schedule(kind: str, num_timesteps: int) -> NoiseSchedule:
    """Build a named schedule (``"cosine"`` or ``"linear"``) with T training steps."""
    if kind == "cosine":
        return cosine_schedule(num_timesteps)
    if kind == "linear":
        return linear_schedule(num_timesteps)
    raise ValueError(f"unknown noise schedule {kind!r}; known: {', '.join(SCHEDULES)}")


def _check_steps(num_timesteps: int) -> None:
    if not isinstance(num_timesteps, int) or num_timesteps < 1:
        raise ValueError(f"number of timesteps must be a positive integer, got {num_timesteps!r}")
