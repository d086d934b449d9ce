"""SSDiff's training recipe on top of :mod:`fusionbench.training`: a joint stage, then L-BAF.

Every stage is an ordinary :class:`~fusionbench.training.Trainer` run in its own directory
``<out>/stages/NN-<branch>`` (so each one resumes exactly, and a finished one is skipped; a
stage records a hash of the weights it started from, so when an earlier stage changes — e.g.
a longer joint budget — the later ones are trained again from scratch, not reused), with
the shared objective :func:`fusionbench.diffusion.objectives.diffusion_loss` (x0 residual
target, L1, t ~ U{0..T-1} fed as the original timestep — the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main)). A fine-tuning stage
starts from the previous stage's EMA weights, trains low-rank deltas on one branch
(:mod:`.lbaf`) and merges their EMA average back. ``<out>`` finally holds the merged network
as a plain checkpoint (``config.json`` + ``model.safetensors``) that :func:`load_checkpoint`
reads like any other.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fusionbench.diffusion.objectives import diffusion_loss
from fusionbench.diffusion.schedules import NoiseSchedule
from fusionbench.training.checkpoint import is_complete, load_checkpoint, read_config, save_checkpoint
from fusionbench.training.config import TrainConfig
from fusionbench.training.loop import Trainer, TrainResult

from .data import TrainingBatches
from .lbaf import BranchTuning, LBAFConfig

ReportFn = Callable[[str], None]


def network_fn(net: nn.Module, autocast: torch.dtype | None = None) -> Callable[..., torch.Tensor]:
    """Adapt SSNet(lms, pan, ms, x_t, t) to the samplers' / objective's ``fn(x_t, t, cond=…)``."""

    def fn(x_t: torch.Tensor, t: torch.Tensor, cond: Mapping[str, torch.Tensor], self_cond: Any = None) -> torch.Tensor:
        if autocast is None:
            return net(cond["lms"], cond["pan"], cond["ms"], x_t, t)
        with torch.autocast(x_t.device.type, dtype=autocast):
            return net(cond["lms"], cond["pan"], cond["ms"], x_t, t).float()

    return fn


def stage_configs(joint: TrainConfig, lbaf: LBAFConfig | None) -> list[tuple[str, TrainConfig]]:
    """(branch, config) of every stage: ``joint`` first, then the L-BAF stages. Fine-tuning
    stages use their own budget, learning rate, batch and EMA, no LR milestones, and a seed
    derived from the joint one (so stages do not replay the same batches)."""
    stages = [("joint", joint)]
    if lbaf is None:
        return stages
    for i, branch in enumerate(lbaf.stages, start=1):
        stages.append(
            (
                branch,
                joint.with_overrides(
                    iterations=lbaf.iterations,
                    batch_size=lbaf.batch_size,
                    lr=lbaf.lr,
                    lr_milestones=(),
                    grad_clip=lbaf.grad_clip,
                    ema_decay=lbaf.ema_decay,
                    ema_start=lbaf.ema_start,
                    seed=joint.seed + i,
                ),
            )
        )
    return stages


def state_fingerprint(net: nn.Module) -> str:
    """A short hash of every tensor of ``net``'s state dict (names, dtypes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        data = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}:{data.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(data.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def _resumable(directory: Path, start: str, iterations: int) -> tuple[bool, bool]:
    """(may resume, already finished) for a stage of ``iterations`` steps that starts from
    weights hashing to ``start``: only a stage that started from the same weights is reused."""
    if not is_complete(directory):
        return True, False  # nothing written yet, or a partial state the Trainer resumes
    config = read_config(directory)
    if config.get("model", {}).get("start_sha256") != start:
        return False, False
    return True, int(config.get("step", -1)) >= iterations


def train_ssnet(
    net: nn.Module,
    data: Mapping[str, torch.Tensor],
    schedule: NoiseSchedule,
    *,
    joint: TrainConfig,
    lbaf: LBAFConfig | None,
    crop: int | None,
    augment: bool,
    loss: str,
    output_dir: Path,
    device: str,
    model_config: Mapping[str, Any],
    logger: Any = None,
    progress: bool = False,
    report: ReportFn | None = None,
    resume: bool = True,
    description: str = "ssdiff",
) -> tuple[nn.Module, TrainResult]:
    """Run every stage (skipping finished ones) and write the merged network into ``output_dir``."""
    output_dir = Path(output_dir)
    t0 = time.perf_counter()

    def loss_fn(model: nn.Module, batch: dict[str, Any], generator: torch.Generator) -> torch.Tensor:
        return diffusion_loss(
            network_fn(model),
            batch["x0"],
            schedule,
            parameterization="x0",
            loss=loss,
            cond=batch["cond"],
            generator=generator,
        )

    history: list[tuple[int, float]] = []
    done_steps, final_loss = 0, None
    stages_info = []
    for index, (branch, config) in enumerate(stage_configs(joint, lbaf)):
        stage_dir = output_dir / "stages" / f"{index:02d}-{branch}"
        if branch == "joint":
            model: nn.Module = net
        else:
            assert lbaf is not None
            torch.manual_seed(config.seed)  # adapter initialisation draws from the global RNG
            model = BranchTuning(net, branch, lbaf.rank, lbaf.scale, lbaf.detach)
        start = state_fingerprint(model)
        same_start, finished = _resumable(stage_dir, start, config.iterations)
        if not (resume and same_start and finished):
            trainer = Trainer(
                model,
                loss_fn,
                TrainingBatches(data, config.batch_size, crop, augment),
                config,
                output_dir=stage_dir,
                device=device,
                model_config={**model_config, "stage": branch, "start_sha256": start},
                logger=logger,
                progress=progress,
                report=report,
                description=f"{description} {branch}",
            )
            trainer.fit(resume=resume and same_start)
        state, stage_config = load_checkpoint(stage_dir, prefer="ema")
        model.load_state_dict(state)
        model.to(device)
        if isinstance(model, BranchTuning):
            net = model.finish()
        stage_history = [(done_steps + int(s), float(v)) for s, v in stage_config.get("history", [])]
        history.extend(stage_history)
        done_steps += int(stage_config.get("step", config.iterations))
        final_loss = stage_config.get("final_loss", final_loss)
        stages_info.append(
            {"branch": branch, "iterations": config.iterations, "final_loss": stage_config.get("final_loss")}
        )
    net.eval()
    save_checkpoint(
        output_dir,
        model_state=net.state_dict(),
        config={
            "model": dict(model_config),
            "training": joint.to_dict(),
            "lbaf": lbaf.to_dict() if lbaf is not None else None,
            "stages": stages_info,
            "step": done_steps,
            "final_loss": final_loss,
            "history": [list(h) for h in history],
        },
    )
    return net, TrainResult(output_dir, done_steps, final_loss, time.perf_counter() - t0, history)
