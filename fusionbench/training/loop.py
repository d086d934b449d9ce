"""The training loop shared by model plugins: AdamW, MultiStep LR, gradient clipping, EMA,
mixed precision on CUDA, periodic checkpoints, exact resume, progress and MLflow loss curves.

A model plugin provides three things: the ``nn.Module``, a ``loss_fn(model, batch, generator)``
and a batch source ``batches(step, generator) -> batch`` (tensors, or dicts/lists of tensors).
All randomness of the loop that is not inside modules (data order, timesteps, noise) must come
from ``generator`` — a CPU ``torch.Generator`` seeded from ``config.seed`` whose state, together
with torch's global RNG state (dropout), is checkpointed: training N steps, or N/2 then resuming
for N/2, gives the same weights on the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import FusionbenchError
from .checkpoint import EMA_FILE, MODEL_FILE, STATE_FILE, load_weights, read_config, save_checkpoint
from .config import TrainConfig
from .ema import EMA

LossFn = Callable[[nn.Module, Any, torch.Generator], torch.Tensor]
BatchFn = Callable[[int, torch.Generator], Any]
ReportFn = Callable[[str], None]


class TrainingDiverged(FusionbenchError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    final_loss: float | None
    wall_s: float
    history: list[tuple[int, float]] = field(default_factory=list)


class TensorBatches:
    """Random mini-batches (without replacement within a batch) from in-memory tensors.

    ``TensorBatches({"x0": x0, "cond": cond}, batch_size=8)(step, generator)`` returns a dict of
    the same keys; indices come from ``generator`` so the order is reproducible and resumable.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor], batch_size: int):
        sizes = {len(t) for t in tensors.values()}
        if len(sizes) != 1:
            raise ValueError(f"tensors have different lengths: {sizes}")
        self.tensors = dict(tensors)
        self.size = sizes.pop()
        self.batch_size = min(batch_size, self.size)

    def __call__(self, step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        index = torch.randperm(self.size, generator=generator)[: self.batch_size]
        return {k: v[index] for k, v in self.tensors.items()}


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a training run, or None for full precision."""
    if device.type != "cuda" or amp == "off":
        return None
    if amp == "fp16":
        return torch.float16
    if amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        batches: BatchFn,
        config: TrainConfig,
        *,
        output_dir: Path,
        device: str | torch.device = "cpu",
        model_config: Mapping[str, Any] | None = None,
        logger: Any = None,
        progress: bool = False,
        report: ReportFn | None = None,
        description: str = "training",
    ):
        self.model = model
        self.loss_fn = loss_fn
        self.batches = batches
        self.config = config
        self.output_dir = Path(output_dir)
        self.device = torch.device(device)
        self.model_config = dict(model_config or {})
        self.logger = logger
        self.progress = progress
        self.report = report
        self.description = description

    # -- public -------------------------------------------------------------------------------
    def fit(self, resume: bool = True) -> TrainResult:
        cfg = self.config
        model = self.model.to(self.device)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            optimizer, milestones=list(cfg.lr_milestones), gamma=cfg.lr_gamma
        )
        ema = EMA(model, cfg.ema_decay, cfg.ema_start) if cfg.ema_decay is not None else None
        amp_dtype = autocast_dtype(cfg.amp, self.device)
        scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        generator = torch.Generator().manual_seed(cfg.seed)
        step, history = 0, []
        if resume and (self.output_dir / STATE_FILE).is_file():
            step, history = self._restore(model, optimizer, scheduler, scaler, ema, generator)
            self._say(f"{self.description}: resuming at step {step}/{cfg.iterations}")

        if self.logger is not None:
            self.logger.start({"model": self.model_config, "training": cfg.to_dict(), "resumed_at": step})
        t0 = time.perf_counter()
        window: list[float] = []
        status = "FAILED"
        bar = _ProgressBar(self.description, cfg.iterations, step) if self.progress else None
        try:
            while step < cfg.iterations:
                batch = to_device(self.batches(step, generator), self.device)
                with torch.autocast(self.device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                    loss = self.loss_fn(model, batch, generator)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"{self.description}: loss is {value} at step {step + 1}; lower the learning rate"
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if cfg.grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                step += 1
                if ema is not None:
                    ema.update(model, step)
                window.append(value)
                if step % cfg.log_every == 0 or step == cfg.iterations:
                    mean = sum(window) / len(window)
                    history.append((step, mean))
                    window = []
                    lr = optimizer.param_groups[0]["lr"]
                    if self.logger is not None:
                        self.logger.log_metrics(step, {"loss": mean, "lr": lr})
                    if bar is None:
                        self._say(f"{self.description}: step {step}/{cfg.iterations} loss {mean:.5f}")
                if bar is not None:
                    bar.advance(step, value)
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.iterations:
                    self._save(model, optimizer, scheduler, scaler, ema, generator, step, history)
            path = self._save(model, optimizer, scheduler, scaler, ema, generator, step, history)
            status = "FINISHED"
        finally:
            if bar is not None:
                bar.close()
            if self.logger is not None:
                self.logger.finish(status)
        model.eval()
        final = history[-1][1] if history else None
        return TrainResult(path, step, final, time.perf_counter() - t0, history)

    # -- internals ----------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        if self.report is not None:
            self.report(message)

    def _save(self, model, optimizer, scheduler, scaler, ema, generator, step, history) -> Path:
        state = {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        config = {
            "model": self.model_config,
            "training": self.config.to_dict(),
            "step": step,
            "final_loss": history[-1][1] if history else None,
            "history": [list(h) for h in history],
        }
        return save_checkpoint(
            self.output_dir,
            model_state=model.state_dict(),
            ema_state=ema.state_dict(model) if ema is not None else None,
            training_state=state,
            config=config,
        )

    def _restore(self, model, optimizer, scheduler, scaler, ema, generator) -> tuple[int, list[tuple[int, float]]]:
        state = torch.load(self.output_dir / STATE_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(load_weights(self.output_dir / MODEL_FILE))
        if ema is not None and (self.output_dir / EMA_FILE).is_file():
            ema.load_shadow(load_weights(self.output_dir / EMA_FILE))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        history = [tuple(h) for h in read_config(self.output_dir).get("history", [])]
        return int(state["step"]), history  # type: ignore[return-value]


class _ProgressBar:
    """A rich progress bar showing the running loss (only for interactive ``fusionbench train``)."""

    def __init__(self, description: str, total: int, completed: int):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        self.progress.start()
        self.task = self.progress.add_task(description, total=total, completed=completed, loss="-")

    def advance(self, step: int, loss: float) -> None:
        self.progress.update(self.task, completed=step, loss=f"{loss:.5f}")

    def close(self) -> None:
        self.progress.stop()
