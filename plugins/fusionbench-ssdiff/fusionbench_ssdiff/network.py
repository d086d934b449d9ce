"""SSNet, SSDiff's dual-branch denoising network (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)), re-implemented from the spec.

Two branches run side by side over five levels (widths d, 2d, 4d, 2d, d; resolutions H, H/2,
H/4, H/2, H):

* the **spectral branch** starts from [LMS, x_t] and is the one that produces the output; at
  every level an APFM (:mod:`.apfm`) fuses spatial information into it;
* the **spatial branch** starts from [PAN, x_t] and evolves through time-conditioned ResBlocks;
* **FMIM** (frequency modulation inter-branch module, FreeU-like) scales the first half of the
  spectral channels by b_ℓ and scales the 2×2 lowest Fourier frequencies of the spatial
  features by c_ℓ before they enter APFM ℓ (constants below; the code labels them "gf5");
* Down/Up modules are *shared* by the two branches (one instance per level);
* the output is x̂0 (the residual HRMS − LMS) = to_hrms(spectral) + a learned ×4 upsampling of
  the MS image (conv + PixelShuffle).

Attribute names reproduce the released state dict so released checkpoints load unchanged.
With ``keep_unused=True`` the modules the released class defines but never calls are built too
(``raise_ms_dim``, ``raise_pan_dim``, ``conv_x_t``, ``Down.maxpool_conv``, ``Up.up0``):
126,592 parameters for d = 32, giving the released total of 1,426,616 for C = 8.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .apfm import APFM

FMIM_BACKBONE = (1.2, 1.4, 1.6, 1.4, 1.2)
"""b_ℓ: factor on the first half of the spectral channels entering APFM ℓ (levels 1..5)."""
FMIM_SKIP = (0.9, 0.6, 0.3, 0.6, 0.9)
"""c_ℓ: factor on the central 2×2 (lowest) frequencies of the spatial features at level ℓ."""
FMIM_THRESHOLD = 1
"""Half-size of the scaled frequency block around DC (1 → a 2×2 block after fftshift)."""


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that determines the architecture (stored in checkpoints' config.json)."""

    channels: int  # C: MS bands (8 for WV3/WV2, 4 for QB/GF2)
    pan_channels: int = 1
    dim: int = 32  # level-1 width; levels are d, 2d, 4d, 2d, d
    dim_head: int = 16  # APFM head width (heads = width / dim_head)
    model_channels: int = 128  # sinusoidal time-encoding width; the embedding is 4× this
    ffn_ratio: float = 0.5  # APFM feed-forward hidden = ratio · width
    res_ratio: float = 0.5  # ResBlock hidden = ratio · width
    norm_groups: int = 32  # GroupNorm groups in the ResBlocks
    ratio: int = 4  # MS → PAN scale of the learned upsampler
    keep_unused: bool = True  # build the released code's never-called modules (exact count, strict loading)
    smooth_init: bool = False  # zero MS-upsampler conv and tap-shared transposed convs at init (see SSNet)
    fmim_backbone: tuple[float, ...] = field(default=FMIM_BACKBONE)
    fmim_skip: tuple[float, ...] = field(default=FMIM_SKIP)

    def __post_init__(self) -> None:
        widths = self.widths
        if self.dim % 2 or self.dim < 2:
            raise ValueError(f"dim must be even and >= 2, got {self.dim}")
        for width in set(widths):
            if width % self.dim_head:
                raise ValueError(f"width {width} is not a multiple of dim_head {self.dim_head}")
            if width % self.norm_groups:
                raise ValueError(f"width {width} is not a multiple of norm_groups {self.norm_groups}")
        if len(self.fmim_backbone) != 5 or len(self.fmim_skip) != 5:
            raise ValueError("fmim_backbone and fmim_skip need one value per level (5)")

    @property
    def widths(self) -> tuple[int, int, int, int, int]:
        d = self.dim
        return (d, 2 * d, 4 * d, 2 * d, d)

    @property
    def size_multiple(self) -> int:
        """PAN-size inputs must be multiples of this: two halvings, and MS at 1/ratio."""
        return math.lcm(4, self.ratio)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fmim_backbone"] = list(self.fmim_backbone)
        data["fmim_skip"] = list(self.fmim_skip)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        values = dict(data)
        for key in ("fmim_backbone", "fmim_skip"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal encoding of a float timestep, [cos(t·f_k), sin(t·f_k)] with f_k = P^(-k/half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


def zero_module(module: nn.Module) -> nn.Module:
    """Zero a module's parameters: the block it closes starts as the identity / a zero branch."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class Down(nn.Module):
    """×½: Conv2×2 stride 2 → LReLU → Conv1×1 → depthwise Conv3×3 → LReLU (``conv``).
    ``maxpool_conv`` exists in the released class but is never called (``keep_unused``)."""

    def __init__(self, cin: int, cout: int, keep_unused: bool):
        super().__init__()
        if keep_unused:
            self.maxpool_conv = nn.Sequential(
                nn.MaxPool2d(2),
                nn.Conv2d(cin, cout, 1),
                nn.Conv2d(cout, cout, 3, padding=1, groups=cout),
                nn.LeakyReLU(),
            )
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cin, 2, stride=2),
            nn.LeakyReLU(),
            nn.Conv2d(cin, cout, 1),
            nn.Conv2d(cout, cout, 3, padding=1, groups=cout),
            nn.LeakyReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Up(nn.Module):
    """×2: ConvTranspose2×2 stride 2 → LReLU (``up1``), add the skip, LReLU(Conv3×3).
    ``up0`` exists in the released class but is never called (``keep_unused``)."""

    def __init__(self, cin: int, cout: int, keep_unused: bool):
        super().__init__()
        if keep_unused:
            self.up0 = nn.Sequential(
                nn.ConvTranspose2d(cin, cin, 2, stride=2),
                nn.LeakyReLU(),
                nn.Conv2d(cin, cout, 1),
                nn.Conv2d(cout, cout, 3, padding=1, groups=cout),
                nn.LeakyReLU(),
            )
        self.up1 = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, stride=2), nn.LeakyReLU())
        self.conv = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(self.up1(x) + skip))


def embedding_layers(emb_dim: int, width: int) -> nn.Sequential:
    """SiLU → Linear(emb → width): the per-channel time offset (released ``emb_layers``)."""
    return nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, width))


def output_layers(width: int, norm: nn.Module) -> nn.Sequential:
    """norm → SiLU → Dropout(0) → zero-initialised Conv3×3 (released ``out_layers``): the block
    it closes starts as a zero branch, so training starts from the skip paths."""
    return nn.Sequential(norm, nn.SiLU(), nn.Dropout(0.0), zero_module(nn.Conv2d(width, width, 3, padding=1)))


def inject_time(h: torch.Tensor, emb: torch.Tensor, emb_layers: nn.Module, out_layers: nn.Module) -> torch.Tensor:
    """out_layers(h + emb_layers(emb)) with the offset broadcast over H, W (no scale-shift norm)."""
    return out_layers(h + emb_layers(emb)[:, :, None, None].to(h.dtype))


class ResBlock(nn.Module):
    """x + out_layers(Conv3×3(LReLU(Conv3×3(x))) + emb offset), hidden width ``hidden``, GroupNorm."""

    def __init__(self, width: int, hidden: int, emb_dim: int, groups: int):
        super().__init__()
        self.conv0 = nn.Conv2d(width, hidden, 3, padding=1)
        self.conv1 = nn.Conv2d(hidden, width, 3, padding=1)
        self.emb_layers = embedding_layers(emb_dim, width)
        self.out_layers = output_layers(width, nn.GroupNorm(groups, width))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.leaky_relu(self.conv0(x)))
        return x + inject_time(h, emb, self.emb_layers, self.out_layers)


def fourier_lowpass_scale(x: torch.Tensor, scale: float, threshold: int = FMIM_THRESHOLD) -> torch.Tensor:
    """FMIM's spatial modulation: multiply the central (2·threshold)² block of the fftshifted
    spectrum by ``scale`` and return the real part of the inverse FFT (computed in float32)."""
    dtype = x.dtype
    spectrum = torch.fft.fftshift(torch.fft.fft2(x.float(), dim=(-2, -1)), dim=(-2, -1))
    h, w = spectrum.shape[-2:]
    cy, cx = h // 2, w // 2
    mask = torch.ones(h, w, device=x.device)
    mask[max(cy - threshold, 0) : cy + threshold, max(cx - threshold, 0) : cx + threshold] = scale
    filtered = torch.fft.ifft2(torch.fft.ifftshift(spectrum * mask, dim=(-2, -1)), dim=(-2, -1)).real
    return filtered.to(dtype)


def scale_first_half(x: torch.Tensor, factor: float) -> torch.Tensor:
    """FMIM's backbone scaling: the first half of the channels × ``factor`` (out of place)."""
    c = x.shape[1]
    scale = torch.ones(c, dtype=x.dtype, device=x.device)
    scale[: c // 2] = factor
    return x * scale[None, :, None, None]


class SSNet(nn.Module):
    """SSDiff's denoiser: ``net(lms, pan, ms, x_t, t) -> x̂0`` (residual HRMS − LMS, C×H×W)."""

    SPATIAL_PREFIXES = ("conv_pan2x_t", "emb_layers_pan", "out_layers_pan", "resblock")
    SPECTRAL_PREFIXES = ("conv_lms2x_t", "emb_layers_lms", "out_layers_lms", "upsample", "to_hrms")

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = cfg = config
        c, d = cfg.channels, cfg.dim
        emb_dim = 4 * cfg.model_channels
        widths = cfg.widths
        self.upsample = nn.Module()
        self.upsample.upsamle = nn.Sequential(  # (sic) released name
            nn.Conv2d(c, c * cfg.ratio**2, 3, padding=1, bias=False), nn.PixelShuffle(cfg.ratio)
        )
        if cfg.keep_unused:
            self.raise_ms_dim = nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.LeakyReLU())
            self.raise_pan_dim = nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.LeakyReLU())
        self.to_hrms = nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.LeakyReLU(), nn.Conv2d(d, c, 3, padding=1))
        self.time_embed = nn.Sequential(nn.Linear(cfg.model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv_lms2x_t = nn.Conv2d(2 * c, d, 3, padding=1)
        self.conv_pan2x_t = nn.Conv2d(c + cfg.pan_channels, d, 3, padding=1)
        if cfg.keep_unused:
            self.conv_x_t = nn.Conv2d(c, d, 3, padding=1)
        for level, width in enumerate(widths):
            heads = width // cfg.dim_head
            setattr(self, f"fusformer{level}", APFM(width, heads, cfg.dim_head, int(width * cfg.ffn_ratio)))
            if level < 4:
                setattr(self, f"resblock{level}", ResBlock(width, int(width * cfg.res_ratio), emb_dim, cfg.norm_groups))
        self.down0 = Down(widths[0], widths[1], cfg.keep_unused)
        self.down1 = Down(widths[1], widths[2], cfg.keep_unused)
        self.up0 = Up(widths[2], widths[3], cfg.keep_unused)
        self.up1 = Up(widths[3], widths[4], cfg.keep_unused)
        # branch heads: BatchNorm (norm_type "bn"); names as released
        self.out_layers_pan = output_layers(d, nn.BatchNorm2d(d))
        self.out_layers_lms = output_layers(d, nn.BatchNorm2d(d))
        self.emb_layers_pan = embedding_layers(emb_dim, d)
        self.emb_layers_lms = embedding_layers(emb_dim, d)
        if cfg.smooth_init:
            self._smooth_init()

    @torch.no_grad()
    def _smooth_init(self) -> None:
        """Start without the periodic artefacts of the two sub-pixel layers (tiny preset only).

        With PyTorch's default init the MS upsampler adds a random 4-periodic pattern to the
        residual and each stride-2 transposed conv a 2-periodic checkerboard; the released
        model has 21k iterations to unlearn them, a CPU-sized budget does not. The upsampler
        conv starts at zero (the residual has no low-pass part to add) and every transposed conv
        uses one kernel tap for its whole 2×2 output block (nearest-neighbour upsampling, the
        "ICNR" remedy). Same architecture and parameter count; only the starting point differs.
        """
        nn.init.zeros_(self.upsample.upsamle[0].weight)
        for up in (self.up0, self.up1):
            weight = up.up1[0].weight  # (in, out, 2, 2)
            weight.copy_(weight[:, :, :1, :1].expand_as(weight))

    # -- pieces --------------------------------------------------------------------------------
    def _head(self, branch: str, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return inject_time(h, emb, getattr(self, f"emb_layers_{branch}"), getattr(self, f"out_layers_{branch}"))

    def _fmim(self, level: int, spectral: torch.Tensor, spatial: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        return scale_first_half(spectral, cfg.fmim_backbone[level]), fourier_lowpass_scale(
            spatial, cfg.fmim_skip[level]
        )

    def _fuse(self, level: int, spectral: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        s, p = self._fmim(level, spectral, spatial)
        return getattr(self, f"fusformer{level}")(s, p)

    # -- forward -------------------------------------------------------------------------------
    def forward(
        self, lms: torch.Tensor, pan: torch.Tensor, ms: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        self._check(lms, pan, ms, x_t, t)
        emb = self.time_embed(timestep_embedding(t, self.config.model_channels).to(x_t.dtype))
        upsampled = self.upsample.upsamle(ms)
        s = self._head("lms", self.conv_lms2x_t(torch.cat([lms, x_t], dim=1)), emb)
        p = self._head("pan", self.conv_pan2x_t(torch.cat([pan, x_t], dim=1)), emb)
        # level 1 (H)
        s = self._fuse(0, s, p)
        skip_s1 = s
        s = self.down0(s)
        p = self.resblock0(p, emb)
        skip_p1 = p
        p = self.down0(p)
        # level 2 (H/2)
        s = self._fuse(1, s, p)
        skip_s2 = s
        s = self.down1(s)
        p = self.resblock1(p, emb)
        skip_p2 = p
        p = self.down1(p)
        # level 3 (H/4)
        s = self.up0(self._fuse(2, s, p), skip_s2)
        p = self.up0(self.resblock2(p, emb), skip_p2)
        # level 4 (H/2)
        s = self.up1(self._fuse(3, s, p), skip_s1)
        p = self.up1(self.resblock3(p, emb), skip_p1)
        # level 5 (H): the spatial branch has no ResBlock here
        s = self._fuse(4, s, p)
        return self.to_hrms(s) + upsampled

    def _check(
        self, lms: torch.Tensor, pan: torch.Tensor, ms: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
    ) -> None:
        cfg = self.config
        b, c, h, w = lms.shape
        if c != cfg.channels or x_t.shape != lms.shape:
            raise ValueError(
                f"SSNet({cfg.channels} bands): lms {tuple(lms.shape)} and x_t {tuple(x_t.shape)} must be (B, {cfg.channels}, H, W)"
            )
        if pan.shape != (b, cfg.pan_channels, h, w):
            raise ValueError(f"SSNet: pan {tuple(pan.shape)} must be ({b}, {cfg.pan_channels}, {h}, {w})")
        if ms.shape != (b, c, h // cfg.ratio, w // cfg.ratio) or h % cfg.size_multiple or w % cfg.size_multiple:
            raise ValueError(
                f"SSNet: H×W = {h}×{w} must be multiples of {cfg.size_multiple} and ms {tuple(ms.shape)} "
                f"must be ({b}, {c}, {h // cfg.ratio}, {w // cfg.ratio})"
            )
        if t.shape != (b,):
            raise ValueError(f"SSNet: t must have shape ({b},), got {tuple(t.shape)}")

    def branch_of(self, name: str) -> str:
        """Which branch a parameter belongs to: ``"spatial"``, ``"spectral"`` or ``"shared"``.

        Spatial: the PAN stem/head, the ResBlocks and APFM's PAN-side projections (sa1, sa2).
        Spectral: the LMS stem/head, the MS upsampler, the output head and APFM's LMS-side
        projections (se1, se2), its output map and feed-forward. Shared: the time embedding,
        the Down/Up modules (used by both branches) and APFM's LayerNorm (applied to both).
        """
        if name.startswith(self.SPATIAL_PREFIXES):
            return "spatial"
        if name.startswith(self.SPECTRAL_PREFIXES):
            return "spectral"
        if name.startswith("fusformer"):
            if ".fn.fn.sa" in name:
                return "spatial"
            if ".layers.0.0.fn.norm." in name:  # one LayerNorm applied to both token streams
                return "shared"
            return "spectral"
        return "shared"
