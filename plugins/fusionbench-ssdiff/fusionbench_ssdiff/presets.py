"""SSDiff presets: network, diffusion, training budget, L-BAF schedule and inference of each.

* ``paper`` — the published configuration (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)): SSNet d = 32, 1,426,616
  parameters for 8 bands (the released class's unused modules included, so released state dicts
  load strictly); x0 (residual) objective, L1, cosine T = 1000; AdamW 1e-3 (wd 0), batch 20,
  EMA 0.9999 from the initial weights, 21,000 joint iterations (the released checkpoint), then
  L-BAF (:mod:`.lbaf`); DDIM 10 steps with the *correct* inference (original timesteps, the
  diffusion kept in residual space, LMS added once at the end); 64×64 tiles, overlap 16.
  Needs a GPU to train: it never trains itself in a benchmark run.
* ``release`` — the same network and joint training without L-BAF (the released code ships no
  fine-tuning), and the released inference: the network gets the respaced index 0…9 (quirk A),
  x̂0 is clamp(net + LMS, 0, 1) so the DDIM state drifts into full-image space (quirk B), data
  are divided by 2047 whatever the sensor, and tiles are 64×64 with stride 16 (overlap 48) like
  the released patch merger. For checkpoints trained by the released code.
* ``tiny`` — a narrow SSNet (d = 16, time encoding 32, ``smooth_init``) that trains itself on
  the dataset's train split in under two minutes on two CPU cores (the default, so the embedded
  suites run on a laptop): 700 joint steps on 16×16 crops and a short L-BAF round so the whole
  recipe is exercised; 32×32 tiles at inference. Why these numbers: docs/ssdiff.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fusionbench.training.config import TrainConfig, lookup_preset

from .lbaf import LBAFConfig

PRESET_NAMES = ("tiny", "paper", "release")

TRAINING_CODE_VERSION = "1"
"""Part of the auto-train cache key: bump when training changes the weights for the same preset."""


NOISE_MODES = ("image", "tile")
"""Where a tiled sample's initial noise x_T comes from. ``image``: one N(0, I) field for the
whole image, drawn once from the run's generator and cut into tiles with the data, so
overlapping tiles start from the same noise where they overlap and the result does not depend
on ``tile_batch``. ``tile``: a fresh N(0, I) draw for every tile batch, as the released
``image_sample.py`` does (its DDIM loop draws ``th.randn`` for each crop batch the patch merger hands it), so overlapping
tiles start from independent noise and the result depends on how tiles are batched."""


@dataclass(frozen=True)
class Preset:
    name: str
    network: dict[str, Any]  # NetworkConfig fields except channels / pan_channels
    training: TrainConfig  # the joint stage
    lbaf: LBAFConfig | None  # branch-wise fine-tuning after the joint stage (None: off)
    timesteps: int = 1000
    schedule: str = "cosine"
    loss: str = "l1"
    # inference
    time_input: str = "original"  # "index" = released quirk A
    full_space: bool = False  # True = released quirk B (x̂0 = clamp(net + LMS) drives the DDIM state)
    clip: bool = True  # keep x̂0 + LMS inside [0, 1] at every step (released clip_denoised=True)
    fixed_scale: float | None = None  # divide data by this instead of the sensor maximum (released: 2047)
    tile: int = 64  # inference tile (PAN pixels) and overlap: SSNet's attention is quadratic in the tile
    overlap: int = 16
    tile_batch: int = 8
    noise: str = "image"  # x_T: see NOISE_MODES
    # data
    train_items: int | None = None  # how many training patches to load (None: all)
    crop: int | None = None  # random square crop of each training patch (multiple of 4; None: whole patch)
    augment: bool = False  # random flips / 90° rotations of (pan, lms, ms, gt) together
    auto_train: bool = False  # may train itself in a benchmark run when no checkpoint is given
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def key_dict(self) -> dict[str, Any]:
        """Everything about the preset that changes trained weights (for the checkpoint cache key)."""
        return {
            "name": self.name,
            "network": self.network,
            "training": self.training.to_dict(),
            "lbaf": self.lbaf.to_dict() if self.lbaf is not None else None,
            "timesteps": self.timesteps,
            "schedule": self.schedule,
            "loss": self.loss,
            "fixed_scale": self.fixed_scale,
            "train_items": self.train_items,
            "crop": self.crop,
            "augment": self.augment,
        }


PAPER_NETWORK: dict[str, Any] = {
    "dim": 32,
    "dim_head": 16,
    "model_channels": 128,
    "ffn_ratio": 0.5,
    "res_ratio": 0.5,
    "norm_groups": 32,
    "keep_unused": True,
}

PAPER_TRAINING = TrainConfig(
    iterations=21_000,
    batch_size=20,
    lr=1e-3,
    weight_decay=0.0,
    grad_clip=None,
    ema_decay=0.9999,
    ema_start=0,  # released: the EMA starts from the random initial weights (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main))
    amp="off",  # released: fp16 off
    log_every=100,
    checkpoint_every=1_000,
)

PAPER_LBAF = LBAFConfig(
    order=("spatial", "spectral"),
    rounds=1,
    iterations=2_000,
    rank=8,
    lr=1e-3,
    batch_size=20,
    ema_decay=0.999,
    ema_start=500,
)

TINY_NETWORK: dict[str, Any] = {
    "dim": 16,
    "dim_head": 16,
    "model_channels": 32,
    "ffn_ratio": 0.5,
    "res_ratio": 0.5,
    "norm_groups": 8,
    "keep_unused": False,
    "smooth_init": True,
}

TINY_TRAINING = TrainConfig(
    iterations=700,
    batch_size=16,
    lr=2e-3,
    weight_decay=0.0,
    grad_clip=1.0,
    lr_milestones=(550,),
    lr_gamma=0.3,
    ema_decay=0.97,
    ema_start=350,
    amp="off",
    log_every=100,
)

TINY_LBAF = LBAFConfig(
    order=("spatial", "spectral"),
    rounds=1,
    iterations=40,
    rank=4,
    lr=2e-3,
    batch_size=16,
    ema_decay=0.9,
    ema_start=20,
)

PRESETS: dict[str, Preset] = {
    "paper": Preset(
        name="paper",
        network=PAPER_NETWORK,
        training=PAPER_TRAINING,
        lbaf=PAPER_LBAF,
        description="published configuration (1,426,616 parameters for 8 bands); train on a GPU with `fusionbench train`",
    ),
    "release": Preset(
        name="release",
        network=PAPER_NETWORK,
        training=PAPER_TRAINING,
        lbaf=None,
        time_input="index",
        full_space=True,
        fixed_scale=2047.0,
        overlap=48,
        noise="tile",
        description="released code: respaced-index time input, full/residual space mixing, /2047, stride-16 tiles, "
        "fresh noise per tile batch",
    ),
    "tiny": Preset(
        name="tiny",
        network=TINY_NETWORK,
        training=TINY_TRAINING,
        lbaf=TINY_LBAF,
        tile=32,
        overlap=8,
        tile_batch=16,
        train_items=200,
        crop=16,
        augment=True,
        auto_train=True,
        description="narrow SSNet, trains itself in under two minutes on two CPU cores (tests, the embedded default suites)",
    ),
}


def get_preset(name: str) -> Preset:
    return lookup_preset(PRESETS, name, label="SSDiff")
