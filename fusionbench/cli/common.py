"""What every command module shares: the console, the registry of this invocation, the
comma-splitting of ``-m``/``-d``/``-s`` selections, and the options several commands take.

Import-light: click only; rich, the registry and everything heavier are imported when called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

RESULTS_HELP = "results folder (default: $FUSIONBENCH_RESULTS or ./fusionbench-results)"
DATA_ROOT_HELP = "root folder of the real datasets (default: $FUSIONBENCH_DATA)"

results_option = click.option("--results", "results_dir", type=click.Path(path_type=Path), help=RESULTS_HELP)
data_root_option = click.option("--data-root", type=click.Path(path_type=Path), help=DATA_ROOT_HELP)


def console() -> Any:
    """A rich console; when output is piped, wide enough that tables are not folded."""
    from rich.console import Console

    out = Console()
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(width=200)
    return out


def registry(ctx: click.Context | None = None, **kwargs: Any) -> Any:
    """The registry of this invocation, loaded once (unless ``kwargs`` ask for a special one,
    e.g. ``disabled=["mlflow"]`` for ``--no-mlflow``)."""
    from fusionbench.registry import load_registry

    root = (ctx or click.get_current_context()).find_root()
    cached = root.meta.get("fusionbench.registry")
    if cached is not None and not kwargs:
        return cached
    loaded = load_registry(**kwargs)
    if not kwargs:
        root.meta["fusionbench.registry"] = loaded
    return loaded


def split_selection(values: Sequence[str]) -> list[str]:
    """Split comma-separated selections, keeping commas inside ``name[a=1,b=2]`` brackets."""
    out: list[str] = []
    for value in values:
        depth, current = 0, ""
        for char in value:
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            if char == "," and depth == 0:
                if current.strip():
                    out.append(current.strip())
                current = ""
            else:
                current += char
        if current.strip():
            out.append(current.strip())
    return out


def print_registry_problems(out: Any, loaded: Any) -> None:
    """One yellow line per broken plugin and per name conflict: commands use the first plugin of
    a conflict and none of a broken plugin's components, so say so before anything runs."""
    from rich.markup import escape

    for status in loaded.broken:
        out.print(
            f"[yellow]broken plugin:[/] {escape(status.name)} ({escape(status.dist)}): "
            f"{escape(status.short_error)}; its components are not available",
            soft_wrap=True,
        )
    for conflict in loaded.conflicts:
        out.print(f"[yellow]conflict:[/] {escape(conflict.message())}", soft_wrap=True)
