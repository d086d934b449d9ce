"""Load a diffusion prior (network + how to call it) from the shipped file, a checkpoint or the
official OpenAI ``.pt`` — with the checkpoint's keys unchanged and ``weights_only=True``.

The released DDFM code silently continues with random weights when the checkpoint is missing
(a pitfall of the released code); here every failure is a :class:`~fusionbench.errors.FusionbenchError`
that names the file and what did not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fusionbench.diffusion.samplers import Denoiser
from fusionbench.diffusion.schedules import NoiseSchedule, make_schedule
from fusionbench.training.checkpoint import CheckpointError, load_checkpoint

from .presets import TINY_WEIGHTS_FILE
from .unet import PAPER_CONFIG, GuidedDiffusionUNet, UNetConfig

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass
class Prior:
    """An unconditional ε-prediction network on the linear T = 1000 schedule (guided-diffusion)."""

    net: GuidedDiffusionUNet
    schedule: NoiseSchedule
    source: Path

    @property
    def channels(self) -> int:
        return self.net.config.in_channels

    @property
    def size_multiple(self) -> int:
        return self.net.config.size_multiple

    def denoiser(self) -> Denoiser:
        """What samplers call: ε-prediction, original integer timesteps, x̂0 clamped to [−1, 1]
        (guided-diffusion ``clip_denoised=True``, ``rescale_timesteps=False``)."""
        return Denoiser(
            fn=self.network_fn(),
            schedule=self.schedule,
            parameterization="eps",
            time_input="original",
            clip_x0=(-1.0, 1.0),
        )

    def network_fn(self) -> Callable[..., torch.Tensor]:
        net, channels = self.net, self.channels

        def fn(x_t: torch.Tensor, t: torch.Tensor, cond: Any = None) -> torch.Tensor:
            return net(x_t, t)[:, :channels]  # the learned-variance half is unused by DDFM

        return fn


def shipped_tiny_prior() -> Path:
    path = WEIGHTS_DIR / TINY_WEIGHTS_FILE
    if not path.is_file():
        raise CheckpointError(
            f"the shipped tiny DDFM prior {path} is missing (a broken install?); re-create it with "
            f"`fusionbench ddfm train-prior --preset tiny --export {path}` (see {WEIGHTS_DIR / 'README.md'})"
        )
    return path


def load_prior(path: Path, device: str | torch.device = "cpu", default_config: UNetConfig = PAPER_CONFIG) -> Prior:
    """Build the network described by the checkpoint's config (or ``default_config`` for a bare
    state dict such as OpenAI's ``.pt``) and load the weights strictly, keys unchanged."""
    path = Path(path)
    state, config = load_checkpoint(path, prefer="ema")
    model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
    net_config = UNetConfig.from_dict(model["network"]) if "network" in model else default_config
    with torch.device("meta"):
        net = GuidedDiffusionUNet(net_config)
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path} does not fit the guided-diffusion UNet {net_config.to_dict()}: {len(missing)} missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]}), {len(wrong)} of the wrong "
            f"shape (e.g. {wrong[:3]}) of {len(expected)} tensors"
        )
    state = {k: v.to(torch.float32) for k, v in state.items()}
    net.load_state_dict(state, strict=True, assign=True)
    net = net.to(device).eval()
    schedule = make_schedule(str(model.get("schedule", "linear")), int(model.get("timesteps", 1000)))
    return Prior(net=net, schedule=schedule, source=path)
