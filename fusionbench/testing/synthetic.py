"""Small synthetic batches for each task, in native units, for contract checks."""

from __future__ import annotations

from typing import Any

from ..specs import DataCard
from ..tasks import get_task

_CARDS = {
    "pansharpening": DataCard(
        sensor="WV3",
        ratio=4,
        bands=8,
        max_value=2047.0,
        mtf_gnyq=(0.325, 0.355, 0.36, 0.35, 0.365, 0.36, 0.335, 0.315),
        pan_gnyq=0.14,
    ),
    "mhif": DataCard(sensor="none", ratio=4, bands=31, max_value=1.0),
    "ivf": DataCard(sensor="none", max_value=255.0),
    "mif": DataCard(sensor="none", max_value=255.0),
}


def synthetic_card(task: str) -> DataCard:
    return _CARDS[task]


def synthetic_batch(task: str, size: int = 64, batch: int = 1, seed: int = 0) -> tuple[dict[str, Any], Any]:
    """Inputs (dict of float64 tensors, batched) and a plausible reference (or None)."""
    import torch

    get_task(task)
    card = _CARDS[task]
    g = torch.Generator().manual_seed(seed)
    smooth = torch.nn.functional.avg_pool2d(
        torch.rand(batch, 1, size + 6, size + 6, generator=g, dtype=torch.float64), 7, stride=1
    )
    if task in ("pansharpening", "mhif"):
        bands, ratio = card.bands or 4, card.ratio or 4
        weights = torch.linspace(0.6, 1.2, bands, dtype=torch.float64).view(1, bands, 1, 1)
        gt = (
            (smooth * weights + 0.05 * torch.rand(batch, bands, size, size, generator=g, dtype=torch.float64))
            * card.max_value
            * 0.6
        )
        low = torch.nn.functional.avg_pool2d(gt, ratio)
        up = torch.nn.functional.interpolate(low, scale_factor=ratio, mode="bicubic", align_corners=False)
        if task == "pansharpening":
            return {"pan": gt.mean(1, keepdim=True), "ms": low, "lms": up}, gt
        rgb = torch.stack([gt[:, -5:].mean(1), gt[:, 10:20].mean(1), gt[:, :5].mean(1)], dim=1)
        return {"hrmsi": rgb, "lrhsi": low, "hsi_up": up}, gt
    a = smooth * 200.0
    b = torch.rand(batch, 1, size, size, generator=g, dtype=torch.float64) * 255.0
    names = get_task(task).input_names
    return {names[0]: a, names[1]: b}, None


def pan_stacks(
    n: int = 3, bands: int = 8, lr: int = 8, ratio: int = 4, seed: int = 0, max_value: float = 2047.0
) -> dict[str, Any]:
    """Random PanCollection-style stacks (N,C,H,W) in DN (``gt``, ``ms``, ``lms``, ``pan``), to
    write with :func:`fusionbench.datasets.writers.write_h5_stacks` in dataset tests."""
    import numpy as np

    rng = np.random.default_rng(seed)
    hr = lr * ratio
    return {
        "gt": rng.uniform(0, max_value, (n, bands, hr, hr)),
        "ms": rng.uniform(0, max_value, (n, bands, lr, lr)),
        "lms": rng.uniform(0, max_value, (n, bands, hr, hr)),
        "pan": rng.uniform(0, max_value, (n, 1, hr, hr)),
    }
