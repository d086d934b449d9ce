"""The DDIF denoising network "UNetSR3" (the DDIF paper (Cao et al., Information Fusion 2024; arXiv 2304.04774) and its released code), re-implemented from the specification.

A 4-level SR3-style UNet whose encoder blocks are modulated by the coarse condition [LMS, PAN]
(CSM, an SFT-like spatial affine) and whose decoder blocks cross-attend to the Haar wavelet
coefficients [LL(LMS), details(PAN)] (FWM, a linear-memory "channel" attention). Module and
attribute names follow the released state dict (``downs.{i}``, ``cond_inj.body.{0,1,3}``, …) so a
released checkpoint loads unchanged; 702 tensors and 10,397,208 parameters for WV3 (C=8, Cp=1).

The network predicts in the residual space x = HRMS − LMS (data divided by the sensor maximum);
see :mod:`.condition` for the condition tensor and :mod:`.model` for the diffusion around it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that determines the architecture (stored in checkpoints' config.json)."""

    channels: int  # C: bands of the LMS / output
    pan_channels: int = 1  # Cp: 1 for pansharpening, 3 (RGB) for MHIF
    inner_channel: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2, 4)
    res_blocks: int = 3
    attn_levels: tuple[int, ...] = (3,)  # 0-based levels with self-attention (nominal 8x8 of 64)
    dropout: float = 0.2  # second conv of every ResnetBlock
    drop_path: float = 0.2  # stochastic depth of the FWM feed-forward branch
    heads: int = 8  # self-attention and FWM heads
    time_dim: int | None = None  # time-embedding width; None = inner_channel (as released)

    @property
    def coarse_channels(self) -> int:
        """Channels of the CSM condition [LMS, PAN]."""
        return self.channels + self.pan_channels

    @property
    def wavelet_channels(self) -> int:
        """Channels of the FWM condition [LL(LMS), 3 detail sub-bands of PAN]."""
        return self.channels + 3 * self.pan_channels

    @property
    def cond_channels(self) -> int:
        return self.coarse_channels + self.wavelet_channels

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (one halving per level transition)."""
        return 2 ** (len(self.channel_mults) - 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["channel_mults"] = list(self.channel_mults)
        data["attn_levels"] = list(self.attn_levels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        data = dict(data)
        data["channel_mults"] = tuple(data["channel_mults"])
        data["attn_levels"] = tuple(data["attn_levels"])
        return cls(**data)


# -- building blocks ------------------------------------------------------------------------------
class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch of a sample with probability p (training only)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), device=x.device, dtype=x.dtype).bernoulli_(keep)
        return x * mask / keep


class TimestepEncoding(nn.Module):
    """Sinusoidal encoding of the integer timestep: [sin(t·f_k), cos(t·f_k)], f_k = 10^(-4k/(d/2))."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        dtype = t.dtype if t.is_floating_point() else torch.float32
        half = self.dim // 2
        freqs = torch.exp(-math.log(1e4) * torch.arange(half, device=t.device, dtype=dtype) / half)
        angles = t.to(dtype)[:, None] * freqs[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class Block(nn.Module):
    """GroupNorm(1) → Swish → Dropout (Identity when p = 0) → Conv3×3; indices 0 and 3 as released."""

    def __init__(self, dim: int, dim_out: int, dropout: float = 0.0):
        super().__init__()
        self.block = nn.Sequential(
            nn.GroupNorm(1, dim),
            Swish(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv2d(dim, dim_out, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class NoiseAffine(nn.Module):
    """Additive time injection: h + Linear(temb) broadcast over H, W (no scale)."""

    def __init__(self, time_dim: int, channels: int):
        super().__init__()
        self.noise_func = nn.Sequential(nn.Linear(time_dim, channels))

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        return h + self.noise_func(temb)[:, :, None, None]


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_dim: int, dropout: float):
        super().__init__()
        self.noise_func = NoiseAffine(time_dim, dim_out)
        self.block1 = Block(dim, dim_out)
        self.block2 = Block(dim_out, dim_out, dropout=dropout)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.noise_func(self.block1(x), temb)
        return self.block2(h) + self.res_conv(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention over all positions; logits scaled by 1/sqrt(C) (total channels,
    as released), q/k/v interleaved per head in the qkv projection."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(1, channels)
        self.qkv = nn.Conv2d(channels, channels * 3, 1, bias=False)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).view(b, self.heads, 3 * (c // self.heads), h * w)
        q, k, v = (part.transpose(-1, -2) for part in qkv.chunk(3, dim=2))  # (B, heads, N, c/heads)
        out = F.scaled_dot_product_attention(q, k, v, scale=1.0 / math.sqrt(c))
        return x + self.out(out.transpose(-1, -2).reshape(b, c, h, w))


def _resize(cond: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear (align_corners=False) resize of a condition to a feature map's resolution."""
    if cond.shape[-2:] == like.shape[-2:]:
        return cond
    return F.interpolate(cond, size=like.shape[-2:], mode="bilinear", align_corners=False)


class CoarseStyleModulation(nn.Module):
    """CSM: x' = Conv1×1(x) ⊙ (1 + γ) + β, with (γ, β) predicted from [LMS, PAN] at this resolution.
    The last 1×1 conv is zero-initialised, so the modulation starts as the identity."""

    def __init__(self, dim: int, dim_out: int, cond_channels: int):
        super().__init__()
        hidden = 4 * dim_out
        self.body = nn.Sequential(
            nn.Conv2d(cond_channels, hidden, 3, padding=1, bias=False),
            nn.GroupNorm(1, hidden),
            nn.SiLU(),
            nn.Conv2d(hidden, 2 * dim_out, 1),
        )
        nn.init.zeros_(self.body[3].weight)
        nn.init.zeros_(self.body[3].bias)
        self.x_conv = nn.Conv2d(dim, dim_out, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.body(_resize(cond, x)).chunk(2, dim=1)
        return self.x_conv(x) * (1 + gamma) + beta


class FineWaveletModulation(nn.Module):
    """FWM: linear-memory cross-attention, queries from the features, keys/values from the wavelet
    coefficients, then a gated conv feed-forward with stochastic depth.

    Memory is O(N·d): per head the d/h × d/h context k·vᵀ is formed first, never an N × N map.
    q is softmax-normalised over the height axis and k over the width axis — the released code's
    choice (not the usual channel/position normalisation), kept because checkpoints depend on it.
    """

    def __init__(self, dim: int, dim_out: int, cond_channels: int, heads: int, drop_path: float):
        super().__init__()
        if dim % heads:
            raise ValueError(f"FWM width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.prenorm_x = nn.GroupNorm(1, dim)
        self.q = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, groups=dim, bias=False), nn.Conv2d(dim, dim, 1))
        self.kv = nn.Sequential(
            nn.Conv2d(cond_channels, cond_channels, 3, padding=1, groups=cond_channels, bias=False),
            nn.Conv2d(cond_channels, 2 * dim, 1),
        )
        self.attn_out = nn.Conv2d(dim, dim_out, 1)
        self.attn_res = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()
        self.ffn = nn.Sequential(
            nn.Conv2d(dim_out, 2 * dim_out, 3, padding=1, bias=False),
            nn.SiLU(),
            nn.Conv2d(2 * dim_out, dim_out, 3, padding=1, bias=False),
            nn.Conv2d(dim_out, dim_out, 1),
        )
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, d, h, w = x.shape
        x = self.prenorm_x(x)
        q = self.q(x).softmax(dim=-2)
        k, v = self.kv(_resize(cond, x)).chunk(2, dim=1)
        k = k.softmax(dim=-1)
        head_dim = d // self.heads
        q, k, v = (t.reshape(b, self.heads, head_dim, h * w) for t in (q, k, v))
        q = q * head_dim**-0.5
        context = k @ v.transpose(-1, -2)  # (B, heads, d/h, d/h): sum over the N positions
        out = (context.transpose(-1, -2) @ q).reshape(b, d, h, w)
        a = self.attn_out(out) + self.attn_res(x)
        return a + self.drop_path(self.ffn(a))


class EncoderBlock(nn.Module):
    """CSM → ResnetBlock (→ SelfAttention at attention levels)."""

    def __init__(self, dim: int, dim_out: int, config: NetworkConfig, time_dim: int, attn: bool):
        super().__init__()
        self.cond_inj = CoarseStyleModulation(dim, dim_out, config.coarse_channels)
        self.res_block = ResnetBlock(dim_out, dim_out, time_dim, config.dropout)
        self.attn = SelfAttention(dim_out, config.heads) if attn else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = self.res_block(self.cond_inj(x, cond), temb)
        return self.attn(x) if self.attn is not None else x


class DecoderBlock(nn.Module):
    """FWM → ResnetBlock (→ SelfAttention at attention levels)."""

    def __init__(self, dim: int, dim_out: int, config: NetworkConfig, time_dim: int, attn: bool):
        super().__init__()
        self.cond_inj = FineWaveletModulation(dim, dim_out, config.wavelet_channels, config.heads, config.drop_path)
        self.res_block = ResnetBlock(dim_out, dim_out, time_dim, config.dropout)
        self.attn = SelfAttention(dim_out, config.heads) if attn else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = self.res_block(self.cond_inj(x, cond), temb)
        return self.attn(x) if self.attn is not None else x


class MidBlock(nn.Module):
    """Unconditioned ResnetBlock (+ SelfAttention): the bottleneck."""

    def __init__(self, dim: int, config: NetworkConfig, time_dim: int, attn: bool):
        super().__init__()
        self.res_block = ResnetBlock(dim, dim, time_dim, config.dropout)
        self.attn = SelfAttention(dim, config.heads) if attn else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        x = self.res_block(x, temb)
        return self.attn(x) if self.attn is not None else x


class Downsample(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


# -- the network ----------------------------------------------------------------------------------
class UNetSR3(nn.Module):
    """``forward(x_t, t, cond, self_cond=None) -> x̂0`` (residual space), all (B, ·, H, W).

    ``cond`` is the full condition stack [LMS (C), PAN (Cp), upsampled wavelets (C + 3Cp)]; the
    encoder reads its first C+Cp channels, the decoder the rest. ``self_cond`` defaults to x_t
    (what training's no-self-conditioning branch and the released sampler feed).
    """

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        inner = config.inner_channel
        time_dim = config.time_dim or inner
        self.noise_level_mlp = nn.Sequential(
            TimestepEncoding(inner), nn.Linear(inner, inner * 4), Swish(), nn.Linear(inner * 4, time_dim)
        )
        levels = len(config.channel_mults)
        skip_channels = [inner]
        downs: list[nn.Module] = [nn.Conv2d(2 * config.channels, inner, 3, padding=1)]
        current = inner
        for level, mult in enumerate(config.channel_mults):
            width = inner * mult
            for _ in range(config.res_blocks):
                downs.append(EncoderBlock(current, width, config, time_dim, level in config.attn_levels))
                skip_channels.append(width)
                current = width
            if level != levels - 1:
                downs.append(Downsample(current))
                skip_channels.append(current)
        self.downs = nn.ModuleList(downs)
        self.mid = nn.ModuleList(
            [MidBlock(current, config, time_dim, attn=True), MidBlock(current, config, time_dim, attn=False)]
        )
        ups: list[nn.Module] = []
        for level in reversed(range(levels)):
            width = inner * config.channel_mults[level]
            for _ in range(config.res_blocks + 1):
                ups.append(
                    DecoderBlock(current + skip_channels.pop(), width, config, time_dim, level in config.attn_levels)
                )
                current = width
            if level != 0:
                ups.append(Upsample(current))
        self.ups = nn.ModuleList(ups)
        self.final_conv = Block(current, config.channels)

    def forward(
        self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, self_cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        cfg = self.config
        if cond.shape[1] != cfg.cond_channels:
            raise ValueError(f"DDIF condition has {cond.shape[1]} channels, expected {cfg.cond_channels}")
        coarse, wavelets = cond[:, : cfg.coarse_channels], cond[:, cfg.coarse_channels :]
        temb = self.noise_level_mlp(t)
        x = torch.cat([x_t if self_cond is None else self_cond, x_t], dim=1)
        skips = []
        for layer in self.downs:
            x = layer(x, temb, coarse) if isinstance(layer, EncoderBlock) else layer(x)
            skips.append(x)
        for block in self.mid:
            x = block(x, temb)
        for layer in self.ups:
            if isinstance(layer, DecoderBlock):
                x = layer(torch.cat([x, skips.pop()], dim=1), temb, wavelets)
            else:
                x = layer(x)
        return self.final_conv(x)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
