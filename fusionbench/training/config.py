"""Training hyper-parameters (pure data: importable without torch, stored in checkpoints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypeVar

AMP_MODES = ("auto", "bf16", "fp16", "off")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Defaults are generic; model presets set their own (DDIF: see plugins/fusionbench-ddif/README.md).

    ``ema_start``: the EMA copy *follows* the online weights until this many optimizer steps and
    averages afterwards (Dif-PAN: 20,000); ``ema_decay=None`` disables the EMA. ``amp="auto"``
    uses bf16 autocast on CUDA devices that support it (fp16 + GradScaler otherwise) and full
    precision on the CPU. ``lr_milestones`` are optimizer steps where the LR is multiplied by
    ``lr_gamma`` (MultiStepLR, stepped every iteration).
    """

    iterations: int
    batch_size: int
    lr: float = 1e-4
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float | None = 1.0
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    ema_decay: float | None = 0.999
    ema_start: int = 0
    amp: str = "auto"
    log_every: int = 50
    checkpoint_every: int = 0  # 0: only at the end
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 0 or self.batch_size < 1:
            raise ValueError("iterations must be >= 0 and batch_size >= 1")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {AMP_MODES}, got {self.amp!r}")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1) or None")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["betas"] = list(self.betas)
        data["lr_milestones"] = list(self.lr_milestones)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        if "lr_milestones" in values:
            values["lr_milestones"] = tuple(values["lr_milestones"])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with the non-None overrides applied (command-line options)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PresetT = TypeVar("PresetT")


def lookup_preset(presets: Mapping[str, PresetT], name: str, *, label: str) -> PresetT:
    """``presets[name]``, or a ValueError that lists the known names (a typo in ``-m
    'ddif[preset=...]'`` should say what would have worked)."""
    try:
        return presets[name]
    except KeyError:
        raise ValueError(f"unknown {label} preset {name!r}; known: {', '.join(presets)}") from None
