"""DDFM's EM variants against the classical IVF/MIF baselines on real pairs (a quality study).

Why this exists: with the shipped tiny prior, the paper's EM rectification lets the learned τ
drift the estimate onto one source (see ``docs/ddfm.md``). This script reproduces the comparison
table quoted there: each EM variant of DDFM beside the five classical baselines, on the same
images and with the same metric code, and says per metric whether DDFM lands inside the classical
range (min–max of the baselines) and how far outside it is when not.

It reads the real pairs under ``../shared/data`` (or ``--data-root``); it downloads nothing.
Defaults: every pair of the dataset, 2×2-box down-sampled (``--scale 2``), 50 even DDPM steps,
seed 0, one CPU thread. Examples::

    python benchmarks/ddfm_em_variants.py harvard-mri-ct
    python benchmarks/ddfm_em_variants.py tno --variants paper,released --steps 100 --scale 1
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from fusionbench.diffusion.samplers import make_sampler
from fusionbench.lazy import build
from fusionbench.protocols import FusionBatch
from fusionbench.registry import load_registry
from fusionbench.specs import DataCard

BASELINES = ("average", "max-abs", "dwt", "laplacian-pyramid", "gff")
METRICS = ("en", "sd", "mi", "vif", "qabf", "ssim-fusion")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Placement:
    """Where a DDFM mean sits relative to the classical baselines' range for one metric."""

    low: float
    high: float
    value: float

    @property
    def inside(self) -> bool:
        return self.low <= self.value <= self.high

    @property
    def relative_gap(self) -> float:
        """0 inside the range, else the distance to the nearest end relative to that end."""
        if self.inside:
            return 0.0
        edge = self.low if self.value < self.low else self.high
        return abs(self.value - edge) / abs(edge)


def as_batch(image: torch.Tensor, scale: int) -> torch.Tensor:
    """(C, H, W) → (1, C, H/scale, W/scale), box-averaged."""
    return image[None] if scale == 1 else torch.nn.functional.avg_pool2d(image[None], scale)


def score_all(
    dataset: str, variants: list[str], steps: int, scale: int, root: Path, limit: int | None
) -> dict[str, dict[str, list[float]]]:
    registry = load_registry(disabled=["mlflow"])
    data = build(registry.get("dataset", dataset).spec, root=root)
    card = DataCard(max_value=255.0)
    methods = {name: build(registry.get("model", name).spec) for name in BASELINES}
    for variant in variants:
        model = build(registry.get("model", "ddfm").spec, em=variant)
        model.load()
        methods[f"ddfm em={variant}"] = model
    metrics = {name: build(registry.get("metric", name).spec, profile="cddfuse") for name in METRICS}
    scores: dict[str, dict[str, list[float]]] = {name: {m: [] for m in METRICS} for name in methods}
    items = list(data.items("test"))[:limit]
    for index, item in enumerate(items, 1):
        inputs = {
            key: as_batch(torch.as_tensor(array, dtype=torch.float64), scale) for key, array in item.inputs.items()
        }
        batch = FusionBatch((item.image_id,), inputs, card)
        for name, model in methods.items():
            if name.startswith("ddfm"):
                sampler = make_sampler("ddpm", steps=steps, respacing="even")
                fused = model.fuse(batch, sampler=sampler, generator=torch.Generator().manual_seed(0))
            else:
                fused = model.fuse(batch)
            for metric_name, metric in metrics.items():
                scores[name][metric_name].append(float(metric(fused.double(), None, inputs, card)[0]))
        print(f"  {index}/{len(items)} {item.image_id}", flush=True)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a real IVF/MIF dataset, e.g. tno or harvard-mri-ct")
    parser.add_argument("--variants", default="paper,fv,released", help="comma-separated em= values")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--scale", type=int, default=2, help="box down-sampling factor (1 = full size)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many pairs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    scores = score_all(args.dataset, args.variants.split(","), args.steps, args.scale, args.data_root, args.limit)
    wall = time.perf_counter() - start
    means = {name: {m: sum(v) / len(v) for m, v in row.items()} for name, row in scores.items()}

    table = Table(
        title=f"{args.dataset}: means over {len(next(iter(scores.values()))['en'])} pairs, "
        f"scale 1/{args.scale}, {args.steps} DDPM steps ({wall:.0f} s)"
    )
    table.add_column("method")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    for name in BASELINES:
        table.add_row(name, *(f"{means[name][m]:.3f}" for m in METRICS))
    ranges = {m: (min(means[n][m] for n in BASELINES), max(means[n][m] for n in BASELINES)) for m in METRICS}
    table.add_row(
        "[dim]classical range[/dim]", *(f"[dim]{lo:.3f}–{hi:.3f}[/dim]" for lo, hi in ranges.values()), end_section=True
    )
    for name in means:
        if name in BASELINES:
            continue
        cells = []
        for metric in METRICS:
            placement = Placement(*ranges[metric], means[name][metric])
            text = f"{placement.value:.3f}"
            cells.append(
                text if placement.inside else f"[bold red]{text}[/bold red] ({placement.relative_gap:.1%} out)"
            )
        table.add_row(name, *cells)
    Console(width=160).print(table)
    print("red: outside the classical range; the ratio is the distance to the nearest end of it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
