"""APFM — the alternating projection fusion module ("Fusformer" block, the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)).

It updates the *spectral* token stream X with information from the *spatial* stream Y:

* one LayerNorm (shared affine parameters) normalises both streams;
* four bias-free projections: Ta = W_sa1·Y, Tb = W_sa2·Y (spatial side), Tc = W_se1·X,
  Td = W_se2·X (spectral side), split into heads of ``dim_head``;
* spatial projection O₁ = softmax(Ta Tbᵀ / sqrt(d)) · Tc — an n×n attention map from PAN
  features that re-arranges the spectral values (n = H·W tokens);
* spectral projection O₂ = Ta · softmax(Tcᵀ Td · d^-½ · d/n) — a d×d channel map from LMS
  features applied to the spatial values; the 1/n makes Tcᵀ Td a per-token mean, so the map
  does not depend on the tile size (the overview figure's sqrt(S')³/(HW) is not what the code
  computes; the code's factor is used);
* X ← X + Linear(merge(O₁ ⊙ O₂)), then a LeakyReLU feed-forward of hidden width ``ffn_hidden``.

Attribute names reproduce the released state dict (``layers.0.0.fn.norm``, ``…fn.fn.sa1``, …).
The n×n map is why SSDiff runs on 64×64 tiles (:mod:`fusionbench.tiling`).

``detach`` implements the stop-gradient hooks the released code leaves commented out for its
branch-wise fine-tuning (§3.7): ``"spectral"`` stops gradients through X, Tc and O₂ (only the
spatial projection learns), ``"spatial"`` through Y and O₁. L-BAF may switch it on per stage.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DETACH_MODES = (None, "spectral", "spatial")


class _Projections(nn.Module):
    """The four branch projections and the output map (the released ``fn.fn`` attention)."""

    def __init__(self, dim: int, heads: int, dim_head: int):
        super().__init__()
        inner = heads * dim_head
        if inner != dim:
            raise ValueError(f"APFM needs heads·dim_head == dim, got {heads}·{dim_head} != {dim}")
        self.heads, self.dim_head = heads, dim_head
        self.sa1 = nn.Linear(dim, inner, bias=False)  # Ta, from the spatial (PAN) tokens
        self.sa2 = nn.Linear(dim, inner, bias=False)  # Tb, from the spatial tokens
        self.se1 = nn.Linear(dim, inner, bias=False)  # Tc, from the spectral (LMS) tokens
        self.se2 = nn.Linear(dim, inner, bias=False)  # Td, from the spectral tokens
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(0.0))

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        b, n, _ = t.shape
        return t.view(b, n, self.heads, self.dim_head).transpose(1, 2)  # (B, h, n, d)

    def forward(self, x: torch.Tensor, y: torch.Tensor, detach: str | None = None) -> torch.Tensor:
        """Fusion increment Z for normalised spectral tokens x and spatial tokens y, (B, n, dim)."""
        if detach == "spectral":
            x = x.detach()
        elif detach == "spatial":
            y = y.detach()
        ta, tb = self._split(self.sa1(y)), self._split(self.sa2(y))
        tc, td = self._split(self.se1(x)), self._split(self.se2(x))
        n, d = ta.shape[-2], self.dim_head
        if detach == "spectral":
            tc = tc.detach()
        # spatial projection: n×n attention from PAN features, applied to spectral values
        o1 = F.scaled_dot_product_attention(ta, tb, tc)  # softmax(Ta Tbᵀ/sqrt(d)) Tc
        # spectral projection: d×d channel attention from LMS features, applied to spatial values
        a_spe = torch.softmax((tc.transpose(-2, -1) @ td) * (d**-0.5 * d / n), dim=-1)
        o2 = ta @ a_spe
        if detach == "spectral":
            o2 = o2.detach()
        elif detach == "spatial":
            o1 = o1.detach()
        fused = (o1 * o2).transpose(1, 2).reshape(x.shape[0], n, self.heads * d)
        return self.to_out(fused)


class _FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(), nn.Dropout(0.0), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _PreNorm(nn.Module):
    """LayerNorm then ``fn``; the attention variant normalises both streams with the same norm."""

    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn


class _Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn


class APFM(nn.Module):
    """One Fusformer block of depth 1: (B, c, H, W) spectral and spatial maps → new spectral map."""

    def __init__(self, dim: int, heads: int, dim_head: int, ffn_hidden: int):
        super().__init__()
        attention = _Residual(_PreNorm(dim, _Projections(dim, heads, dim_head)))
        feed_forward = _Residual(_PreNorm(dim, _FeedForward(dim, ffn_hidden)))
        self.layers = nn.ModuleList([nn.ModuleList([attention, feed_forward])])
        self.detach: str | None = None  # stop-gradient mode for branch-wise fine-tuning

    def forward(self, spectral: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        if spectral.shape != spatial.shape:
            raise ValueError(f"APFM branches differ in shape: {tuple(spectral.shape)} vs {tuple(spatial.shape)}")
        b, c, h, w = spectral.shape
        x = spectral.flatten(2).transpose(1, 2)  # (B, n, c)
        y = spatial.flatten(2).transpose(1, 2)
        attention, feed_forward = self.layers[0]
        norm = attention.fn.norm
        x_in = x.detach() if self.detach == "spectral" else x
        x = x_in + attention.fn.fn(norm(x), norm(y), self.detach)
        x = x + feed_forward.fn.fn(feed_forward.fn.norm(x))
        return x.transpose(1, 2).reshape(b, c, h, w)
