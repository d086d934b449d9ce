"""DDIF presets: the network, diffusion, training budget and inference behaviour of each.

* ``paper``  — the published configuration (the DDIF paper (Cao et al., Information Fusion 2024; arXiv 2304.04774) and its released code): UNetSR3 32·(1,2,2,4), 3 res
  blocks, 10,397,208 parameters for WV3; x0 objective, L1, cosine T = 500, self-conditioning 0.5;
  AdamW 1e-4/1e-4, batch 64, 300k iterations, MultiStep 100k/200k/350k ×0.2, clip 0.003, EMA
  0.995 after 20k; sampling with the *correct* time input (the original training timestep) and
  self-conditioning on the previous x̂0. Needs a GPU to train (never trains itself in a suite).
* ``release`` — the same network and training, with the released code's inference: the network
  receives the respaced index 0…steps-1 of a freshly built ``steps``-step cosine schedule
  (Dif-PAN's ``test_fn``), and its self-condition input is always x_t (§2.7 quirks 1 and 2).
  Use it to evaluate checkpoints trained by the released code.
* ``tiny`` — a small network and budget that trains in about a minute on two CPU cores; the
  default, so ``fusionbench run --suite reduced-res`` works on a laptop (it trains itself on the
  dataset's train split once and caches the checkpoint). MHIF (31 bands, a 74-channel
  condition) gets its own, six times longer budget (:data:`TINY_MHIF_TRAINING`): 800 iterations
  leave the tiny net far below the classical baselines on synthetic CAVE (synthetic-cave-x4,
  seed 0: 32.3 dB PSNR / SAM 5.0° against 53–58 dB) — a budget limit, not a defect; 4,800
  iterations of this recipe give 39.6 dB / 3.30° (docs: the plugin README).

A preset may give a task its own training budget (``task_training``); :meth:`Preset.for_task`
resolves it, and the resolved preset is what trains and what enters the checkpoint key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fusionbench.training.config import TrainConfig, lookup_preset

PRESET_NAMES = ("tiny", "paper", "release")

TRAINING_CODE_VERSION = "1"
"""Part of the auto-train cache key: bump when training changes the weights for the same preset."""


@dataclass(frozen=True)
class Preset:
    name: str
    network: dict[str, Any]  # NetworkConfig fields except channels / pan_channels
    training: TrainConfig
    timesteps: int = 500  # T of the training schedule (shipped call: 500)
    schedule: str = "cosine"
    parameterization: str = "x0"
    loss: str = "l1"
    self_condition_prob: float = 0.5
    # inference
    time_input: str = "original"  # "index" = released quirk
    self_condition_inference: bool = True  # False = released quirk (self-condition is always x_t)
    release_schedule: bool = False  # sample on a fresh cosine(steps) schedule as Dif-PAN's test_fn
    # data
    train_items: int | None = None  # how many training items to load (None: all)
    crop: int | None = None  # random square crop of each training patch (None: whole patch)
    augment: bool = False  # random flips / 90° rotations (applied before the wavelets are computed)
    auto_train: bool = False  # may train itself in a benchmark run when no checkpoint is given
    task_training: Mapping[str, TrainConfig] = field(default_factory=dict)  # per-task budget replacing `training`
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def for_task(self, task: str) -> Preset:
        """This preset as it trains for ``task``: that task's own budget (``task_training``) as
        ``training``, and no per-task table left, so :meth:`key_dict` names exactly the recipe
        that ran. A task without its own budget gets the preset itself, whose key is unchanged.
        """
        training = self.task_training.get(task)
        if training is None:
            return self if not self.task_training else replace(self, task_training={})
        return replace(self, training=training, task_training={})

    def key_dict(self) -> dict[str, Any]:
        """Everything about the preset that changes trained weights (for the checkpoint cache key).

        A preset not yet resolved with :meth:`for_task` keeps its per-task table in the key, so
        it can never be mistaken for the resolved recipe of any one task.
        """
        key = {
            "name": self.name,
            "network": self.network,
            "training": self.training.to_dict(),
            "timesteps": self.timesteps,
            "schedule": self.schedule,
            "parameterization": self.parameterization,
            "loss": self.loss,
            "self_condition_prob": self.self_condition_prob,
            "train_items": self.train_items,
            "crop": self.crop,
            "augment": self.augment,
        }
        if self.task_training:
            key["task_training"] = {task: config.to_dict() for task, config in sorted(self.task_training.items())}
        return key


PAPER_NETWORK: dict[str, Any] = {
    "inner_channel": 32,
    "channel_mults": (1, 2, 2, 4),
    "res_blocks": 3,
    "attn_levels": (3,),
    "dropout": 0.2,
    "drop_path": 0.2,
    "heads": 8,
}

PAPER_TRAINING = TrainConfig(
    iterations=300_000,
    batch_size=64,
    lr=1e-4,
    weight_decay=1e-4,
    lr_milestones=(100_000, 200_000, 350_000),
    lr_gamma=0.2,
    grad_clip=0.003,
    ema_decay=0.995,
    ema_start=20_000,
    amp="auto",
    log_every=100,
    checkpoint_every=5_000,
)

TINY_NETWORK: dict[str, Any] = {
    "inner_channel": 8,
    "channel_mults": (1, 2, 2, 2),  # 4 levels like paper: attention stays at 1/8 resolution
    "res_blocks": 1,
    "attn_levels": (3,),
    "dropout": 0.0,
    "drop_path": 0.0,
    "heads": 4,
}

TINY_TRAINING = TrainConfig(
    iterations=800,
    batch_size=8,
    lr=2e-3,
    weight_decay=1e-4,
    lr_milestones=(550, 700),
    lr_gamma=0.3,
    grad_clip=1.0,
    ema_decay=0.98,
    ema_start=400,
    amp="auto",
    log_every=50,
)

TINY_MHIF_TRAINING = TINY_TRAINING.with_overrides(iterations=4_800)
"""The tiny preset's MHIF budget: six times the pansharpening iterations, optimiser, learning-rate
milestones and EMA unchanged (what ``train_iterations=4800`` trains). It takes CPU-hours rather
than minutes on a busy two-core machine, so the checkpoint for the embedded synthetic CAVE ships
with the plugin (``scripts/refresh_shipped_checkpoints.py``)."""

PRESETS: dict[str, Preset] = {
    "paper": Preset(
        name="paper",
        network=PAPER_NETWORK,
        training=PAPER_TRAINING,
        description="published configuration (10.4 M parameters for WV3); train on a GPU with `fusionbench train`",
    ),
    "release": Preset(
        name="release",
        network=PAPER_NETWORK,
        training=PAPER_TRAINING,
        time_input="index",
        self_condition_inference=False,
        release_schedule=True,
        description="paper network and training with the released code's inference quirks (for released checkpoints)",
    ),
    "tiny": Preset(
        name="tiny",
        network=TINY_NETWORK,
        training=TINY_TRAINING,
        train_items=96,
        crop=32,
        augment=True,
        auto_train=True,
        task_training={"mhif": TINY_MHIF_TRAINING},
        description="small network, trains itself in about a minute on a CPU (MHIF: 4,800 iterations, shipped for "
        "synthetic CAVE); tests, the embedded default suite",
    ),
}


def get_preset(name: str) -> Preset:
    return lookup_preset(PRESETS, name, label="DDIF")
