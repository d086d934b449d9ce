"""The SSDiff model as fusionbench runs it: checkpoint loading or self-training, and ``fuse``.

Lifecycle (core contract): ``SSDiff(**params)`` → ``setup(context)`` (load ``checkpoint``
through the weights resolver, or train on the dataset's train split — the reduced-resolution
sibling for full-resolution data — when the preset allows, cached under a content key) →
``fuse(batch, sampler=…, generator=…)`` per image, returning HRMS in native units.
``train_model(request)`` serves ``fusionbench train ssdiff``.

Inference always goes through :func:`fusionbench.tiling.tiled_apply`: SSNet's first-level
attention is quadratic in the tile's pixel count, so memory is bounded by ``tile`` and
``tile_batch`` whatever the image size. Each tile batch runs the whole DDIM loop (as the
released code does). The initial noise follows the preset's ``noise`` mode
(:data:`~fusionbench_ssdiff.presets.NOISE_MODES`): drawn once for the whole image from the
core's generator and tiled with the data (``tiny``, ``paper``: the result does not depend on
``tile_batch``), or drawn afresh for every tile batch as the released sampler does
(``release``). Both come from the core's generator, so either is reproducible per seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fusionbench.diffusion.samplers import DDIMSampler, Denoiser, DiffusionSampler, gaussian_noise
from fusionbench.diffusion.schedules import NoiseSchedule, make_schedule
from fusionbench.errors import FusionbenchError
from fusionbench.tiling import tiled_apply
from fusionbench.training.checkpoint import CheckpointError, load_checkpoint
from fusionbench.training.loop import TrainResult
from fusionbench.training.selftrain import SelfTrainingModel, load_state_strictly

from . import __version__
from .data import load_training_set, normalised_inputs
from .network import NetworkConfig, SSNet
from .presets import PRESETS, TRAINING_CODE_VERSION, Preset
from .train import network_fn, train_ssnet


class SSDiff(SelfTrainingModel):
    """SSDiff (Zhong et al., NeurIPS 2024) for pansharpening."""

    label = "SSDiff"
    model_name = "ssdiff"
    code_version = TRAINING_CODE_VERSION
    presets = PRESETS

    def __init__(
        self,
        preset: str = "tiny",
        checkpoint: str = "",
        precision: str = "fp32",
        train_iterations: int = 0,
        tile: int = 0,
        overlap: int = -1,
        tile_batch: int = 0,
    ):
        self._init_self_training(preset, checkpoint, precision, train_iterations)
        self.preset: Preset
        self.net: SSNet | None
        self.tile = int(tile) or self.preset.tile
        self.overlap = int(overlap) if int(overlap) >= 0 else self.preset.overlap
        self.tile_batch = int(tile_batch) or self.preset.tile_batch
        if self.tile % 4 or self.overlap % 4 or not 0 <= self.overlap < self.tile:
            raise ValueError(
                f"tile ({self.tile}) and overlap ({self.overlap}) must be multiples of 4 with overlap < tile"
            )
        self.schedule: NoiseSchedule | None = None

    def load(self, path: Path, device: str = "cpu") -> None:
        """Load a checkpoint directory, a .safetensors file or a released .pt state dict."""
        state, config = load_checkpoint(Path(path), prefer="ema")
        model_config = config.get("model", {})
        if "network" in model_config:
            net_config = NetworkConfig.from_dict(model_config["network"])
            timesteps = int(model_config.get("timesteps", self.preset.timesteps))
            schedule = model_config.get("schedule", self.preset.schedule)
        else:  # a released state dict: the band count from its shapes, the rest from the preset
            net_config = NetworkConfig(channels=_channels_from_state(state, path), **self.preset.network)
            timesteps, schedule = self.preset.timesteps, self.preset.schedule
        net = SSNet(net_config)
        load_state_strictly(net, state, path, label="SSDiff", preset=self.preset.name)
        self.net = net.to(device).eval()
        self.schedule = make_schedule(schedule, timesteps)
        self.checkpoint_path = Path(path)

    # -- training -------------------------------------------------------------------------------
    def train_model(self, request: Any) -> TrainResult:
        """``fusionbench train ssdiff``: joint training then L-BAF into ``request.output_dir``.
        ``request.overrides`` (iterations, batch_size, lr, …) apply to the joint stage."""
        return self._train(request, request.dataset.card.max_value)

    def _train(self, request: Any, max_value: float) -> TrainResult:
        """Train on ``request.split`` of ``request.dataset`` (data divided by ``max_value``, or
        by the preset's fixed scale)."""
        dataset, split, device = request.dataset, request.split, request.device
        preset = self.preset
        config = preset.training.with_overrides(seed=request.seed, **request.overrides)
        if self.train_iterations and "iterations" not in request.overrides:
            config = config.with_overrides(iterations=self.train_iterations)
        scale = preset.fixed_scale or float(max_value)
        data = load_training_set(dataset, split, scale, preset.train_items)
        net_config = NetworkConfig(
            channels=data["lms"].shape[1], ratio=data["lms"].shape[-1] // data["ms"].shape[-1], **preset.network
        )
        torch.manual_seed(request.seed)  # network initialisation draws from the global RNG
        net = SSNet(net_config)
        model_config = {
            "name": "ssdiff",
            "preset": preset.name,
            "network": net_config.to_dict(),
            "timesteps": preset.timesteps,
            "schedule": preset.schedule,
            "parameterization": "x0",
            "loss": preset.loss,
            "scale": scale,
            "dataset": getattr(dataset, "name", ""),
            "split": split,
            "train_items": len(data["gt"]),
            "code_version": TRAINING_CODE_VERSION,
            "plugin_version": __version__,
        }
        _, result = train_ssnet(
            net,
            data,
            make_schedule(preset.schedule, preset.timesteps),
            joint=config,
            lbaf=preset.lbaf,
            crop=preset.crop,
            augment=preset.augment,
            loss=preset.loss,
            output_dir=Path(request.output_dir),
            device=device,
            model_config=model_config,
            logger=request.logger,
            progress=request.progress,
            report=request.report,
            resume=request.resume,
            description=f"ssdiff[{preset.name}]",
        )
        self.load(result.checkpoint, device=device)
        return result

    # -- inference ------------------------------------------------------------------------------
    def denoiser(self, lms_key: str = "lms") -> Denoiser:
        """The network as samplers see it, with this preset's time input and x̂0 handling.

        Correct (default): x̂0 is the residual; with ``clip`` it is kept so that x̂0 + LMS lies in
        [0, 1]. Released (``full_space``): x̂0 = clamp(net + LMS, 0, 1), a full image, which the
        DDIM update then mixes with the residual-space state (quirk B).
        """
        net, schedule = self._ready()
        preset = self.preset
        run = network_fn(net, self.autocast_dtype)

        def fn(
            x_t: torch.Tensor, t: torch.Tensor, cond: dict[str, torch.Tensor], self_cond: Any = None
        ) -> torch.Tensor:
            out = run(x_t, t, cond)
            lms = cond[lms_key]
            if preset.full_space:
                return (out + lms).clamp(0.0, 1.0)
            return (out + lms).clamp(0.0, 1.0) - lms if preset.clip else out

        return Denoiser(fn=fn, schedule=schedule, parameterization="x0", time_input=preset.time_input)

    @torch.no_grad()
    def fuse(self, batch: Any, *, sampler: Any = None, generator: torch.Generator | None = None) -> torch.Tensor:
        net, _ = self._ready()
        scale = self.preset.fixed_scale or float(batch.card.max_value)
        inputs = normalised_inputs(batch.inputs, scale)
        lms = inputs["lms"]
        if lms.shape[1] != net.config.channels:
            raise FusionbenchError(f"SSDiff network expects {net.config.channels} bands; got {lms.shape[1]}")
        if lms.shape[-1] // inputs["ms"].shape[-1] != net.config.ratio:
            raise FusionbenchError(
                f"SSDiff network upsamples MS ×{net.config.ratio}; the data ratio is {lms.shape[-1] // inputs['ms'].shape[-1]}"
            )
        out_dtype = batch.inputs["lms"].dtype
        device = next(net.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        sampler = sampler if sampler is not None else DDIMSampler(steps=10)
        if not isinstance(sampler, DiffusionSampler):
            raise FusionbenchError(f"SSDiff needs a fusionbench diffusion sampler, got {type(sampler).__name__}")
        denoiser = self.denoiser()
        if self.preset.noise == "image":
            # x_T for the whole image, from the core's generator: tiles share it where they overlap
            inputs["noise"] = gaussian_noise(tuple(lms.shape), generator, device, torch.float32)

        def run_tiles(tiles: dict[str, torch.Tensor]) -> torch.Tensor:
            cond = {k: tiles[k] for k in ("pan", "lms", "ms")}
            # without a tiled field (noise="tile") the sampler draws this tile batch's x_T itself
            x0 = sampler.sample(
                denoiser,
                tuple(tiles["lms"].shape),
                cond=cond,
                generator=generator,
                x_init=tiles.get("noise"),
                device=device,
            )
            hrms = x0 if self.preset.full_space else x0 + tiles["lms"]
            return hrms.float().clamp(0.0, 1.0)

        hrms = tiled_apply(run_tiles, inputs, tile=self.tile, overlap=self.overlap, tile_batch=self.tile_batch)
        return (hrms * scale).to(out_dtype)

    def _ready(self) -> tuple[SSNet, NoiseSchedule]:
        if self.net is None or self.schedule is None:
            raise FusionbenchError("SSDiff is not set up: call setup(context) or load(checkpoint) first")
        return self.net, self.schedule


def _channels_from_state(state: dict[str, torch.Tensor], path: Path) -> int:
    try:
        return int(state["to_hrms.2.weight"].shape[0])
    except KeyError:
        raise CheckpointError(f"{path} is not an SSDiff (SSNet) state dict: no 'to_hrms.2.weight'") from None
