"""A short real MHIF learning test: DDIF-tiny's network and recipe, shrunk so it trains in well
under a minute on two loaded cores (8 training patches cropped to 16², 60 iterations), on the
embedded synthetic CAVE train split, scored on crops of its test split.

It guards the MHIF path end to end (74-channel condition, 31-band residual, trainer, sampler)
with a bar an untrained network cannot pass: the trained model must gain several dB of PSNR and
lower SAM against the same network at initialisation. The full tiny MHIF budget (4,800
iterations; 39.6 dB on synthetic-cave-x4) is what the shipped checkpoint holds, not what CI runs.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch

from fusionbench import FusionBatch, ModelContext
from fusionbench.diffusion.samplers import DDIMSampler
from fusionbench.diffusion.schedules import make_schedule
from fusionbench.lazy import build
from fusionbench.metrics.pansharpening import PSNR, SAM
from fusionbench.registry import load_registry
from fusionbench_ddif.model import DDIF
from fusionbench_ddif.network import NetworkConfig, UNetSR3
from fusionbench_ddif.presets import PRESETS, TINY_TRAINING

DATASET = "synthetic-cave-x4"
CROP = 64  # HR pixels of each test image scored (the LR-HSI crop is CROP / 4)
SHORT = replace(
    PRESETS["tiny"],
    train_items=8,
    crop=16,
    task_training={},
    training=TINY_TRAINING.with_overrides(iterations=60, batch_size=4, lr_milestones=(45,), ema_start=30, log_every=20),
)


@pytest.fixture(scope="module")
def dataset():
    registry = load_registry(disabled=["mlflow"])
    return build(registry.get("dataset", DATASET).spec, root=None)


def _test_batches(dataset) -> list[tuple[FusionBatch, torch.Tensor]]:
    out = []
    for item in list(dataset.items("test"))[:2]:
        inputs = {}
        for key, value in item.inputs.items():
            size = CROP // 4 if key == "lrhsi" else CROP
            inputs[key] = torch.as_tensor(value, dtype=torch.float64)[None, :, :size, :size]
        ref = torch.as_tensor(item.reference, dtype=torch.float64)[None, :, :CROP, :CROP]
        out.append((FusionBatch((item.image_id,), inputs, dataset.card), ref))
    return out


def _scores(model: DDIF, batches, card) -> tuple[float, float]:
    psnr, sam = PSNR(), SAM()
    total_psnr = total_sam = 0.0
    for index, (batch, ref) in enumerate(batches):
        fused = model.fuse(batch, sampler=DDIMSampler(steps=10), generator=torch.Generator().manual_seed(index))
        total_psnr += float(psnr(fused, ref, batch.inputs, card)[0]) / len(batches)
        total_sam += float(sam(fused, ref, batch.inputs, card)[0]) / len(batches)
    return total_psnr, total_sam


def test_short_mhif_training_beats_the_untrained_network(dataset, tmp_path):
    messages: list[str] = []
    model = DDIF(preset="tiny")
    model.preset = SHORT
    context = ModelContext(
        device="cpu",
        card=dataset.card,
        dataset=dataset,
        cache_dir=tmp_path,
        resolve_weights=lambda uri, sha: None,
        seed=0,
        report=messages.append,
        task="mhif",
    )
    t0 = time.perf_counter()
    model.setup(context)
    train_s = time.perf_counter() - t0
    assert model.task == "mhif" and model.net.config.channels == 31 and model.net.config.pan_channels == 3

    untrained = DDIF(preset="tiny")
    torch.manual_seed(0)  # the initialisation the training started from
    untrained.net = UNetSR3(NetworkConfig(channels=31, pan_channels=3, **SHORT.network)).eval()
    untrained.task, untrained.schedule = "mhif", make_schedule(SHORT.schedule, SHORT.timesteps)

    batches = _test_batches(dataset)
    trained_psnr, trained_sam = _scores(model, batches, dataset.card)
    initial_psnr, initial_sam = _scores(untrained, batches, dataset.card)
    print(
        f"\nDDIF tiny, short MHIF training ({train_s:.0f} s): PSNR {trained_psnr:.2f} dB / SAM {trained_sam:.2f}°; "
        f"untrained {initial_psnr:.2f} dB / {initial_sam:.2f}°"
    )
    assert trained_psnr > initial_psnr + 5.0
    assert trained_sam < initial_sam
