"""``fusionbench train MODEL --preset P --dataset D``: train a model on a dataset's train split.

A core command (wired in :mod:`fusionbench.cli`). Import-light: click only at module level; torch,
the registry and mlflow are imported when the command runs. Any model whose object implements
``train_model(TrainRequest)`` (``fusionbench.training.api``) can be trained this way.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from fusionbench import settings
from fusionbench.errors import FusionbenchError

from .common import data_root_option


@click.command("train")
@click.argument("model")
@click.option("--preset", help="the model's preset (e.g. tiny, paper, release)")
@click.option(
    "--dataset", "-d", "dataset_name", required=True, help="dataset to train on (see `fusionbench list datasets`)"
)
@click.option("--split", default="train", show_default=True, help="split to train on")
@click.option("--param", "-p", "params", multiple=True, help="other model parameter KEY=VALUE (repeatable)")
@click.option("--iterations", type=int, help="override the preset's number of iterations")
@click.option("--batch-size", type=int, help="override the preset's batch size")
@click.option("--lr", type=float, help="override the preset's learning rate")
@click.option("--checkpoint-every", type=int, help="save a resumable checkpoint every N iterations")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", help="cpu, cuda, cuda:1 … (default: cuda when available)")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="checkpoint folder (default: ./fusionbench-checkpoints/MODEL-PRESET-DATASET-sSEED)",
)
@click.option("--resume/--no-resume", default=True, show_default=True, help="continue from a checkpoint in --out")
@data_root_option
@click.option("--no-mlflow", is_flag=True, help="do not log the loss curve to MLflow")
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.pass_context
def train(
    ctx: click.Context,
    model: str,
    preset: str | None,
    dataset_name: str,
    split: str,
    params: tuple[str, ...],
    iterations: int | None,
    batch_size: int | None,
    lr: float | None,
    checkpoint_every: int | None,
    seed: int,
    device: str | None,
    out_dir: Path | None,
    resume: bool,
    data_root: Path | None,
    no_mlflow: bool,
    quiet: bool,
) -> None:
    """Train MODEL on a dataset's train split and write a checkpoint (safetensors + JSON config)."""

    from fusionbench.engine.planner import resolve_params
    from fusionbench.lazy import build
    from fusionbench.registry import load_registry

    registry = ctx.find_root().meta.get("fusionbench.registry") or load_registry()
    entry = registry.get("model", model)
    given = dict(_parse_params(params))
    if preset is not None:
        if "preset" not in entry.spec.params:
            raise FusionbenchError(f"model {model!r} has no presets")
        given["preset"] = preset
    resolved = resolve_params("model", entry.spec.name, entry.spec.params, given)
    instance = build(entry.spec, **resolved)
    if not callable(getattr(instance, "train_model", None)):
        raise FusionbenchError(f"model {model!r} cannot be trained from the command line (no train_model method)")

    dataset_entry = registry.get("dataset", dataset_name)
    if not set(entry.spec.tasks) & {dataset_entry.spec.task}:
        raise FusionbenchError(f"model {model!r} does not do {dataset_entry.spec.task} (dataset {dataset_name!r})")
    root = settings.data_root(data_root)
    dataset = build(dataset_entry.spec, root=root)

    device = device or _default_device()
    label = "-".join(
        filter(None, [entry.spec.name, str(resolved.get("preset") or ""), dataset_entry.spec.name, f"s{seed}"])
    )
    out_dir = out_dir or Path("fusionbench-checkpoints") / label
    overrides = {
        k: v
        for k, v in {
            "iterations": iterations,
            "batch_size": batch_size,
            "lr": lr,
            "checkpoint_every": checkpoint_every,
        }.items()
        if v is not None
    }

    from fusionbench.training.api import TrainRequest

    logger = None
    if not no_mlflow:
        from fusionbench.training.tracking import MlflowTrainingLogger

        logger = MlflowTrainingLogger(
            run_name=label,
            tags={
                "fusionbench.model": entry.spec.name,
                "fusionbench.dataset": dataset_entry.spec.name,
                "fusionbench.preset": str(resolved.get("preset", "")),
            },
        )
    request = TrainRequest(
        dataset=dataset,
        dataset_name=dataset_entry.spec.name,
        output_dir=out_dir,
        split=split,
        device=device,
        seed=seed,
        overrides=overrides,
        resume=resume,
        logger=logger,
        progress=not quiet,
        report=lambda message: click.echo(message, err=True),
    )
    result = instance.train_model(request)
    loss = f"{result.final_loss:.5f}" if result.final_loss is not None else "n/a"
    click.echo(f"trained {label}: {result.steps} iterations in {result.wall_s:.1f}s, final loss {loss}")
    click.echo(f"checkpoint: {result.checkpoint}")
    param_text = ",".join(
        [*(f"{k}={v}" for k, v in given.items() if k != "checkpoint"), f"checkpoint={result.checkpoint}"]
    )
    click.echo(f"evaluate:   fusionbench run --suite <suite> -m '{entry.spec.name}[{param_text}]'")


def _parse_params(values: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", value)
        if not match:
            raise FusionbenchError(f"--param {value!r} is not KEY=VALUE")
        out.append((match.group(1), match.group(2)))
    return out


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
