"""The guided-diffusion ("ADM") unconditional UNet, re-implemented from the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM)

Two things drive the design:

* the official ``256x256_diffusion_uncond.pt`` state dict must load **unchanged** (566 tensors,
  552,814,086 parameters), so module names and nesting mirror the checkpoint's key layout
  (``input_blocks.{i}.{j}``, ``middle_block.{j}``, ``output_blocks.{i}.{j}``, ``time_embed.{0,2}``,
  ``out.{0,2}``; inside a ResBlock ``in_layers.{0,2}``, ``emb_layers.1``, ``out_layers.{0,3}``,
  ``skip_connection``; inside an attention block ``norm``, ``qkv``, ``proj_out``);
* the same code builds the project's ``tiny`` grey prior, so :class:`UNetConfig` is a plain,
  JSON-serialisable description that travels with the weights.

Only what DDFM's prior uses is supported (scale-shift norm, ResBlock up/down-sampling, legacy
QKV head order, no class conditioning); other guided-diffusion options are refused loudly rather
than silently built differently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """Hyper-parameters of a guided-diffusion UNet (names follow the published flags)."""

    image_size: int = 256  # only used to turn attention_resolutions into downsampling factors
    in_channels: int = 3
    model_channels: int = 256
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (32, 16, 8)
    channel_mult: tuple[int, ...] = (1, 1, 2, 2, 4, 4)
    num_head_channels: int = 64
    learn_sigma: bool = True
    dropout: float = 0.0
    use_scale_shift_norm: bool = True
    resblock_updown: bool = True
    groups: int = 32  # GroupNorm groups ("GroupNorm32")

    def __post_init__(self) -> None:
        if not self.resblock_updown:
            raise ValueError("only resblock_updown=True (DDFM's prior) is implemented")
        widths = {self.model_channels * m for m in self.channel_mult}
        if any(w % self.groups for w in widths):
            raise ValueError(f"every width {sorted(widths)} must be divisible by groups={self.groups}")

    @property
    def out_channels(self) -> int:
        """ε (in_channels) plus, with learn_sigma, the variance interpolation v (discarded by DDFM)."""
        return self.in_channels * (2 if self.learn_sigma else 1)

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this (one halving per extra level)."""
        return 2 ** (len(self.channel_mult) - 1)

    @property
    def attention_factors(self) -> frozenset[int]:
        return frozenset(self.image_size // r for r in self.attention_resolutions)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["attention_resolutions"] = list(self.attention_resolutions)
        data["channel_mult"] = list(self.channel_mult)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UNetConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown UNet config keys {sorted(unknown)}")
        values = dict(data)
        for key in ("attention_resolutions", "channel_mult"):
            if key in values:
                values[key] = tuple(int(v) for v in values[key])
        return cls(**values)


PAPER_CONFIG = UNetConfig()
"""OpenAI's ``256x256_diffusion_uncond`` flags as DDFM uses them (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM))."""

TINY_CONFIG = UNetConfig(
    image_size=64,
    in_channels=1,
    model_channels=16,
    num_res_blocks=1,
    attention_resolutions=(8,),
    channel_mult=(1, 2, 2, 2),
    num_head_channels=32,
    learn_sigma=False,
    groups=8,
)
"""The project's grey prior: the same architecture (481,649 parameters, 1.9 MB in fp32), small
enough to train on two CPU cores and to run 100 steps per image in seconds."""


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, **cos first** (guided-diffusion's order; the checkpoint depends on it)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 whatever the activation dtype (as the checkpoint was trained)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return super().forward(x.float()).type(x.dtype)


def _zero(module: nn.Module) -> nn.Module:
    """Zero-initialise the last layer of a residual branch (training starts from identity)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """Residual block with timestep conditioning (scale-shift norm) and optional up/down-sampling."""

    def __init__(
        self, channels: int, emb_channels: int, out_channels: int, cfg: UNetConfig, up: bool = False, down: bool = False
    ):
        super().__init__()
        self.up, self.down = up, down
        self.scale_shift = cfg.use_scale_shift_norm
        self.in_layers = nn.Sequential(
            GroupNorm32(cfg.groups, channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1)
        )
        self.emb_layers = nn.Sequential(
            nn.SiLU(), nn.Linear(emb_channels, out_channels * (2 if self.scale_shift else 1))
        )
        self.out_layers = nn.Sequential(
            GroupNorm32(cfg.groups, out_channels),
            nn.SiLU(),
            nn.Dropout(p=cfg.dropout),
            _zero(nn.Conv2d(out_channels, out_channels, 3, padding=1)),
        )
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def _resample(self, x: torch.Tensor) -> torch.Tensor:
        if self.up:
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.down:
            return F.avg_pool2d(x, kernel_size=2, stride=2)
        return x

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        norm, act, conv = self.in_layers
        h = conv(self._resample(act(norm(x))))
        x = self._resample(x)
        emb_out = self.emb_layers(emb).type(h.dtype)[..., None, None]
        if self.scale_shift:
            out_norm, rest = self.out_layers[0], self.out_layers[1:]
            scale, shift = emb_out.chunk(2, dim=1)
            h = rest(out_norm(h) * (1 + scale) + shift)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    """Spatial self-attention with the *legacy* head split: qkv channels are grouped as
    (heads, 3·head_channels) and each head's slice is split into q, k, v."""

    def __init__(self, channels: int, head_channels: int, groups: int):
        super().__init__()
        if channels % head_channels:
            raise ValueError(f"attention width {channels} is not a multiple of num_head_channels={head_channels}")
        self.heads = channels // head_channels
        self.norm = GroupNorm32(groups, channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.proj_out = _zero(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(flat))
        n = qkv.shape[-1]
        ch = c // self.heads
        q, k, v = qkv.reshape(b * self.heads, 3 * ch, n).split(ch, dim=1)
        # softmax((q·ch^-1/4)ᵀ(k·ch^-1/4)) == SDPA's default 1/sqrt(ch) scaling; SDPA avoids the N×N buffer
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        out = out.transpose(1, 2).reshape(b, c, n)
        return (flat + self.proj_out(out)).reshape(b, c, *spatial)


class EmbedSequential(nn.Sequential):
    """A sequential block whose ResBlocks also receive the timestep embedding."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class GuidedDiffusionUNet(nn.Module):
    """The ADM UNet: ``forward(x, t)`` → (B, out_channels, H, W); H, W multiples of ``size_multiple``."""

    def __init__(self, config: UNetConfig = PAPER_CONFIG):
        super().__init__()
        self.config = cfg = config
        mc, emb_ch = cfg.model_channels, cfg.model_channels * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, emb_ch), nn.SiLU(), nn.Linear(emb_ch, emb_ch))

        def attention(ch: int) -> AttentionBlock:
            return AttentionBlock(ch, cfg.num_head_channels, cfg.groups)

        self.input_blocks = nn.ModuleList([EmbedSequential(nn.Conv2d(cfg.in_channels, mc, 3, padding=1))])
        skip_channels, ch, factor = [mc], mc, 1
        last = len(cfg.channel_mult) - 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, emb_ch, mult * mc, cfg)]
                ch = mult * mc
                if factor in cfg.attention_factors:
                    layers.append(attention(ch))
                self.input_blocks.append(EmbedSequential(*layers))
                skip_channels.append(ch)
            if level != last:
                self.input_blocks.append(EmbedSequential(ResBlock(ch, emb_ch, ch, cfg, down=True)))
                skip_channels.append(ch)
                factor *= 2

        self.middle_block = EmbedSequential(ResBlock(ch, emb_ch, ch, cfg), attention(ch), ResBlock(ch, emb_ch, ch, cfg))

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks + 1):
                layers = [ResBlock(ch + skip_channels.pop(), emb_ch, mc * mult, cfg)]
                ch = mc * mult
                if factor in cfg.attention_factors:
                    layers.append(attention(ch))
                if level and i == cfg.num_res_blocks:
                    layers.append(ResBlock(ch, emb_ch, ch, cfg, up=True))
                    factor //= 2
                self.output_blocks.append(EmbedSequential(*layers))

        self.out = nn.Sequential(
            GroupNorm32(cfg.groups, ch), nn.SiLU(), _zero(nn.Conv2d(mc, cfg.out_channels, 3, padding=1))
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        multiple = self.config.size_multiple
        if x.shape[-2] % multiple or x.shape[-1] % multiple:
            raise ValueError(f"input size {tuple(x.shape[-2:])} is not a multiple of {multiple}")
        emb = self.time_embed(timestep_embedding(t, self.config.model_channels).to(x.dtype))
        skips = []
        h = x
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
