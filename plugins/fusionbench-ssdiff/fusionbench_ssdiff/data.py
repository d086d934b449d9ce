"""Inputs, normalisation and training batches of SSDiff (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)).

SSDiff takes three inputs — PAN (1×H×W), the pre-upsampled LMS (C×H×W) and the MS itself
(C×H/4×W/4, for its learned upsampler) — all divided by the data maximum (the sensor's; the
released code always divides by 2047), and diffuses the residual x0 = GT − LMS.

Which dataset the model trains on (a full-resolution set's reduced-resolution ``train_from``
twin) is the core's decision: ``ModelContext.training_dataset()``, used by
:func:`fusionbench.training.selftrain.self_trained_checkpoint`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch

from fusionbench.errors import FusionbenchError

INPUTS = ("pan", "lms", "ms")


def normalised_inputs(inputs: Mapping[str, torch.Tensor], scale: float) -> dict[str, torch.Tensor]:
    """pan, lms, ms as float32 divided by ``scale``, with their shapes checked against each other."""
    missing = [k for k in INPUTS if k not in inputs]
    if missing:
        raise FusionbenchError(f"SSDiff does pansharpening: it needs inputs {INPUTS}, missing {missing}")
    pan, lms, ms = (inputs[k].to(torch.float32) / float(scale) for k in INPUTS)
    if pan.shape[-2:] != lms.shape[-2:] or pan.shape[1] != 1:
        raise FusionbenchError(f"SSDiff: pan {tuple(pan.shape)} must be (B, 1, H, W) with lms {tuple(lms.shape)}'s H×W")
    if (
        ms.shape[1] != lms.shape[1]
        or lms.shape[-2] % ms.shape[-2]
        or lms.shape[-2] // ms.shape[-2] != lms.shape[-1] // ms.shape[-1]
    ):
        raise FusionbenchError(
            f"SSDiff: ms {tuple(ms.shape)} must be lms {tuple(lms.shape)} downscaled by an integer ratio"
        )
    return {"pan": pan, "lms": lms, "ms": ms}


def load_training_set(dataset: Any, split: str, scale: float, limit: int | None) -> dict[str, torch.Tensor]:
    """Up to ``limit`` items of ``split`` as normalised float32 tensors pan, lms, ms, gt."""
    name = getattr(dataset, "name", type(dataset).__name__)
    try:
        iterator = dataset.items(split)
        items = list(itertools.islice(iterator, limit)) if limit is not None else list(iterator)
    except FusionbenchError as exc:
        raise FusionbenchError(
            f"SSDiff cannot train on dataset {name!r} split {split!r}: {exc}. Give a checkpoint (ssdiff[checkpoint=PATH])"
        ) from None
    if not items:
        raise FusionbenchError(f"SSDiff cannot train: dataset {name!r} split {split!r} is empty")
    if any(item.reference is None for item in items):
        raise FusionbenchError(f"SSDiff cannot train on {name!r} split {split!r}: items have no reference (gt)")
    if any(k not in items[0].inputs for k in INPUTS):
        raise FusionbenchError(
            f"SSDiff trains on pansharpening data ({INPUTS}); {name!r} has {sorted(items[0].inputs)}"
        )

    def stack(get: Any) -> torch.Tensor:
        return torch.stack([torch.as_tensor(get(item), dtype=torch.float32) for item in items]) / float(scale)

    data = {k: stack(lambda it, k=k: _chw(it.inputs[k])) for k in INPUTS}
    data["gt"] = stack(lambda it: _chw(it.reference))
    return data


def _chw(array: Any) -> Any:
    return array[None] if getattr(array, "ndim", 3) == 2 else array


class TrainingBatches:
    """Random mini-batches {"x0": GT − LMS, "cond": {pan, lms, ms}} with optional aligned crops
    and flips / 90° rotations (applied to all four tensors together).

    Crops are square, ``crop`` PAN pixels at offsets that are multiples of the MS ratio, so the
    MS crop (``crop / ratio``) covers exactly the same ground. All draws come from the
    generator the training loop passes, so a run is reproducible and resumable.
    """

    def __init__(self, data: Mapping[str, torch.Tensor], batch_size: int, crop: int | None, augment: bool):
        self.data = dict(data)
        self.size = len(self.data["gt"])
        self.batch_size = min(batch_size, self.size)
        height = self.data["gt"].shape[-2]
        self.ratio = height // self.data["ms"].shape[-2]
        if crop is not None and (crop % self.ratio or crop % 4):
            raise ValueError(f"crop {crop} must be a multiple of 4 and of the MS ratio {self.ratio}")
        self.crop = crop if crop is not None and crop < min(self.data["gt"].shape[-2:]) else None
        self.augment = augment

    def __call__(self, step: int, generator: torch.Generator) -> dict[str, Any]:
        index = torch.randperm(self.size, generator=generator)[: self.batch_size]
        pan, lms, ms, gt = (self.data[k][index] for k in ("pan", "lms", "ms", "gt"))
        if self.crop is not None:
            pan, lms, ms, gt = self._crop(generator, pan, lms, ms, gt)
        if self.augment:
            k = int(torch.randint(4, (1,), generator=generator))
            flip = bool(torch.randint(2, (1,), generator=generator))
            pan, lms, ms, gt = (_rot_flip(t, k, flip) for t in (pan, lms, ms, gt))
        return {"x0": gt - lms, "cond": {"pan": pan, "lms": lms, "ms": ms}}

    def _crop(self, generator: torch.Generator, pan, lms, ms, gt):  # type: ignore[no-untyped-def]
        height, width = gt.shape[-2:]
        size, r = self.crop, self.ratio
        assert size is not None
        top = r * int(torch.randint((height - size) // r + 1, (1,), generator=generator))
        left = r * int(torch.randint((width - size) // r + 1, (1,), generator=generator))
        hr = (..., slice(top, top + size), slice(left, left + size))
        lr = (..., slice(top // r, (top + size) // r), slice(left // r, (left + size) // r))
        return pan[hr], lms[hr], ms[lr], gt[hr]


def _rot_flip(t: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    t = torch.rot90(t, k, dims=(-2, -1)) if k else t
    return torch.flip(t, dims=(-1,)) if flip else t
