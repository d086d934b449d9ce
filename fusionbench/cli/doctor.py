"""``fusionbench doctor``: what a bug report needs, in one table."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import sys
from pathlib import Path
from typing import Any

from rich.table import Table


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def report(registry: Any, results_dir: Path | None) -> Table:
    from ..results.store import default_results_dir

    table = Table(title="fusionbench doctor", show_header=False)
    table.add_column("item")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{sys.version.split()[0]} ({sys.executable})")
    table.add_row("platform", platform.platform())
    table.add_row("cpu cores", str(os.cpu_count()))
    for dist in ("fusionbench", "torch", "numpy", "pandas", "pyarrow", "mlflow", "pluggy", "h5py", "pywavelets", "scipy"):
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
    results = results_dir or default_results_dir()
    writable = os.access(results if results.exists() else results.parent if results.parent.exists() else Path("."), os.W_OK)
    table.add_row("results folder", f"{results.resolve()} ({'writable' if writable else '[red]not writable[/]'})")
    table.add_row("data root", os.environ.get("FUSIONBENCH_DATA", "not set (embedded synthetic datasets only)"))
    table.add_row("weights folder", os.environ.get("FUSIONBENCH_WEIGHTS", "not set"))
    for status in registry.statuses:
        state = {"ok": "[green]ok[/]", "disabled": "[dim]disabled[/]"}.get(status.state, f"[red]broken[/]: {status.short_error}")
        table.add_row(f"plugin {status.name}", f"{status.dist} {status.version} {state}")
    for conflict in registry.conflicts:
        table.add_row("[yellow]conflict[/]", conflict.message())
    return table
