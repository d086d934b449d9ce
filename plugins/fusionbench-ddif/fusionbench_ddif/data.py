"""Task field mapping, normalisation and the training batch source of DDIF.

DDIF works on data divided by the sensor maximum (``card.max_value``: 2047 for WV3/QB, 1023 for
GF2, 1 for CAVE-like MHIF), never rescaled to [-1, 1], and diffuses the residual HRMS − LMS.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch

from fusionbench.errors import FusionbenchError

from .condition import build_condition

TASK_FIELDS: dict[str, tuple[str, str]] = {
    "pansharpening": ("pan", "lms"),  # (the "PAN" role, the "LMS" role)
    "mhif": ("hrmsi", "hsi_up"),  # HR RGB plays PAN, the upsampled LR-HSI plays LMS
}
PAN_CHANNELS = {"pansharpening": 1, "mhif": 3}


def task_of(inputs: Mapping[str, Any]) -> str:
    """The task an input mapping belongs to, from its field names."""
    for task, (pan, lms) in TASK_FIELDS.items():
        if pan in inputs and lms in inputs:
            return task
    raise FusionbenchError(
        f"DDIF does pansharpening (pan, lms) and mhif (hrmsi, hsi_up); got input fields {sorted(inputs)}"
    )


def normalised_pair(
    inputs: Mapping[str, torch.Tensor], task: str, max_value: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(PAN, LMS) as float32 divided by the data maximum."""
    pan_key, lms_key = TASK_FIELDS[task]
    scale = float(max_value)
    return inputs[pan_key].to(torch.float32) / scale, inputs[lms_key].to(torch.float32) / scale


def load_training_set(
    dataset: Any, split: str, max_value: float, limit: int | None
) -> tuple[str, dict[str, torch.Tensor]]:
    """Read up to ``limit`` items of ``split`` into normalised float32 tensors pan, lms, gt."""
    name = getattr(dataset, "name", type(dataset).__name__)
    try:
        iterator = dataset.items(split)
        items = list(itertools.islice(iterator, limit)) if limit is not None else list(iterator)
    except FusionbenchError as exc:
        raise FusionbenchError(
            f"DDIF has no checkpoint and cannot train on dataset {name!r}: {exc}. Give a checkpoint "
            "(ddif[checkpoint=PATH]) or use a dataset with a 'train' split"
        ) from None
    if not items:
        raise FusionbenchError(f"DDIF cannot train: dataset {name!r} split {split!r} is empty")
    task = task_of(items[0].inputs)
    pan_key, lms_key = TASK_FIELDS[task]
    if any(item.reference is None for item in items):
        raise FusionbenchError(f"DDIF cannot train on {name!r} split {split!r}: items have no reference (gt)")
    scale = float(max_value)

    def stack(get: Any) -> torch.Tensor:
        return torch.stack([torch.as_tensor(get(item), dtype=torch.float32) for item in items]) / scale

    return task, {
        "pan": stack(lambda it: _chw(it.inputs[pan_key])),
        "lms": stack(lambda it: _chw(it.inputs[lms_key])),
        "gt": stack(lambda it: _chw(it.reference)),
    }


def _chw(array: Any) -> Any:
    return array[None] if getattr(array, "ndim", 3) == 2 else array


class TrainingBatches:
    """Random mini-batches of (x0 = gt − lms, cond) with optional crops and flips/rotations.

    Geometric augmentation is applied to pan/lms/gt *before* the wavelet condition is computed:
    Haar detail bands are not rotation-equivariant (H and V swap), so augmenting a precomputed
    condition would be wrong. Crop offsets are even to keep the Haar 2×2 grid aligned.
    """

    def __init__(self, data: Mapping[str, torch.Tensor], task: str, batch_size: int, crop: int | None, augment: bool):
        self.data = dict(data)
        self.task = task
        self.size = len(self.data["gt"])
        self.batch_size = min(batch_size, self.size)
        height, width = self.data["gt"].shape[-2:]
        self.crop = crop if crop is not None and crop < min(height, width) else None
        self.augment = augment

    def __call__(self, step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        index = torch.randperm(self.size, generator=generator)[: self.batch_size]
        pan, lms, gt = (self.data[k][index] for k in ("pan", "lms", "gt"))
        if self.crop is not None:
            pan, lms, gt = self._crop(generator, pan, lms, gt)
        if self.augment:
            k = int(torch.randint(4, (1,), generator=generator))
            flip = bool(torch.randint(2, (1,), generator=generator))
            pan, lms, gt = (_rot_flip(t, k, flip) for t in (pan, lms, gt))
        return {"x0": gt - lms, "cond": build_condition(lms, pan, self.task)}

    def _crop(self, generator: torch.Generator, *tensors: torch.Tensor) -> list[torch.Tensor]:
        height, width = tensors[0].shape[-2:]
        size = self.crop
        top = 2 * int(torch.randint((height - size) // 2 + 1, (1,), generator=generator))
        left = 2 * int(torch.randint((width - size) // 2 + 1, (1,), generator=generator))
        return [t[..., top : top + size, left : left + size] for t in tensors]


def _rot_flip(t: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    t = torch.rot90(t, k, dims=(-2, -1)) if k else t
    return torch.flip(t, dims=(-1,)) if flip else t
