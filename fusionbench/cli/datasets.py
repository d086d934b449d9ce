"""``fusionbench datasets list|info|check``: what data is registered, where it is, whether it is sound.

``list`` and ``info`` build each dataset object (cheap: directory lookups and HDF5 headers, no
pixels) to show which splits are present under the data root. ``check`` reads every item of a
split, validates shapes, band counts and finiteness, and prints counts and the content hash — or
the unavailability message saying where it looked and how to get the data.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from fusionbench.errors import DataFormatError, DatasetUnavailable, FusionbenchError

from .common import DATA_ROOT_HELP, console, registry


def _parse_params(spec: Any, raw: tuple[str, ...]) -> dict[str, Any]:
    """``-p key=value`` options, coerced by the dataset's ParamSpecs."""
    params: dict[str, Any] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="-p/--param")
        if key not in spec.params:
            known = ", ".join(spec.params) or "none"
            raise click.BadParameter(
                f"dataset {spec.name!r} has no parameter {key!r} (parameters: {known})", param_hint="-p/--param"
            )
        try:
            params[key] = spec.params[key].coerce(value)
        except ValueError as exc:
            raise click.BadParameter(f"{key}: {exc}", param_hint="-p/--param") from None
    return params


def open_dataset(spec: Any, data_root: str | None, params: dict[str, Any] | None = None) -> Any:
    """Build a dataset from its spec (raises DatasetUnavailable / DataFormatError)."""
    from fusionbench.lazy import build

    return build(spec, root=Path(data_root) if data_root else None, **(params or {}))


def _availability(spec: Any, data_root: str | None) -> tuple[str, dict[str, Any]]:
    """("ok"/"missing"/"error"/"needs params", per-split counts) without reading pixels."""
    if spec.name.startswith("custom-"):
        return "needs params", {}
    try:
        ds = open_dataset(spec, data_root)
    except DatasetUnavailable:
        return "missing", {}
    except (FusionbenchError, OSError, ValueError) as exc:
        return f"error: {exc}", {}
    counts: dict[str, Any] = {}
    available = ds.available_splits() if hasattr(ds, "available_splits") else ("test",)
    for split in spec.splits:
        if split not in available:
            counts[split] = None
            continue
        try:
            counts[split] = ds.n_items(split) if hasattr(ds, "n_items") else len(ds)
        except (FusionbenchError, OSError, ValueError) as exc:
            counts[split] = f"error: {exc}"
    return "ok", counts


def _splits_cell(spec: Any, state: str, counts: dict[str, Any]) -> str:
    if state != "ok":
        return ", ".join(spec.splits)
    parts = []
    for split in spec.splits:
        n = counts.get(split)
        if n is None:
            parts.append(f"[dim]{split} –[/]")
        elif isinstance(n, str):
            parts.append(f"[red]{split} ![/]")
        else:
            parts.append(f"{split} {n}")
    return ", ".join(parts)


@click.group("datasets")
def datasets_group() -> None:
    """Registered datasets: list them, show their layout, check the files."""


@datasets_group.command("list")
@click.option("--task", help="only datasets of this task (pansharpening, mhif, ivf, mif)")
@click.option("--synthetic/--real", "synthetic", default=None, help="only embedded synthetic / only real datasets")
@click.option("--data-root", type=click.Path(file_okay=False), help=DATA_ROOT_HELP)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_cmd(task: str | None, synthetic: bool | None, data_root: str | None, as_json: bool) -> None:
    """Every registered dataset and which of its splits are present."""
    from rich.table import Table

    from fusionbench.datasets.paths import describe_root, resolve_data_root

    entries = [e for e in registry().all("dataset") if (task is None or e.spec.task == task)]
    if synthetic is not None:
        entries = [e for e in entries if e.spec.synthetic == synthetic]
    rows = []
    for entry in entries:
        spec = entry.spec
        state, counts = _availability(spec, data_root)
        rows.append((entry, state, counts))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": e.spec.name,
                        "task": e.spec.task,
                        "protocol": e.spec.protocol,
                        "synthetic": e.spec.synthetic,
                        "plugin": e.plugin,
                        "state": state,
                        "items": counts,
                        "description": e.spec.description,
                    }
                    for e, state, counts in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"datasets ({len(rows)}) — {describe_root(resolve_data_root(data_root))}")
    for column in ("name", "task", "protocol", "kind", "state", "splits (items)", "description"):
        table.add_column(column, overflow="fold")
    styles = {"ok": "[green]ok[/]", "missing": "[yellow]missing[/]", "needs params": "[dim]needs params[/]"}
    for entry, state, counts in rows:
        spec = entry.spec
        table.add_row(
            spec.name,
            spec.task,
            spec.protocol,
            "synthetic" if spec.synthetic else "real",
            styles.get(state, f"[red]{state}[/]"),
            _splits_cell(spec, state, counts),
            spec.description,
        )
    console().print(table)


@datasets_group.command("info")
@click.argument("name")
@click.option("--data-root", type=click.Path(file_okay=False), help=DATA_ROOT_HELP)
@click.option("-p", "--param", "raw_params", multiple=True, help="dataset parameter key=value (repeatable)")
def info_cmd(name: str, data_root: str | None, raw_params: tuple[str, ...]) -> None:
    """Card, parameters, expected layout, how to get it, and what is present."""
    from rich.table import Table

    from fusionbench.datasets.catalog import CATALOG

    entry = registry().get("dataset", name)
    spec = entry.spec
    out = console()
    table = Table(title=f"dataset {spec.name}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in (
        ("kind", "SYNTHETIC (generated, not a real benchmark)" if spec.synthetic else "real data"),
        ("task / protocol", f"{spec.task} / {spec.protocol}"),
        ("version", spec.version),
        ("plugin", f"{entry.plugin} ({entry.dist} {entry.dist_version})"),
        ("description", spec.description),
        ("card", json.dumps(spec.card.as_dict(), default=str)),
        ("splits", ", ".join(spec.splits)),
        ("parameters", "; ".join(f"{k}={p.default!r} ({p.type}) {p.help}" for k, p in spec.params.items()) or "none"),
        ("citation", spec.citation),
        ("url", spec.url),
        ("license", spec.license),
    ):
        if value:
            table.add_row(key, str(value))
    catalog = CATALOG.get(spec.name)
    if catalog is not None:
        for split in catalog.splits:
            table.add_row(f"layout ({split})", "\n".join(catalog.looked_for(split)))
        table.add_row("how to get it", catalog.how_to_get)
    out.print(table)

    params = _parse_params(spec, raw_params)
    if spec.name.startswith("custom-") and not params:
        out.print("[dim]custom dataset: pass -p path=... (see parameters) to inspect files[/]")
        return
    try:
        ds = open_dataset(spec, data_root, params)
    except DatasetUnavailable as exc:
        out.print(f"[yellow]not available:[/]\n{escape(str(exc))}")
        return
    described = ds.describe() if hasattr(ds, "describe") else {}
    for split, facts in described.get("splits", {}).items():
        if facts.get("items") is None:
            out.print(f"[yellow]{split}: missing[/]")
        else:
            files = facts.get("files") or []
            shown = ", ".join(files[:3]) + (f", … ({len(files)} files)" if len(files) > 3 else "")
            out.print(f"[green]{split}[/]: {facts['items']} items" + (f" — {shown}" if shown else " (generated)"))


@datasets_group.command("check")
@click.argument("name")
@click.option("--split", "splits", multiple=True, help="split(s) to check (default: every present split)")
@click.option("--limit", type=int, default=None, help="check at most this many items per split")
@click.option("--data-root", type=click.Path(file_okay=False), help=DATA_ROOT_HELP)
@click.option("-p", "--param", "raw_params", multiple=True, help="dataset parameter key=value (repeatable)")
@click.option(
    "--wald/--no-wald", default=True, help="pansharpening with gt: re-simulate ms from gt and report the error"
)
def check_cmd(
    name: str,
    splits: tuple[str, ...],
    limit: int | None,
    data_root: str | None,
    raw_params: tuple[str, ...],
    wald: bool,
) -> None:
    """Read every item, validate it, and report counts, value ranges and the content hash."""
    from rich.table import Table

    from fusionbench.datasets.checks import validate_item

    spec = registry().get("dataset", name).spec
    out = console()
    try:
        ds = open_dataset(spec, data_root, _parse_params(spec, raw_params))
    except DatasetUnavailable as exc:
        out.print(f"[red]unavailable:[/] {escape(str(exc))}")
        raise SystemExit(1) from None
    if hasattr(ds, "validate"):
        ds.validate = False  # validated below, once, collecting the range warnings too
    available = ds.available_splits() if hasattr(ds, "available_splits") else ("test",)
    todo = list(splits) or list(available)
    table = Table(title=f"check {spec.name}" + (" (SYNTHETIC)" if spec.synthetic else ""))
    for column in (
        "split",
        "items",
        "shapes (first item)",
        "value range",
        "wald max err",
        "warnings",
        "seconds",
        "content sha256",
    ):
        table.add_column(column, overflow="fold")
    failures: list[str] = []
    for split in todo:
        start = time.perf_counter()
        try:
            n_total = ds.n_items(split) if hasattr(ds, "n_items") else len(ds)
            lo, hi, count, shapes, warnings, wald_err = float("inf"), float("-inf"), 0, "", [], 0.0
            for item in ds.items(split, limit=limit) if limit else ds.items(split):
                warnings += validate_item(item, spec.task, ds.card, str(item.extras.get("source", spec.name)))
                arrays = [*item.inputs.values()] + ([item.reference] if item.reference is not None else [])
                lo = min(lo, *(float(a.min()) for a in arrays))
                hi = max(hi, *(float(a.max()) for a in arrays))
                if not shapes:
                    shapes = " ".join(f"{k}{tuple(v.shape)}" for k, v in item.inputs.items())
                    if item.reference is not None:
                        shapes += f" ref{tuple(item.reference.shape)}"
                if wald and spec.task == "pansharpening" and item.reference is not None and ds.card.mtf_gnyq:
                    from fusionbench.datasets.simulate import resimulation_error

                    wald_err = max(
                        wald_err,
                        resimulation_error(
                            item.reference, item.inputs["ms"], ds.card.mtf_gnyq, int(ds.card.ratio or 4)
                        ),
                    )
                count += 1
            digest = ds.content_sha256(split)
        except DatasetUnavailable as exc:
            out.print(f"[yellow]{split}: unavailable[/]\n{escape(str(exc))}")
            continue
        except (DataFormatError, FusionbenchError, OSError, ValueError) as exc:
            failures.append(f"error: {spec.name} [{split}]: {exc}")
            table.add_row(
                split, "[red]FAILED[/]", "", "", "", escape(str(exc)), f"{time.perf_counter() - start:.1f}", ""
            )
            continue
        wald_cell = f"{wald_err:.3g}" if wald and spec.task == "pansharpening" and spec.protocol == "reduced" else "–"
        table.add_row(
            split,
            f"{count}" + (f" of {n_total}" if count != n_total else ""),
            shapes,
            f"[{lo:.4g}, {hi:.4g}]",
            wald_cell,
            escape("\n".join(warnings[:3])) + (f"\n… {len(warnings) - 3} more" if len(warnings) > 3 else "") or "none",
            f"{time.perf_counter() - start:.1f}",
            digest,
        )
    out.print(table)
    # the table folds long messages across rows; each fault is repeated whole, one line each
    for line in failures:
        click.echo(line, err=True)
    if failures:
        raise SystemExit(1)
