"""``fusionbench ddfm …`` commands: train / export the grey prior, describe the priors.

``fusionbench train MODEL --dataset D`` trains a model on a fusion dataset's train split; DDFM is
training-free for fusion and its prior learns from natural images instead, so the prior has its
own command. Import-light: click only; torch is imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group("ddfm")
def ddfm() -> None:
    """DDFM's diffusion prior: train the tiny grey prior, show the priors' architecture."""


@ddfm.command("train-prior")
@click.option("--preset", default="tiny", show_default=True, help="prior recipe (see fusionbench_ddfm.prior_training)")
@click.option(
    "--images",
    default="skimage",
    show_default=True,
    help="'skimage' (photographs bundled in scikit-image) or a folder of images",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("fusionbench-checkpoints/ddfm-prior-tiny"),
    show_default=True,
    help="checkpoint folder (resumable)",
)
@click.option(
    "--export",
    "export_to",
    type=click.Path(path_type=Path),
    help="also write the EMA weights as one .safetensors (+ .json) file, e.g. the shipped weights/tiny_prior.safetensors",
)
@click.option("--iterations", type=int, help="override the recipe's iterations")
@click.option("--batch-size", type=int, help="override the recipe's batch size")
@click.option("--lr", type=float, help="override the recipe's learning rate")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option(
    "--threads",
    type=int,
    default=1,
    show_default=True,
    help="torch CPU threads (1 is reproducible and fastest on a busy machine)",
)
@click.option("--resume/--no-resume", default=True, show_default=True)
@click.option("--mlflow", "use_mlflow", is_flag=True, help="log the loss curve to MLflow")
@click.option("--quiet", is_flag=True)
def train_prior_cmd(
    preset: str,
    images: str,
    out_dir: Path,
    export_to: Path | None,
    iterations: int | None,
    batch_size: int | None,
    lr: float | None,
    seed: int,
    device: str,
    threads: int,
    resume: bool,
    use_mlflow: bool,
    quiet: bool,
) -> None:
    """Train the grey diffusion prior DDFM's tiny preset uses (ε-prediction, linear T = 1000)."""
    import torch

    from .prior_training import export_prior, train_prior

    if device == "cpu" and threads:
        torch.set_num_threads(threads)
    logger = None
    if use_mlflow:
        from fusionbench.training.tracking import MlflowTrainingLogger

        logger = MlflowTrainingLogger(
            run_name=f"ddfm-prior-{preset}-s{seed}", tags={"fusionbench.model": "ddfm", "fusionbench.preset": preset}
        )
    overrides = {
        k: v for k, v in {"iterations": iterations, "batch_size": batch_size, "lr": lr}.items() if v is not None
    }
    result = train_prior(
        preset,
        out_dir,
        images=images,
        seed=seed,
        device=device,
        overrides=overrides,
        resume=resume,
        logger=logger,
        progress=not quiet,
        report=lambda message: click.echo(message, err=True),
    )
    loss = f"{result.final_loss:.5f}" if result.final_loss is not None else "n/a"
    click.echo(f"trained ddfm prior[{preset}]: {result.steps} iterations in {result.wall_s:.1f}s, final loss {loss}")
    click.echo(f"checkpoint: {result.checkpoint}")
    target = result.checkpoint
    if export_to is not None:
        target = export_prior(result.checkpoint, export_to)
        click.echo(f"exported: {target}")
    click.echo(f"use it:     fusionbench run --suite ivf -m 'ddfm[checkpoint={target}]'")


@ddfm.command("info")
@click.option("--preset", type=click.Choice(["tiny", "paper"]), default=None, help="only this prior")
def info_cmd(preset: str | None) -> None:
    """Parameter and tensor counts of the priors (built on the meta device: instant, no memory)."""
    import torch

    from .unet import PAPER_CONFIG, TINY_CONFIG, GuidedDiffusionUNet, count_parameters

    for name, config in (("tiny", TINY_CONFIG), ("paper", PAPER_CONFIG)):
        if preset and name != preset:
            continue
        with torch.device("meta"):
            net = GuidedDiffusionUNet(config)
        click.echo(
            f"{name}: {count_parameters(net):,} parameters, {len(net.state_dict())} tensors, "
            f"in/out channels {config.in_channels}/{config.out_channels}, size multiple {config.size_multiple}"
        )
