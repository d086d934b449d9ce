"""The ``fusionbench`` command line: this module wires every command; each command group lives in
its own module (:mod:`.run`, :mod:`.score`, :mod:`.leaderboard`, :mod:`.inspect`, :mod:`.datasets`,
:mod:`.train`, :mod:`.doctor`, :mod:`.weights`). Plugins add more through ``fusionbench_register_commands``.

Start-up imports click and the command modules only (no torch, no mlflow, no plugin): ``--help``
stays well under a second. Heavy imports happen inside the commands that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from fusionbench.errors import FusionbenchError

from .common import split_selection
from .datasets import datasets_group
from .doctor import doctor
from .inspect import info, list_components, plugins
from .leaderboard import leaderboard
from .run import run
from .score import score
from .train import train
from .weights import weights_group

__all__ = ["cli", "main", "split_selection"]


class FusionbenchGroup(click.Group):
    """Adds plugin commands lazily and turns FusionbenchError into a clean message."""

    def _plugin_commands(self, ctx: click.Context) -> None:
        if ctx.meta.get("fusionbench.plugin_commands"):
            return
        ctx.meta["fusionbench.plugin_commands"] = True
        from fusionbench.registry import load_registry

        registry = load_registry()
        ctx.meta["fusionbench.registry"] = registry
        for impl in registry.pm.hook.fusionbench_register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:  # noqa: BLE001 - a plugin's broken command must not break the CLI
                click.echo(f"warning: plugin {impl.plugin_name!r} failed to add commands: {exc}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._plugin_commands(ctx)
            command = super().get_command(ctx, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FusionbenchError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=FusionbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fusionbench")
def cli() -> None:
    """fusionbench: run, compare and extend image-fusion methods.

    \b
    Quick start:
      fusionbench list models
      fusionbench run --suite reduced-res
      fusionbench leaderboard show --suite reduced-res
    """


for _command in (plugins, list_components, info, run, score, leaderboard, datasets_group, train, doctor, weights_group):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="fusionbench")
