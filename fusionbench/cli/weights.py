"""``fusionbench weights fetch|list``: the checkpoints models declare, and getting them.

Why a command: nothing downloads implicitly (a run never reaches the network on its own); a user
asks for a model's declared checkpoints here, or passes ``--allow-download`` to
``fusionbench run``. The download itself (pooch: resume, SHA-256 check) is
:func:`fusionbench.weights.fetch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from .common import console, registry, results_option


@click.group("weights")
def weights_group() -> None:
    """Checkpoints that models declare: list them, download them."""


@weights_group.command("list")
@results_option
@click.pass_context
def weights_list(ctx: click.Context, results_dir: Path | None) -> None:
    """Every declared checkpoint: model, file, source, pinned hash, where it is (or missing)."""
    from rich.table import Table

    from fusionbench.weights import download_dir, expected_sha256, is_url, locate

    cache = download_dir(results_dir)
    table = Table("model", "checkpoint", "source", "sha256", "here")
    for entry in registry(ctx).all("model"):
        for ref in entry.spec.weights:
            found = locate(ref.uri, cache)
            sha = expected_sha256(ref, cache)
            origin = "pinned" if ref.sha256 else ("recorded" if sha else "not pinned")
            table.add_row(
                escape(entry.name),
                escape(Path(ref.uri).name),
                escape(ref.uri if is_url(ref.uri) else "(not downloadable)"),
                escape(f"{sha[:12]}… ({origin})" if sha else origin),
                escape(str(found))
                if found
                else ("[yellow]missing[/]" if is_url(ref.uri) else "not on the search path"),
            )
    console().print(table)


@weights_group.command("fetch")
@click.argument("models", nargs=-1, required=True)
@results_option
@click.pass_context
def weights_fetch(ctx: click.Context, models: tuple[str, ...], results_dir: Path | None) -> None:
    """Download the checkpoints MODELS declare (by URL), verified by SHA-256, into
    $FUSIONBENCH_WEIGHTS (or the results cache) where runs find them. Resumes an interrupted
    download; a file whose hash is wrong is removed."""
    from fusionbench.weights import download_dir

    loaded = registry(ctx)
    entries = [loaded.models.get(name) for name in models]  # an unknown name: one line with close matches
    fetch_declared(entries, download_dir(results_dir), console())


def fetch_declared(entries: Iterable[Any], target: Path, out: Any, only_missing: bool = False) -> int:
    """Fetch every URL checkpoint the models of ``entries`` declare; checkpoints without a URL
    are reported (present or how to get them). ``only_missing``: skip what is already found
    (``run --allow-download``). Returns the number of files downloaded."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from fusionbench.weights import fetch, is_url, locate

    downloaded = 0
    for entry in entries:
        for ref in entry.spec.weights:
            label = f"{entry.name}: {Path(ref.uri).name}"
            found = locate(ref.uri, target)
            if not is_url(ref.uri):
                where = (
                    str(found) if found else f"missing, not downloadable ({ref.description or 'see the model docs'})"
                )
                out.print(f"{escape(label)}: {escape(where)}", soft_wrap=True, highlight=False)
                continue
            if only_missing and found is not None:
                continue
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=out,
                transient=True,
            ) as bar:
                task = bar.add_task(escape(label), total=None)
                result = fetch(
                    ref,
                    target,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    report=lambda message: out.print(
                        f"[yellow]note:[/] {escape(message)}", soft_wrap=True, highlight=False
                    ),
                )
            verb = "downloaded" if result.downloaded else "already here"
            downloaded += result.downloaded
            out.print(
                f"{escape(label)}: {verb} {escape(str(result.path))} (sha256 {result.sha256[:16]}…, {result.hash_source})",
                soft_wrap=True,
                highlight=False,
            )
    return downloaded
