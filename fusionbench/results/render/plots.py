"""Charts a person would rather look at than a table: quality vs time, quality vs sampling steps,
and side-by-side comparison panels with error maps. matplotlib, Agg backend, PNG files.

Conventions shared by every chart, so a figure can go into a paper as is:

* methods are labelled with the leaderboard's short labels, one colour per method *family* (the
  model; its variants share the colour and differ by marker), and a legend outside the axes so no
  label is cut or overlaps a point;
* error bars are the standard deviation over images (and seeds);
* one outlier does not squash the rest: values far outside the others (beyond three
  inter-quartile ranges) are drawn as an arrow at the edge of the axes with their value written
  beside it;
* nothing depends on the time of drawing (no date in the file), so unchanged inputs redraw to the
  same bytes.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusionbench.results.labels import SpecCatalog, with_labels
from fusionbench.results.leaderboard import Leaderboard, build_leaderboard
from fusionbench.results.previews import ERROR_MAP_FRACTION, preview_dir, source_previews
from fusionbench.results.store import safe_name

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
PANEL_METHODS = 5
"""Methods in a comparison panel: the best ranked, plus any the user names."""
_SAVE = {"dpi": 130, "metadata": {"Software": None}, "bbox_inches": "tight"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def family_colours(families: Sequence[str]) -> dict[str, Any]:
    """One colour per method family (model name), stable for a given set of families."""
    plt = _pyplot()
    names = sorted(set(families))
    if len(names) <= 10:
        cmap, order = plt.get_cmap("tab10"), list(range(10))
    else:  # tab20's saturated half first, so the first ten families stay as distinct as tab10's
        cmap, order = plt.get_cmap("tab20"), [*range(0, 20, 2), *range(1, 20, 2)]
    return {name: cmap(order[i % len(order)]) for i, name in enumerate(names)}


def _styles(methods: pd.DataFrame) -> dict[str, tuple[Any, str]]:
    """``{method: (colour, marker)}`` from a frame with ``method`` and ``model`` columns."""
    pairs = methods[["method", "model"]].drop_duplicates().sort_values(["model", "method"])
    colours = family_colours(list(pairs["model"]))
    out: dict[str, tuple[Any, str]] = {}
    for _, group in pairs.groupby("model", sort=True):
        for i, method in enumerate(group["method"]):
            out[method] = (colours[group["model"].iloc[0]], MARKERS[i % len(MARKERS)])
    return out


def robust_limits(values: Sequence[float], spreads: Sequence[float]) -> tuple[float, float] | None:
    """Y limits that show the bulk of ``values`` (with their error bars, within reason), or None
    when nothing is an outlier and matplotlib's own limits are fine."""
    data = np.asarray(values, dtype=float)
    finite = data[np.isfinite(data)]
    if finite.size < 4:
        return None
    q1, q3 = np.percentile(finite, [25, 75])
    iqr = max(q3 - q1, 1e-12 * max(1.0, abs(q3)))
    inlier = (data >= q1 - 3 * iqr) & (data <= q3 + 3 * iqr)
    if inlier.all():
        return None
    spread = np.nan_to_num(np.asarray(spreads, dtype=float)[inlier])
    lo = float(np.min(data[inlier] - np.minimum(spread, 3 * iqr)))
    hi = float(np.max(data[inlier] + np.minimum(spread, 3 * iqr)))
    pad = 0.08 * max(hi - lo, 1e-12)
    return lo - pad, hi + pad


def _points(scores: pd.DataFrame, x: str) -> pd.DataFrame:
    return (
        scores.groupby(["method", "model", x], dropna=True)
        .agg(value=("value", "mean"), std=("value", "std"), seconds=("image_wall_s", "mean"))
        .reset_index()
        .fillna({"std": 0.0})
    )


def _draw_clipped(ax: Any, points: pd.DataFrame, x: str, styles: dict[str, tuple[Any, str]]) -> None:
    """Points with error bars; with robust limits, outliers as edge arrows labelled by value
    (their error bars would span the whole axis and are left out)."""
    limits = robust_limits(list(points["value"]), list(points["std"]))
    lo, hi = limits if limits is not None else (-np.inf, np.inf)
    inside = points["value"].between(lo, hi)
    for method, group in points.groupby("method", sort=False):
        colour, marker = styles[method]
        group = group.sort_values(x)
        shown = group[inside.loc[group.index]]
        if shown.empty:  # only off-scale points: still in the legend
            ax.plot([], [], color=colour, marker=marker, linewidth=0, label=method)
            continue
        ax.errorbar(
            shown[x], shown["value"], yerr=shown["std"], color=colour, marker=marker, markersize=6,
            capsize=3, linewidth=1.2 if len(shown) > 1 else 0, elinewidth=1, label=method,
        )  # fmt: skip
    if limits is None:
        return
    ax.set_ylim(lo, hi)
    stacked = {True: 0, False: 0}  # labels already written at the top / bottom edge
    for _, row in points[~inside].sort_values(x).iterrows():
        colour, _ = styles[row["method"]]
        above = row["value"] > hi
        edge = hi if above else lo
        ax.plot([row[x]], [edge], marker="^" if above else "v", color=colour, markersize=10, clip_on=False, zorder=5)
        # outliers near each other would print their labels on top of one another: stack them
        step = 11 * stacked[above]
        stacked[above] += 1
        ax.annotate(
            f"{row['method']}: {row['value']:.3g} ± {row['std']:.3g} (off scale)", (row[x], edge), textcoords="offset points",
            xytext=(8, -12 - step if above else 6 + step), fontsize=7, color="#333333",
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8} if step else None,
        )  # fmt: skip


def _legend(ax: Any, title: str = "method") -> None:
    handles, labels = ax.get_legend_handles_labels()
    wrapped = [textwrap.fill(label, 34) for label in labels]
    ax.legend(
        handles,
        wrapped,
        title=title,
        fontsize=7,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )


def _save(fig: Any, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, **_SAVE)
    _pyplot().close(fig)
    return out


def _direction(sub: pd.DataFrame) -> str:
    return "higher is better" if bool(sub["higher_is_better"].iloc[0]) else "lower is better"


def quality_vs_time(
    scores: pd.DataFrame, dataset: str, metric: str, out: Path, catalog: SpecCatalog | None = None
) -> Path | None:
    """Mean metric (± std over images) against mean seconds per image, one point per method."""
    sub = scores[(scores["dataset"] == dataset) & (scores["metric"] == metric)]
    if sub.empty:
        return None
    if "method" not in sub:
        sub = with_labels(sub, catalog)
    points = _points(sub.assign(_one=0), "_one")
    points = points[np.isfinite(points["seconds"]) & (points["seconds"] > 0)]
    if points.empty:
        return None
    styles = _styles(points)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    _draw_clipped(ax, points, "seconds", styles)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per image (log scale)")
    ax.set_ylabel(f"{metric} ({_direction(sub)})")
    ax.set_title(f"{dataset}: {metric} vs time (mean ± std over images)", fontsize=10)
    ax.grid(alpha=0.3)
    _legend(ax)
    return _save(fig, out)


def metric_vs_steps(
    scores: pd.DataFrame, dataset: str, metric: str, out: Path, catalog: SpecCatalog | None = None
) -> Path | None:
    """For diffusion models run at several step counts: mean metric (± std) against sampler steps,
    one line per model and sampler with its step count left out of the label."""
    sub = scores[(scores["dataset"] == dataset) & (scores["metric"] == metric) & scores["sampler"].notna()].copy()
    if sub.empty:
        return None
    sub["steps"] = sub["sampler_params_json"].map(lambda text: json.loads(text or "{}").get("steps"))
    sub = sub[sub["steps"].notna()]
    if sub.empty:
        return None
    without_steps = sub.assign(
        sampler_params_json=sub["sampler_params_json"].map(
            lambda text: json.dumps({k: v for k, v in json.loads(text or "{}").items() if k != "steps"}, sort_keys=True)
        )
    )
    sub["method"] = with_labels(without_steps, catalog)["method"].to_numpy()
    points = _points(sub, "steps")
    if points.groupby("method")["steps"].nunique().max() < 2:
        return None  # nothing to draw: every model ran at one step count
    styles = _styles(points)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    _draw_clipped(ax, points, "steps", styles)
    ax.set_xlabel("sampling steps")
    ax.set_ylabel(f"{metric} ({_direction(sub)})")
    ax.set_title(f"{dataset}: {metric} vs sampling steps (mean ± std over images)", fontsize=10)
    ax.grid(alpha=0.3)
    _legend(ax, "model + sampler")
    return _save(fig, out)


def panel_methods(board: Leaderboard, dataset: str, top: int = PANEL_METHODS, named: Sequence[str] = ()) -> list[str]:
    """The methods a comparison panel shows: the ``top`` best by average rank, then any of
    ``named`` (labels as in the table) that are not among them."""
    order = board.methods_for(dataset)
    chosen = order[:top]
    chosen += [m for m in named if m in order and m not in chosen]
    return chosen


def comparison_panel(
    scores: pd.DataFrame,
    results: Path,
    suite: str,
    dataset: str,
    out: Path,
    *,
    board: Leaderboard | None = None,
    catalog: SpecCatalog | None = None,
    methods: Sequence[str] = (),
    top: int = PANEL_METHODS,
) -> Path | None:
    """One image: the model's inputs (PAN/LMS, IR/VI, ...), the reference, then the fused
    previews of the best ranked methods (and those named), with their error maps underneath on a
    shared colour scale."""
    from PIL import Image

    sub = scores[scores["dataset"] == dataset]
    if sub.empty:
        return None
    if "method" not in sub:
        sub = with_labels(sub, catalog)
    board = board or build_leaderboard(sub, catalog)
    image_id = sorted(sub["image_id"].astype(str).unique())[0]
    order = board.methods_for(dataset)
    tiles: list[tuple[str, Path, Path | None]] = []
    first_folder: Path | None = None
    for method in panel_methods(board, dataset, top, methods):
        for run_key in sorted(sub[sub["method"] == method]["run_key"].unique()):
            folder = preview_dir(results, suite, run_key)
            fused = folder / f"{safe_name(image_id)}.png"
            if fused.exists():
                error = folder / f"{safe_name(image_id)}.error.png"
                tiles.append((method, fused, error if error.exists() else None))
                first_folder = first_folder or folder
                break
    if not tiles or first_folder is None:
        return None
    reference = first_folder / f"{safe_name(image_id)}.reference.png"
    inputs = _panel_sources(first_folder, image_id, tiles[0][1])
    if reference.exists():
        inputs.append(("reference", reference))
    has_errors = any(error for _, _, error in tiles)
    columns = len(inputs) + len(tiles)
    rows = 2 if has_errors else 1
    plt = _pyplot()
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(1.9 * columns + (0.9 if has_errors else 0), 2.35 * rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.axis("off")
    for column, (title, path) in enumerate(inputs):
        with Image.open(path) as picture:
            axes[0][column].imshow(np.asarray(picture.convert("RGB")), interpolation="nearest")
        axes[0][column].set_title(title, fontsize=8, color="#444444")
    image = None
    for offset, (method, fused, error) in enumerate(tiles):
        column = len(inputs) + offset
        with Image.open(fused) as picture:
            axes[0][column].imshow(np.asarray(picture.convert("RGB")), interpolation="nearest")
        axes[0][column].set_title(f"#{order.index(method) + 1} " + textwrap.fill(method, 20), fontsize=7.5)
        if error is not None:
            with Image.open(error) as picture:
                grey = np.asarray(picture.convert("L"), dtype=float) / 255.0 * ERROR_MAP_FRACTION * 100.0
            image = axes[1][column].imshow(
                grey, cmap="magma", vmin=0.0, vmax=ERROR_MAP_FRACTION * 100.0, interpolation="nearest"
            )
    if has_errors and image is not None:
        axes[1][0].text(
            0.5, 0.5, "|error|\n(mean over bands)", ha="center", va="center", fontsize=8, transform=axes[1][0].transAxes
        )
        bar = fig.colorbar(image, ax=list(axes[1]), shrink=0.85, pad=0.01)
        bar.set_label("% of data range", fontsize=7)
        bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"{dataset} / {image_id}", fontsize=9)
    return _save(fig, out)


def _panel_sources(folder: Path, image_id: str, fused: Path) -> list[tuple[str, Path]]:
    """The model's inputs worth showing beside the results: those at the output's size (PAN and
    LMS, not the tiny MS; IR and VI), grey sources first."""
    from PIL import Image

    with Image.open(fused) as picture:
        size = picture.size
    shown = []
    for name, path in source_previews(folder, image_id).items():
        with Image.open(path) as picture:
            if picture.size != size:
                continue
            grey = _is_grey(picture)
        shown.append((not grey, name, path))
    return [(name.upper(), path) for _, name, path in sorted(shown)]


def _is_grey(picture: Any) -> bool:
    array = np.asarray(picture.convert("RGB"), dtype=np.int16)
    return bool((array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all())


def write_plots(
    scores: pd.DataFrame,
    results: Path,
    suite: str,
    folder: Path,
    *,
    catalog: SpecCatalog | None = None,
    methods: Sequence[str] = (),
) -> list[Path]:
    """Every chart of a suite: per dataset, quality-vs-time for each metric, steps curves, and a
    comparison panel of the best ranked methods plus ``methods``."""
    written: list[Path] = []
    if scores.empty:
        return written
    labelled = with_labels(scores, catalog)
    board = build_leaderboard(scores, catalog)
    for dataset in sorted(labelled["dataset"].unique()):
        sub = labelled[labelled["dataset"] == dataset]
        stem = f"{safe_name(suite)}-{safe_name(dataset)}"
        for metric in dict.fromkeys(sub["metric"]):
            for maker, kind in ((quality_vs_time, "time"), (metric_vs_steps, "steps")):
                path = maker(sub, dataset, metric, folder / f"{stem}-{safe_name(metric)}-vs-{kind}.png", catalog)
                if path is not None:
                    written.append(path)
        panel = comparison_panel(
            sub, results, suite, dataset, folder / f"{stem}-comparison.png", board=board, methods=methods
        )
        if panel is not None:
            written.append(panel)
    return written
