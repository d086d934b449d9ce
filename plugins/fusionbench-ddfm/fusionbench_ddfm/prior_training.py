"""Train an unconditional grey diffusion prior (the ``tiny`` DDFM prior) on natural images.

DDFM itself is training-free: it needs an unconditional image prior. The paper uses OpenAI's
ImageNet model (552.8 M parameters, 2.2 GB); the project ships a small one it trains itself so the
default suites run on a laptop. Its data must be obtainable without a download, so the default
source is the photographs bundled *inside* the scikit-image wheel (read straight from the package
folder — never through scikit-image's pooch fetchers). Any folder of images works too.

Objective: guided-diffusion's — ε-prediction, MSE, linear β 1e-4 → 0.02 over T = 1000 — using the
core's :func:`~fusionbench.diffusion.objectives.diffusion_loss` and :class:`~fusionbench.training.Trainer`,
so sampling with ``Denoiser(parameterization="eps", time_input="original")`` matches by construction.

Augmentation (all draws from the trainer's generator, so a run is reproducible and resumable):
each image is kept at several scales (area down-sampling), and a batch draws image, scale, crop
position, flips / 90° rotations and a mild brightness-contrast jitter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from fusionbench.errors import FusionbenchError
from fusionbench.training.config import TrainConfig

from .unet import TINY_CONFIG, GuidedDiffusionUNet, UNetConfig, count_parameters

TRAINING_CODE_VERSION = "1"

SKIMAGE_IMAGES: tuple[str, ...] = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
)
"""Natural photographs shipped in the scikit-image wheel (``skimage/data/``); synthetic test
patterns (chessboard, phantom, logo, horse silhouette) are left out."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class PriorTraining:
    """One way of training a prior: network, schedule, data augmentation and budget."""

    name: str
    network: UNetConfig
    training: TrainConfig
    crop: int = 48
    scales: tuple[float, ...] = (1.0, 0.7, 0.5, 0.35, 0.25)
    timesteps: int = 1000
    schedule: str = "linear"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "network": self.network.to_dict(),
            "training": self.training.to_dict(),
            "crop": self.crop,
            "scales": list(self.scales),
            "timesteps": self.timesteps,
            "schedule": self.schedule,
        }


PRIOR_TRAININGS: dict[str, PriorTraining] = {
    "tiny": PriorTraining(
        name="tiny",
        network=TINY_CONFIG,
        training=TrainConfig(
            iterations=2000,
            batch_size=8,
            lr=1e-3,
            weight_decay=0.0,
            lr_milestones=(1400, 1800),
            lr_gamma=0.3,
            grad_clip=1.0,
            ema_decay=0.995,
            ema_start=500,
            amp="off",
            log_every=50,
            checkpoint_every=250,
        ),
    ),
}


# -- data ----------------------------------------------------------------------------------------
def skimage_data_dir() -> Path:
    """The folder of images bundled in the installed scikit-image (an optional extra)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("skimage")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise FusionbenchError(
            "the default prior training images come from scikit-image's bundled samples: "
            "pip install 'fusionbench-ddfm[train]' (or scikit-image), or pass --images DIR"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def image_files(source: str) -> list[Path]:
    """``"skimage"`` (the bundled photographs) or a folder of images (sorted by name)."""
    if source == "skimage":
        folder = skimage_data_dir()
        files = [folder / name for name in SKIMAGE_IMAGES]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise FusionbenchError(
                f"scikit-image in {folder} lacks bundled images {missing}; install scikit-image>=0.19"
            )
        return files
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise FusionbenchError(f"--images {source!r}: not 'skimage' and not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FusionbenchError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return files


def read_grey(path: Path) -> np.ndarray:
    """An image as float32 grey in [0, 1] (full-range luma 0.299 R + 0.587 G + 0.114 B)."""
    from PIL import Image

    with Image.open(path) as image:
        image.seek(0)
        array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return array @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class NaturalPatches:
    """Random grey training patches in [-1, 1], shape (B, 1, crop, crop); ``(step, generator)`` API.

    Images smaller than the crop at some scale skip that scale. Everything random comes from the
    generator the trainer hands in (exact resume).
    """

    def __init__(self, images: Sequence[np.ndarray], crop: int, batch_size: int, scales: Sequence[float]):
        self.crop, self.batch_size = int(crop), int(batch_size)
        self.pyramid: list[torch.Tensor] = []
        for array in images:
            full = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None, None]
            for scale in scales:
                h, w = int(full.shape[-2] * scale), int(full.shape[-1] * scale)
                if min(h, w) < self.crop:
                    continue
                level = full if scale == 1.0 else F.interpolate(full, size=(h, w), mode="area")
                self.pyramid.append(level[0])
        if not self.pyramid:
            raise FusionbenchError(f"no training image is at least {crop}x{crop} pixels")

    def __call__(self, step: int, generator: torch.Generator) -> torch.Tensor:
        patches = []
        for _ in range(self.batch_size):
            level = self.pyramid[int(torch.randint(len(self.pyramid), (), generator=generator))]
            h, w = level.shape[-2:]
            top = int(torch.randint(h - self.crop + 1, (), generator=generator))
            left = int(torch.randint(w - self.crop + 1, (), generator=generator))
            patch = level[:, top : top + self.crop, left : left + self.crop]
            flip, rot = torch.randint(2, (), generator=generator), torch.randint(4, (), generator=generator)
            if flip:
                patch = patch.flip(-1)
            patch = torch.rot90(patch, int(rot), dims=(-2, -1))
            gain, offset = (
                0.8 + 0.4 * torch.rand((), generator=generator),
                0.1 * (torch.rand((), generator=generator) - 0.5),
            )
            mean = patch.mean()
            patch = ((patch - mean) * gain + mean + offset).clamp(0.0, 1.0)
            patches.append(patch)
        return torch.stack(patches) * 2.0 - 1.0


# -- training ------------------------------------------------------------------------------------
def train_prior(
    preset: str,
    output_dir: Path,
    *,
    images: str = "skimage",
    seed: int = 0,
    device: str = "cpu",
    overrides: dict[str, Any] | None = None,
    resume: bool = True,
    logger: Any = None,
    progress: bool = False,
    report: Callable[[str], None] = print,
) -> Any:
    """Train the ``preset`` prior into ``output_dir`` (a core checkpoint directory); returns TrainResult."""
    from fusionbench.diffusion.objectives import diffusion_loss
    from fusionbench.diffusion.schedules import make_schedule
    from fusionbench.training.loop import Trainer

    from . import __version__

    if preset not in PRIOR_TRAININGS:
        raise FusionbenchError(f"no prior training recipe {preset!r}; known: {', '.join(PRIOR_TRAININGS)}")
    recipe = PRIOR_TRAININGS[preset]
    config = recipe.training.with_overrides(seed=seed, **(overrides or {}))
    files = image_files(images)
    batches = NaturalPatches([read_grey(f) for f in files], recipe.crop, config.batch_size, recipe.scales)
    torch.manual_seed(seed)  # network initialisation
    net = GuidedDiffusionUNet(recipe.network)
    schedule = make_schedule(recipe.schedule, recipe.timesteps)
    channels = recipe.network.in_channels

    def loss_fn(model: GuidedDiffusionUNet, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        def fn(x_t: torch.Tensor, t: torch.Tensor, cond: Any = None) -> torch.Tensor:
            return model(x_t, t)[:, :channels]

        return diffusion_loss(fn, batch, schedule, parameterization="eps", loss="l2", generator=generator)

    model_config = {
        "name": "ddfm-prior",
        "preset": preset,
        "network": recipe.network.to_dict(),
        "parameters": count_parameters(net),
        "schedule": recipe.schedule,
        "timesteps": recipe.timesteps,
        "parameterization": "eps",
        "recipe": recipe.to_dict(),
        "images": images if images == "skimage" else str(Path(images).resolve()),
        "image_files": {f.name: file_digest(f) for f in files},
        "code_version": TRAINING_CODE_VERSION,
        "plugin_version": __version__,
    }
    report(
        f"ddfm prior[{preset}]: {count_parameters(net):,} parameters, {len(files)} images, {config.iterations} iterations"
    )
    trainer = Trainer(
        net,
        loss_fn,
        batches,
        config,
        output_dir=Path(output_dir),
        device=device,
        model_config=model_config,
        logger=logger,
        progress=progress,
        report=report,
        description=f"ddfm-prior[{preset}]",
    )
    return trainer.fit(resume=resume)


def export_prior(checkpoint_dir: Path, target: Path, prefer: str = "ema") -> Path:
    """Write a checkpoint's (EMA) weights as one ``.safetensors`` file plus a ``.json`` beside it —
    the form shipped in ``fusionbench_ddfm/weights`` and accepted by ``ddfm[checkpoint=...]``."""
    from fusionbench.training.checkpoint import load_checkpoint, save_weights

    state, config = load_checkpoint(Path(checkpoint_dir), prefer=prefer)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_weights(target, state, metadata={"format": "fusionbench-ddfm-prior"})
    meta = {
        "format": "fusionbench-ddfm-prior",
        "model": config.get("model", {}),
        "training": config.get("training", {}),
        "step": config.get("step"),
        "final_loss": config.get("final_loss"),
        "weights": prefer if prefer == "ema" else "model",
        "sha256": file_digest(target),
    }
    target.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target
