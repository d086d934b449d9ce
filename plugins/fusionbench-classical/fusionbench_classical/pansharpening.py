"""Component-substitution and interpolation pansharpening baselines (batched torch)."""

from __future__ import annotations

import torch

from fusionbench import FusionBatch

_EPS = 1e-12


class Expansion:
    """EXP: returns the upsampled MS. Every method should beat it; it anchors the leaderboard."""

    def fuse(self, batch: FusionBatch, *, sampler=None, generator=None) -> torch.Tensor:
        return batch.inputs["lms"].clone()


class Brovey:
    """Brovey transform: F_b = lms_b * P / I with I the band mean of lms and P the PAN matched to I
    in mean and standard deviation (per image), as in the pansharpening toolbox."""

    def fuse(self, batch: FusionBatch, *, sampler=None, generator=None) -> torch.Tensor:
        lms = batch.inputs["lms"]
        pan = batch.inputs["pan"]
        intensity = lms.mean(dim=1, keepdim=True)
        dims = (1, 2, 3)
        pan_std = pan.std(dim=dims, keepdim=True, unbiased=True)
        matched = (pan - pan.mean(dim=dims, keepdim=True)) * (
            intensity.std(dim=dims, keepdim=True, unbiased=True) / pan_std.clamp_min(_EPS)
        ) + intensity.mean(dim=dims, keepdim=True)
        return lms * (matched / intensity.clamp_min(_EPS))
