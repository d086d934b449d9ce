"""Charts a person would rather look at than a table: quality vs time, quality vs sampling steps,
and side-by-side comparison panels with error maps. matplotlib, Agg backend, PNG files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.results.leaderboard import method_label
from fusionbench.results.previews import ERROR_MAP_FRACTION, preview_dir
from fusionbench.results.store import safe_name


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _with_method(scores: pd.DataFrame) -> pd.DataFrame:
    scores = scores.copy()
    scores["method"] = scores.apply(method_label, axis=1)
    return scores


def quality_vs_time(scores: pd.DataFrame, dataset: str, metric: str, out: Path) -> Path | None:
    """Mean metric against mean seconds per image, one point per method."""
    sub = _with_method(scores[(scores["dataset"] == dataset) & (scores["metric"] == metric)])
    if sub.empty:
        return None
    points = sub.groupby("method").agg(value=("value", "mean"), seconds=("image_wall_s", "mean"))
    higher = bool(sub["higher_is_better"].iloc[0])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(points["seconds"], points["value"], color="#0969da")
    for method, row in points.iterrows():
        ax.annotate(method, (row["seconds"], row["value"]), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per image (log scale)")
    ax.set_ylabel(f"{metric} ({'higher' if higher else 'lower'} is better)")
    ax.set_title(f"{dataset}: {metric} vs time")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def metric_vs_steps(scores: pd.DataFrame, dataset: str, metric: str, out: Path) -> Path | None:
    """For diffusion models run at several step counts: mean metric against sampler steps."""
    sub = scores[(scores["dataset"] == dataset) & (scores["metric"] == metric) & scores["sampler"].notna()].copy()
    if sub.empty:
        return None
    sub["steps"] = sub["sampler_params_json"].map(lambda text: json.loads(text or "{}").get("steps"))
    sub = sub[sub["steps"].notna()]
    sub["curve"] = sub["model"] + "[" + sub["model_params_json"] + "]+" + sub["sampler"]
    curves = sub.groupby(["curve", "steps"])["value"].mean().reset_index()
    if curves.groupby("curve")["steps"].nunique().max() < 2:
        return None  # nothing to draw: every model ran at one step count
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for curve, group in curves.groupby("curve"):
        group = group.sort_values("steps")
        ax.plot(group["steps"], group["value"], marker="o", label=curve)
    ax.set_xlabel("sampling steps")
    ax.set_ylabel(metric)
    ax.set_title(f"{dataset}: {metric} vs sampling steps")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def comparison_panel(scores: pd.DataFrame, results: Path, suite: str, dataset: str, out: Path, max_methods: int = 8) -> Path | None:
    """Fused previews of one image, side by side, with error maps under them when a reference exists."""
    from PIL import Image

    sub = _with_method(scores[scores["dataset"] == dataset])
    if sub.empty:
        return None
    image_id = sorted(sub["image_id"].unique())[0]
    tiles: list[tuple[str, Path, Path | None]] = []
    for method, group in sub.groupby("method"):
        run_key = group["run_key"].iloc[0]
        folder = preview_dir(results, suite, run_key)
        fused = folder / f"{safe_name(image_id)}.png"
        if fused.exists():
            error = folder / f"{safe_name(image_id)}.error.png"
            tiles.append((method, fused, error if error.exists() else None))
    if not tiles:
        return None
    tiles = tiles[:max_methods]
    reference = preview_dir(results, suite, sub["run_key"].iloc[0]) / f"{safe_name(image_id)}.reference.png"
    has_errors = any(error for _, _, error in tiles)
    columns = len(tiles) + (1 if reference.exists() else 0)
    rows = 2 if has_errors else 1
    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    column = 0
    if reference.exists():
        axes[0][0].imshow(Image.open(reference))
        axes[0][0].set_title("reference", fontsize=8)
        column = 1
    for method, fused, error in tiles:
        axes[0][column].imshow(Image.open(fused))
        axes[0][column].set_title(method, fontsize=8)
        if error is not None:
            axes[1][column].imshow(Image.open(error).convert("L"), cmap="magma", vmin=0, vmax=255)
            axes[1][column].set_title("|error|", fontsize=7)
        column += 1
    caption = f"{dataset} / {image_id}"
    if has_errors:
        caption += f" — error maps saturate at {ERROR_MAP_FRACTION:.0%} of the data range"
    fig.suptitle(caption, fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_plots(scores: pd.DataFrame, results: Path, suite: str, folder: Path) -> list[Path]:
    """Every chart of a suite: per dataset, quality-vs-time for each metric, steps curves, a panel."""
    written: list[Path] = []
    for dataset in sorted(scores["dataset"].unique()):
        sub = scores[scores["dataset"] == dataset]
        for metric in dict.fromkeys(sub["metric"]):
            for maker, stem in ((quality_vs_time, "time"), (metric_vs_steps, "steps")):
                path = maker(sub, dataset, metric, folder / f"{suite}-{dataset}-{metric}-vs-{stem}.png")
                if path is not None:
                    written.append(path)
        panel = comparison_panel(sub, results, suite, dataset, folder / f"{suite}-{dataset}-comparison.png")
        if panel is not None:
            written.append(panel)
    return written
