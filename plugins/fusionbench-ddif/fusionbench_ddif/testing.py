"""Test helpers: random-weight DDIF checkpoints and fusion batches in native units (no training)."""

from __future__ import annotations

from pathlib import Path

import torch

from fusionbench import DataCard, FusionBatch
from fusionbench.training.checkpoint import save_checkpoint

from .network import NetworkConfig, UNetSR3
from .presets import TINY_NETWORK

WV3 = DataCard(sensor="WV3", ratio=4, bands=8, max_value=2047.0)
CAVE = DataCard(sensor="synthetic-hsi", ratio=4, bands=31, max_value=1.0)


def random_checkpoint(
    directory: Path, channels: int = 8, pan_channels: int = 1, task: str = "pansharpening", seed: int = 0, **network
) -> Path:
    """A complete checkpoint of a randomly initialised (tiny by default) network."""
    torch.manual_seed(seed)
    config = NetworkConfig(channels=channels, pan_channels=pan_channels, **{**TINY_NETWORK, **network})
    net = UNetSR3(config)
    with torch.no_grad():  # CSM starts as the identity; perturb it so the condition matters
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    model_config = {
        "name": "ddif",
        "task": task,
        "network": config.to_dict(),
        "timesteps": 500,
        "schedule": "cosine",
        "parameterization": "x0",
    }
    return save_checkpoint(directory, model_state=net.state_dict(), config={"model": model_config})


def pansharpening_batch(
    height: int = 32, width: int = 32, bands: int = 8, batch: int = 1, seed: int = 0, card: DataCard = WV3
) -> FusionBatch:
    g = torch.Generator().manual_seed(seed)
    scale = card.max_value
    lms = torch.rand(batch, bands, height, width, generator=g, dtype=torch.float64) * 0.8 * scale
    pan = lms.mean(1, keepdim=True) + 0.05 * scale * torch.rand(
        batch, 1, height, width, generator=g, dtype=torch.float64
    )
    ms = lms[..., ::4, ::4]
    return FusionBatch(tuple(f"img{i}" for i in range(batch)), {"pan": pan, "lms": lms, "ms": ms}, card)


def mhif_batch(height: int = 32, width: int = 32, seed: int = 0) -> FusionBatch:
    g = torch.Generator().manual_seed(seed)
    hsi_up = torch.rand(1, 31, height, width, generator=g, dtype=torch.float64)
    hrmsi = torch.rand(1, 3, height, width, generator=g, dtype=torch.float64)
    return FusionBatch(("cave0",), {"hrmsi": hrmsi, "hsi_up": hsi_up, "lrhsi": hsi_up[..., ::4, ::4]}, CAVE)
