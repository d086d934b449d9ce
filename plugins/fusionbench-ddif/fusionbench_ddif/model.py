"""The DDIF model as fusionbench runs it: checkpoint loading or self-training, and ``fuse``.

Lifecycle (core contract): ``DDIF(**params)`` → ``setup(context)`` (load ``checkpoint`` through
the weights resolver, or train on the dataset's train split when the preset allows and cache the
result under a content key) → ``fuse(batch, sampler=…, generator=…)`` per image, returning HRMS
in the dataset's native units. ``train_model(request)`` serves ``fusionbench train ddif``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from fusionbench.diffusion.objectives import diffusion_loss
from fusionbench.diffusion.samplers import DDIMSampler, Denoiser, DiffusionSampler
from fusionbench.diffusion.schedules import NoiseSchedule, cosine_schedule, make_schedule
from fusionbench.errors import FusionbenchError
from fusionbench.training.checkpoint import CheckpointError, load_checkpoint
from fusionbench.training.loop import Trainer, TrainResult
from fusionbench.training.selftrain import SelfTrainingModel, load_state_strictly

from . import __version__
from .condition import build_condition
from .data import PAN_CHANNELS, TrainingBatches, load_training_set, normalised_pair, task_of
from .network import NetworkConfig, UNetSR3
from .presets import PRESETS, TRAINING_CODE_VERSION, Preset


class DDIF(SelfTrainingModel):
    """DDIF / Dif-PAN (Cao et al., Information Fusion 2024) for pansharpening and MHIF."""

    label = "DDIF"
    model_name = "ddif"
    code_version = TRAINING_CODE_VERSION
    presets = PRESETS

    def __init__(self, preset: str = "tiny", checkpoint: str = "", precision: str = "fp32", train_iterations: int = 0):
        self._init_self_training(preset, checkpoint, precision, train_iterations)
        self.preset: Preset
        self.net: UNetSR3 | None
        self.task: str | None = None
        self.schedule: NoiseSchedule | None = None
        self.parameterization = self.preset.parameterization

    def setup(self, context: Any) -> None:
        """Resolve the preset for the run's task (its training budget enters the cache key), then
        load or self-train as every self-training model does."""
        if context.task:
            self.preset = self.preset.for_task(context.task)
        super().setup(context)

    def load(self, path: Path, device: str = "cpu") -> None:
        """Load a checkpoint directory, a .safetensors file or a released .pt/.pth state dict."""
        state, config = load_checkpoint(Path(path), prefer="ema")
        model_config = config.get("model", {})
        if "network" in model_config:
            net_config = NetworkConfig.from_dict(model_config["network"])
            task = model_config.get("task") or _task_from_pan_channels(net_config.pan_channels)
            timesteps = int(model_config.get("timesteps", self.preset.timesteps))
            schedule = model_config.get("schedule", self.preset.schedule)
            self.parameterization = model_config.get("parameterization", self.preset.parameterization)
        else:  # a released state dict: infer the band counts, take the rest from the preset
            channels, pan_channels = _channels_from_state(state, path)
            net_config = NetworkConfig(channels=channels, pan_channels=pan_channels, **self.preset.network)
            task, timesteps, schedule = (
                _task_from_pan_channels(pan_channels),
                self.preset.timesteps,
                self.preset.schedule,
            )
        net = UNetSR3(net_config)
        load_state_strictly(net, state, path, label="DDIF", preset=self.preset.name)
        self.net = net.to(device).eval()
        self.task = task
        self.schedule = make_schedule(schedule, timesteps)
        self.checkpoint_path = Path(path)

    # -- training -------------------------------------------------------------------------------
    def train_model(self, request: Any) -> TrainResult:
        """``fusionbench train ddif``: train on ``request.dataset``'s split into ``request.output_dir``."""
        return self._train(request, request.dataset.card.max_value)

    def _train(self, request: Any, max_value: float) -> TrainResult:
        """Train on ``request.split`` of ``request.dataset`` (data divided by ``max_value``)."""
        dataset, split, device = request.dataset, request.split, request.device
        task, data = load_training_set(dataset, split, max_value, self.preset.train_items)
        preset = self.preset.for_task(task)  # the data decides the task (`fusionbench train` has no run task)
        config = preset.training.with_overrides(seed=request.seed, **request.overrides)
        if self.train_iterations and "iterations" not in request.overrides:
            config = config.with_overrides(iterations=self.train_iterations)
        channels, pan_channels = data["lms"].shape[1], data["pan"].shape[1]
        if pan_channels != PAN_CHANNELS[task]:
            raise FusionbenchError(f"DDIF {task}: expected {PAN_CHANNELS[task]} PAN channels, got {pan_channels}")
        net_config = NetworkConfig(channels=channels, pan_channels=pan_channels, **preset.network)
        torch.manual_seed(request.seed)  # network initialisation and dropout draw from the global RNG
        net = UNetSR3(net_config)
        schedule = make_schedule(preset.schedule, preset.timesteps)
        batches = TrainingBatches(data, task, config.batch_size, preset.crop, preset.augment)

        def loss_fn(model: UNetSR3, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
            return diffusion_loss(
                _network_fn(model),
                batch["x0"],
                schedule,
                parameterization=preset.parameterization,
                loss=preset.loss,
                cond=batch["cond"],
                generator=generator,
                self_condition_prob=preset.self_condition_prob,
            )

        model_config = {
            "name": "ddif",
            "preset": preset.name,
            "task": task,
            "network": net_config.to_dict(),
            "timesteps": preset.timesteps,
            "schedule": preset.schedule,
            "parameterization": preset.parameterization,
            "loss": preset.loss,
            "self_condition_prob": preset.self_condition_prob,
            "max_value": float(max_value),
            "dataset": getattr(dataset, "name", ""),
            "split": split,
            "train_items": len(data["gt"]),
            "code_version": TRAINING_CODE_VERSION,
            "plugin_version": __version__,
        }
        trainer = Trainer(
            net,
            loss_fn,
            batches,
            config,
            output_dir=Path(request.output_dir),
            device=device,
            model_config=model_config,
            logger=request.logger,
            progress=request.progress,
            report=request.report,
            description=f"ddif[{preset.name}]",
        )
        result = trainer.fit(resume=request.resume)
        self.load(result.checkpoint, device=device)
        return result

    # -- inference ------------------------------------------------------------------------------
    def denoiser(self, sampler: DiffusionSampler | None = None) -> Denoiser:
        """The network as samplers see it, with this preset's time input and self-conditioning."""
        net, schedule = self._ready()
        preset = self.preset
        if preset.release_schedule:
            steps = getattr(sampler, "steps", 25)
            schedule = cosine_schedule(steps)  # Dif-PAN test_fn: a fresh `steps`-step schedule
        return Denoiser(
            fn=_network_fn(net, self.autocast_dtype),
            schedule=schedule,
            parameterization=self.parameterization,
            time_input=preset.time_input,
            self_condition=preset.self_condition_inference,
        )

    @torch.no_grad()
    def fuse(self, batch: Any, *, sampler: Any = None, generator: torch.Generator | None = None) -> torch.Tensor:
        net, _ = self._ready()
        task = task_of(batch.inputs)
        if task != self.task:
            raise FusionbenchError(f"this DDIF checkpoint does {self.task}; the batch is {task}")
        pan, lms = normalised_pair(batch.inputs, task, batch.card.max_value)
        out_dtype = batch.inputs[_lms_key(task)].dtype
        if lms.shape[1] != net.config.channels or pan.shape[1] != net.config.pan_channels:
            raise FusionbenchError(
                f"DDIF network expects {net.config.channels} bands and {net.config.pan_channels} PAN channels; "
                f"got {lms.shape[1]} and {pan.shape[1]}"
            )
        device = next(net.parameters()).device
        pan, lms = pan.to(device), lms.to(device)
        height, width = lms.shape[-2:]
        pan_p, lms_p = _pad_to_multiple(pan, net.config.size_multiple), _pad_to_multiple(lms, net.config.size_multiple)
        cond = build_condition(lms_p, pan_p, task)
        sampler = sampler if sampler is not None else DDIMSampler(steps=25)
        residual = sampler.sample(
            self.denoiser(sampler), tuple(lms_p.shape), cond=cond, generator=generator, device=device
        )
        hrms = (residual[..., :height, :width].float() + lms).clamp(0.0, 1.0)
        return (hrms * float(batch.card.max_value)).to(out_dtype)

    def _ready(self) -> tuple[UNetSR3, NoiseSchedule]:
        if self.net is None or self.schedule is None:
            raise FusionbenchError("DDIF is not set up: call setup(context) or load(checkpoint) first")
        return self.net, self.schedule


def _network_fn(net: UNetSR3, autocast: torch.dtype | None = None) -> Callable[..., torch.Tensor]:
    """Adapt the network to the Denoiser / diffusion_loss calling convention."""

    def fn(x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None, self_cond: torch.Tensor | None = None):
        if autocast is None:
            return net(x_t, t, cond, self_cond)
        with torch.autocast(x_t.device.type, dtype=autocast):
            return net(x_t, t, cond, self_cond).float()

    return fn


def _lms_key(task: str) -> str:
    from .data import TASK_FIELDS

    return TASK_FIELDS[task][1]


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad bottom/right so H and W are multiples of the network's (even) size multiple."""
    multiple = max(multiple, 2)
    pad_h, pad_w = (-x.shape[-2]) % multiple, (-x.shape[-1]) % multiple
    if not (pad_h or pad_w):
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")


def _task_from_pan_channels(pan_channels: int) -> str:
    for task, count in PAN_CHANNELS.items():
        if count == pan_channels:
            return task
    raise CheckpointError(f"DDIF checkpoint has {pan_channels} PAN channels; expected 1 (pansharpening) or 3 (mhif)")


def _channels_from_state(state: dict[str, torch.Tensor], path: Path) -> tuple[int, int]:
    try:
        channels = state["downs.0.weight"].shape[1] // 2
        coarse = state["downs.1.cond_inj.body.0.weight"].shape[1]
    except KeyError as exc:
        raise CheckpointError(f"{path} is not a DDIF (UNetSR3) state dict: no {exc}") from None
    return int(channels), int(coarse - channels)
