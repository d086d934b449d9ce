"""``fusionbench doctor``: what a bug report needs, in one table."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from fusionbench import settings

from .common import console, registry, results_option


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


@click.command()
@results_option
@click.pass_context
def doctor(ctx: click.Context, results_dir: Path | None) -> None:
    """Environment report: versions, devices, MLflow store, plugin health, results folder."""
    console().print(report(registry(ctx), results_dir))


def report(loaded: Any, results_dir: Path | None) -> Table:
    table = Table(title="fusionbench doctor", show_header=False)
    table.add_column("item")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{sys.version.split()[0]} ({sys.executable})")
    table.add_row("platform", platform.platform())
    table.add_row("cpu cores", str(os.cpu_count()))
    for dist in (
        "fusionbench",
        "torch",
        "numpy",
        "pandas",
        "pyarrow",
        "mlflow",
        "pluggy",
        "h5py",
        "pywavelets",
        "scipy",
    ):
        table.add_row(dist, _version(dist))
    try:
        import torch

        cuda = torch.cuda.is_available()
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
        table.add_row("cuda", f"{torch.version.cuda} available={cuda}")
        table.add_row("gpus", ", ".join(gpus) or "none (CPU workers will be used)")
        table.add_row("torch threads", str(torch.get_num_threads()))
    except Exception as exc:  # noqa: BLE001
        table.add_row("torch", f"[red]cannot import: {exc}[/]")
    tracking = os.environ.get("MLFLOW_TRACKING_URI") or "MLflow default (sqlite:///mlflow.db in the working directory)"
    table.add_row("mlflow store", tracking)
    results = settings.results_dir(results_dir)
    writable = os.access(
        results if results.exists() else results.parent if results.parent.exists() else Path("."), os.W_OK
    )
    table.add_row(
        "results folder", f"{escape(str(results.resolve()))} ({'writable' if writable else '[red]not writable[/]'})"
    )
    table.add_row("data root", escape(str(settings.data_root() or "not set (embedded synthetic datasets only)")))
    table.add_row("weights folder", escape(str(settings.weights_dir() or "not set")))
    for status in loaded.statuses:
        state = {"ok": "[green]ok[/]", "disabled": "[dim]disabled[/]"}.get(
            status.state, f"[red]broken[/]: {escape(status.short_error)}"
        )
        table.add_row(f"plugin {escape(status.name)}", f"{escape(status.dist)} {escape(status.version)} {state}")
    for conflict in loaded.conflicts:
        table.add_row("[yellow]conflict[/]", escape(conflict.message()))
    return table
