"""Aggregate per-image scores into a ranked leaderboard that cannot mislead.

Within a (dataset, metric) cell, rows are ranked together only when they are comparable:

* they share the data hash, the metric version and the metric parameters (border cut, profile,
  ...) and the dataset card (:data:`COMPARABILITY_COLUMNS`); otherwise the whole cell is unranked
  and a problem names the constant that differs;
* they were scored on the same set of images: a ``--max-items 1`` run is not "best" among runs over
  six images. The item set most methods share is the reference; a method on another set keeps its
  numbers but is flagged and left out of the ranking;
* their scores are finite: a NaN (a dead band gives ERGAS NaN) is counted in ``n_nan``, left out of
  the mean, and the row is flagged and not ranked, because a mean over fewer images is not the same
  measurement.

Means are rounded to the precision that is shown (:data:`DECIMALS`) before ranking, so values
equal on screen tie, and ties are broken by label: an unchanged rerun publishes identical files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .labels import SpecCatalog, full_label, with_labels

COMPARABILITY_COLUMNS = ("data_sha256", "metric_version", "metric_params_json", "card_json")
OUTPUTS_DIST = "outputs"
"""``model_dist`` of every run scored from saved outputs (``fusionbench score``): how leaderboards
and the MLflow tag ``fusionbench.source`` recognise them."""
OUTPUTS_MARK = "scored from outputs"
DECIMALS = 4
"""Digits after the point of every published mean and std (what the tables show)."""
RANK_NOTE = "# = position by average rank over the ranked metrics (1 = best); unranked rows last"

BOARD_COLUMNS = [
    "dataset",
    "method",
    "metric",
    "metric_order",
    "higher_is_better",
    "mean",
    "std",
    "n_images",
    "n_nan",
    "n_seeds",
    "comparable",
    "flag",
    "synthetic",
    "from_outputs",
    "spec",
    "family",
    "url",
    "rank",
    "avg_rank",
]


@dataclass
class Leaderboard:
    table: pd.DataFrame  # one row per (dataset, method, metric), columns BOARD_COLUMNS
    problems: list[str] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return sorted(self.table["dataset"].unique()) if not self.table.empty else []

    def is_synthetic(self, dataset: str) -> bool:
        """Whether ``dataset`` is generated data (recorded from ``DatasetSpec.synthetic``)."""
        sub = self.table[self.table["dataset"] == dataset]
        return bool(sub["synthetic"].any()) if not sub.empty else False

    def from_outputs(self, dataset: str) -> set[str]:
        """Methods of ``dataset`` scored from saved outputs (``fusionbench score``), not run here."""
        sub = self.table[self.table["dataset"] == dataset]
        return set(sub[sub["from_outputs"].astype(bool)]["method"])

    def metrics_for(self, dataset: str) -> list[str]:
        sub = self.table[self.table["dataset"] == dataset]
        return list(dict.fromkeys(sub.sort_values("metric_order", kind="stable")["metric"]))

    def methods_for(self, dataset: str) -> list[str]:
        """The dataset's methods in leaderboard order (best average rank first)."""
        return list(dict.fromkeys(self.table[self.table["dataset"] == dataset]["method"]))

    def higher_is_better(self, dataset: str, metric: str) -> bool:
        sub = self.table[(self.table["dataset"] == dataset) & (self.table["metric"] == metric)]
        return bool(sub["higher_is_better"].iloc[0])


def method_label(row: pd.Series) -> str:
    """The full specification label of a scores row (every parameter); kept for callers that
    label single rows. Leaderboards use the short labels of :mod:`fusionbench.results.labels`."""
    return full_label(row.to_dict() if hasattr(row, "to_dict") else row)


def _synthetic(group: pd.DataFrame, dataset: str) -> bool:
    """``DatasetSpec.synthetic`` as recorded with the scores; files written before schema v2 did
    not record it, and for them the embedded datasets' ``synthetic-`` prefix is the only clue."""
    recorded = group["dataset_synthetic"].dropna() if "dataset_synthetic" in group else pd.Series(dtype=bool)
    if not recorded.empty:
        return bool(recorded.any())
    return dataset.startswith("synthetic-")


def _reference_item_set(item_sets: dict[str, frozenset[str]]) -> frozenset[str]:
    """The item set most methods share; on a tie the larger set, then a fixed order."""
    counts: dict[frozenset[str], int] = {}
    for items in item_sets.values():
        counts[items] = counts.get(items, 0) + 1
    return max(counts, key=lambda s: (counts[s], len(s), sorted(s)))


def _empty() -> Leaderboard:
    return Leaderboard(pd.DataFrame(columns=BOARD_COLUMNS))


def build_leaderboard(scores: pd.DataFrame, catalog: SpecCatalog | None = None) -> Leaderboard:
    """One suite's (or several suites') per-image ``scores`` as a ranked :class:`Leaderboard`.

    ``catalog`` gives parameter defaults for the short method labels and links to sources; without
    it labels keep the parameters that vary between the rows.
    """
    if scores.empty:
        return _empty()
    scores = with_labels(scores, catalog)
    catalog = catalog or SpecCatalog()
    problems: list[str] = []
    order = {m: i for i, m in enumerate(dict.fromkeys(scores["metric"]))}
    rows = []
    for (dataset, metric), cell in scores.groupby(["dataset", "metric"], sort=True):
        constants_agree = True
        for column in COMPARABILITY_COLUMNS:
            values = sorted(str(v) for v in cell[column].dropna().unique()) if column in cell else []
            if len(values) > 1:
                constants_agree = False
                problems.append(
                    f"{dataset}/{metric}: rows differ in {column} ({len(values)} values: "
                    + ", ".join(v[:24] for v in values[:3])
                    + "); not ranked together"
                )
        item_sets = {m: frozenset(g["image_id"].astype(str)) for m, g in cell.groupby("method")}
        reference = _reference_item_set(item_sets)
        higher = bool(cell["higher_is_better"].iloc[0])
        for method, group in cell.groupby("method", sort=True):
            finite = group["value"].dropna()
            n_nan = int(len(group) - len(finite))
            flags = []
            if item_sets[method] != reference:
                flags.append(f"other images ({len(item_sets[method])} vs {len(reference)})")
                problems.append(
                    f"{dataset}/{metric}: {method} was scored on a different set of "
                    f"{len(item_sets[method])} image(s) than the other methods ({len(reference)}); not ranked"
                )
            if n_nan:
                flags.append(f"{n_nan} NaN of {len(group)}")
            if not constants_agree:
                flags.append("constants differ")
            model = str(group["model"].iloc[0])
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "metric": metric,
                    "metric_order": order[metric],
                    "higher_is_better": higher,
                    "mean": _rounded(finite.mean()) if len(finite) else math.nan,
                    # one image has no spread: NaN, not a reassuring "± 0.0000"
                    "std": _rounded(finite.std(ddof=1)) if len(finite) > 1 else math.nan,
                    "n_images": int(group["image_id"].nunique()),
                    "n_nan": n_nan,
                    "n_seeds": int(group["base_seed"].nunique()),
                    "comparable": not flags,
                    "flag": "; ".join(flags),
                    "synthetic": _synthetic(group, dataset),
                    "from_outputs": bool((group["model_dist"] == OUTPUTS_DIST).any())
                    if "model_dist" in group
                    else False,
                    "spec": str(group["spec"].iloc[0]),
                    "family": model,
                    "url": catalog.urls.get(model, ""),
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in BOARD_COLUMNS if c not in ("rank", "avg_rank")])
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for _, cell in table.groupby(["dataset", "metric"]):
        ranked = cell[cell["comparable"] & cell["mean"].notna()]
        if ranked.empty:
            continue
        ascending = not bool(ranked["higher_is_better"].iloc[0])
        table.loc[ranked.index, "rank"] = ranked["mean"].rank(ascending=ascending, method="min").astype(int)
    table["avg_rank"] = table.groupby(["dataset", "method"])["rank"].transform(
        lambda r: _rounded(pd.to_numeric(r, errors="coerce").astype(float).mean())
    )
    table = table.sort_values(
        ["dataset", "avg_rank", "method", "metric_order"], na_position="last", kind="stable"
    ).reset_index(drop=True)
    return Leaderboard(table[BOARD_COLUMNS], problems)


def _rounded(value: float) -> float:
    """``value`` at the published precision (NaN stays NaN)."""
    return float(round(float(value), DECIMALS)) if not pd.isna(value) else math.nan


def wide(board: Leaderboard, dataset: str) -> pd.DataFrame:
    """One row per method, one column per metric (mean), ordered by average rank."""
    sub = board.table[board.table["dataset"] == dataset]
    pivot = sub.pivot_table(index="method", columns="metric", values="mean", aggfunc="first", dropna=False)
    return pivot.reindex(index=board.methods_for(dataset), columns=board.metrics_for(dataset))
