"""What the network predicts — ε, x0 or v — and the exact conversions between them (Salimans & Ho 2022 for v).

With x_t = sqrt(ᾱ) x0 + sqrt(1-ᾱ) ε:

* ε-prediction:  x0 = (x_t - sqrt(1-ᾱ) ε) / sqrt(ᾱ)
* x0-prediction: ε  = (x_t - sqrt(ᾱ) x0) / sqrt(1-ᾱ)
* v-prediction:  v  = sqrt(ᾱ) ε - sqrt(1-ᾱ) x0;  x0 = sqrt(ᾱ) x_t - sqrt(1-ᾱ) v;
  ε = sqrt(1-ᾱ) x_t + sqrt(ᾱ) v

Samplers work on the pair (x0, ε) whatever the network predicts, so every model runs with every
sampler. ``alpha_bar`` may be a float or a tensor broadcastable to x (e.g. shape (B, 1, 1, 1)).
"""

from __future__ import annotations

import torch

PARAMETERIZATIONS = ("eps", "x0", "v")

AlphaBar = float | torch.Tensor


def _sqrt(value: AlphaBar) -> AlphaBar:
    return value.sqrt() if isinstance(value, torch.Tensor) else value**0.5


def x0_from_eps(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    return (x_t - _sqrt(1.0 - alpha_bar) * eps) / _sqrt(alpha_bar)


def eps_from_x0(x_t: torch.Tensor, x0: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    """ε implied by an x0 estimate. Undefined at ᾱ = 1 (no noise); samplers never ask for it there."""
    return (x_t - _sqrt(alpha_bar) * x0) / _sqrt(1.0 - alpha_bar)


def v_from_x0_eps(x0: torch.Tensor, eps: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    return _sqrt(alpha_bar) * eps - _sqrt(1.0 - alpha_bar) * x0


def x0_from_v(x_t: torch.Tensor, v: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    return _sqrt(alpha_bar) * x_t - _sqrt(1.0 - alpha_bar) * v


def eps_from_v(x_t: torch.Tensor, v: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    return _sqrt(1.0 - alpha_bar) * x_t + _sqrt(alpha_bar) * v


def to_x0_eps(
    kind: str, x_t: torch.Tensor, output: torch.Tensor, alpha_bar: AlphaBar
) -> tuple[torch.Tensor, torch.Tensor]:
    """Interpret a network output of parameterisation ``kind`` as the pair (x̂0, ε̂)."""
    if kind == "x0":
        return output, eps_from_x0(x_t, output, alpha_bar)
    if kind == "eps":
        return x0_from_eps(x_t, output, alpha_bar), output
    if kind == "v":
        return x0_from_v(x_t, output, alpha_bar), eps_from_v(x_t, output, alpha_bar)
    raise ValueError(f"unknown parameterisation {kind!r}; known: {', '.join(PARAMETERIZATIONS)}")


def training_target(kind: str, x0: torch.Tensor, eps: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    """What a network of parameterisation ``kind`` is trained to output."""
    if kind == "x0":
        return x0
    if kind == "eps":
        return eps
    if kind == "v":
        return v_from_x0_eps(x0, eps, alpha_bar)
    raise ValueError(f"unknown parameterisation {kind!r}; known: {', '.join(PARAMETERIZATIONS)}")


def output_from_x0_eps(kind: str, x0: torch.Tensor, eps: torch.Tensor, alpha_bar: AlphaBar) -> torch.Tensor:
    """The inverse of :func:`to_x0_eps` (same as the training target): useful for oracles in tests."""
    return training_target(kind, x0, eps, alpha_bar)
