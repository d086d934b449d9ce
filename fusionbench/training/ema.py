"""Exponential moving average of a model's parameters.

Parameters only (buffers are taken from the online model when a full state dict is needed), as
in Dif-PAN; an optional warm-up during which the average simply copies the online weights, so
early random weights are never averaged in (Dif-PAN: 20,000 iterations).
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float, start: int = 0):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.start = start
        self.shadow: dict[str, torch.Tensor] = {
            name: p.detach().clone().float() for name, p in model.named_parameters() if p.requires_grad
        }

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Call after optimizer step number ``step`` (1-based)."""
        for name, p in model.named_parameters():
            if name not in self.shadow:
                continue
            if step <= self.start:
                self.shadow[name].copy_(p.detach())
            else:
                self.shadow[name].lerp_(p.detach().float(), 1.0 - self.decay)

    def state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """A complete, loadable state dict of ``model`` with the averaged parameters."""
        full = {k: v.detach() for k, v in model.state_dict().items()}
        for name, value in self.shadow.items():
            full[name] = value.to(full[name].dtype)
        return full

    def load_shadow(self, state: dict[str, torch.Tensor]) -> None:
        for name in self.shadow:
            if name not in state:
                raise KeyError(f"EMA state lacks parameter {name!r}")
            self.shadow[name].copy_(state[name].float())

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Overwrite the model's parameters with the averages (for evaluation)."""
        for name, p in model.named_parameters():
            if name in self.shadow:
                p.copy_(self.shadow[name].to(p.dtype))
