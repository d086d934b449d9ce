"""L-BAF — LoRA-like branch-wise alternating fine-tuning (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)), implemented for real.

The paper fine-tunes the two branches of a jointly trained SSNet alternately, "without
increasing parameters"; the released code only hints at it (commented stop-gradient blocks in
APFM). Here one fine-tuning *stage* works on one branch:

1. every parameter of the network is frozen (``requires_grad = False``);
2. each weight matrix of the active branch (Linear, and Conv2d with groups = 1; see
   :meth:`SSNet.branch_of`) gets a low-rank delta W ← W + (α/r)·U·D, U (out×r) zero-initialised
   and D (r×in·k·k) random, so the stage starts exactly at the joint model;
3. only U and D train (biases, norms and the other branch stay fixed); the other branch's
   BatchNorm is kept in eval mode so its running statistics do not move either;
4. at the end the (EMA-averaged) deltas are merged into the weights: the network has exactly
   the parameters it had before — the "without increasing parameters" of the paper.

Optionally (``detach=True``) the APFM stop-gradient hooks of the released code are switched on
for the stage: training the spatial branch detaches the spectral side and vice versa.

The schedule (``order`` × ``rounds``) and its rationale are in ``docs/ssdiff.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from .apfm import APFM

BRANCHES = ("spatial", "spectral")


@dataclass(frozen=True)
class LBAFConfig:
    """The alternating stages that follow joint training, and how each one trains."""

    order: tuple[str, ...] = ("spatial", "spectral")  # branches fine-tuned in one round, in order
    rounds: int = 1
    iterations: int = 2_000  # per stage
    rank: int = 8
    alpha: float | None = None  # delta scale α/r; None: α = r (scale 1)
    lr: float = 1e-3
    batch_size: int = 20
    ema_decay: float | None = 0.999
    ema_start: int = 0
    grad_clip: float | None = None
    detach: bool = False  # switch on APFM's stop-gradient hooks for the frozen side

    def __post_init__(self) -> None:
        unknown = set(self.order) - set(BRANCHES)
        if unknown or not self.order:
            raise ValueError(f"L-BAF order must list branches from {BRANCHES}, got {self.order!r}")
        if self.rounds < 0 or self.iterations < 0 or self.rank < 1:
            raise ValueError("L-BAF needs rounds >= 0, iterations >= 0 and rank >= 1")

    @property
    def stages(self) -> tuple[str, ...]:
        """The branch of every fine-tuning stage, in order."""
        return tuple(self.order) * self.rounds

    @property
    def scale(self) -> float:
        return (self.alpha if self.alpha is not None else self.rank) / self.rank

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["order"] = list(self.order)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LBAFConfig:
        values = dict(data)
        values["order"] = tuple(values.get("order", ()))
        return cls(**values)


class LowRankDelta(nn.Module):
    """Parametrisation W ↦ W + scale·(U D).view_as(W) of a Linear or Conv2d weight."""

    def __init__(self, weight: torch.Tensor, rank: int, scale: float):
        super().__init__()
        out_features, fan_in = weight.shape[0], weight[0].numel()
        rank = min(rank, out_features, fan_in)
        self.scale = scale
        self.down = nn.Parameter(torch.empty(rank, fan_in, dtype=weight.dtype, device=weight.device))
        self.up = nn.Parameter(torch.zeros(out_features, rank, dtype=weight.dtype, device=weight.device))
        nn.init.kaiming_uniform_(self.down, a=math.sqrt(5))

    def delta(self) -> torch.Tensor:
        return self.scale * (self.up @ self.down)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight + self.delta().view_as(weight)


def adaptable_modules(net: nn.Module, branch: str) -> Iterator[tuple[str, nn.Module]]:
    """The (name, module) pairs of ``branch`` that get a low-rank delta: Linear layers and
    full (groups = 1) convolutions; depthwise convolutions have no useful low rank."""
    if branch not in BRANCHES:
        raise ValueError(f"branch must be one of {BRANCHES}, got {branch!r}")
    for name, module in net.named_modules():
        is_linear = isinstance(module, nn.Linear)
        is_conv = isinstance(module, nn.Conv2d) and module.groups == 1
        if (is_linear or is_conv) and net.branch_of(f"{name}.weight") == branch:  # type: ignore[operator]
            yield name, module


def attach_adapters(net: nn.Module, branch: str, rank: int, scale: float = 1.0) -> list[str]:
    """Freeze ``net`` and add a trainable low-rank delta to every adaptable weight of ``branch``.

    Returns the names of the adapted modules. Initialisation draws from torch's global RNG.
    """
    if any(parametrize.is_parametrized(m) for m in net.modules()):
        raise RuntimeError("the network already carries adapters; merge them first")
    for p in net.parameters():
        p.requires_grad_(False)
    names = []
    for name, module in list(adaptable_modules(net, branch)):
        parametrize.register_parametrization(module, "weight", LowRankDelta(module.weight, rank, scale))
        names.append(name)
    return names


def merge_adapters(net: nn.Module) -> int:
    """Fold every low-rank delta into its weight, remove the adapters and unfreeze the network.

    Afterwards the state dict has the plain SSNet keys again. Returns how many were merged.
    """
    merged = 0
    for module in net.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            merged += 1
    for p in net.parameters():
        p.requires_grad_(True)
    return merged


def adapter_parameters(net: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable adapter tensors (U and D of every delta), by name."""
    return {name: p for name, p in net.named_parameters() if ".parametrizations.weight.0." in name}


class BranchTuning(nn.Module):
    """The network during one L-BAF stage: ``forward`` is the network's; ``train()`` keeps the
    frozen branch's (and shared) BatchNorms in eval mode so their statistics stay fixed."""

    def __init__(self, net: nn.Module, branch: str, rank: int, scale: float = 1.0, detach: bool = False):
        super().__init__()
        self.net = net
        self.branch = branch
        self.adapted = attach_adapters(net, branch, rank, scale)
        frozen_side = "spectral" if branch == "spatial" else "spatial"
        for module in net.modules():
            if isinstance(module, APFM):
                module.detach = frozen_side if detach else None

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.net(*args, **kwargs)

    def train(self, mode: bool = True) -> BranchTuning:
        super().train(mode)
        for name, module in self.net.named_modules():
            if (
                isinstance(module, nn.modules.batchnorm._BatchNorm)
                and self.net.branch_of(f"{name}.weight") != self.branch
            ):  # type: ignore[operator]
                module.eval()
        return self

    def finish(self) -> nn.Module:
        """Merge the adapters, switch the stop-gradient hooks off and return the plain network."""
        merge_adapters(self.net)
        for module in self.net.modules():
            if isinstance(module, APFM):
                module.detach = None
        return self.net
