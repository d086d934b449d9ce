"""Aggregate per-image scores into a ranked leaderboard, refusing to mix incomparable rows.

Rows are comparable within a (dataset, metric) cell only if they share the data hash, the metric
version and the metric parameters (border cut, profile, ...). When they do not, the cell is
flagged and the reason says which constant differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

COMPARABILITY_COLUMNS = ("data_sha256", "metric_version", "metric_params_json", "card_json")
OUTPUTS_DIST = "outputs"  # model_dist of runs scored from saved outputs (`fusionbench score`)
OUTPUTS_MARK = "scored from outputs"


@dataclass
class Leaderboard:
    table: pd.DataFrame  # one row per (dataset, method, metric)
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
        if "from_outputs" not in sub:
            return set()
        return set(sub[sub["from_outputs"].astype(bool)]["method"])

    def metrics_for(self, dataset: str) -> list[str]:
        sub = self.table[self.table["dataset"] == dataset]
        return list(dict.fromkeys(sub.sort_values("metric_order")["metric"]))


def method_label(row: pd.Series) -> str:
    params = row.get("model_params_json") or "{}"
    label = row["model"] + ("" if params in ("{}", None) else _bracket(params))
    sampler = row.get("sampler")
    if isinstance(sampler, str) and sampler:
        sparams = row.get("sampler_params_json") or "{}"
        label += f"+{sampler}" + ("" if sparams == "{}" else _bracket(sparams))
    return label


def _bracket(params_json: str) -> str:
    import json

    params = json.loads(params_json)
    return "[" + ",".join(f"{k}={params[k]}" for k in sorted(params)) + "]"


def _synthetic(group: pd.DataFrame, dataset: str) -> bool:
    """``DatasetSpec.synthetic`` as recorded with the scores; files written before schema v2 did
    not record it, and for them the embedded datasets' ``synthetic-`` prefix is the only clue."""
    recorded = group["dataset_synthetic"].dropna() if "dataset_synthetic" in group else pd.Series(dtype=bool)
    if not recorded.empty:
        return bool(recorded.any())
    return dataset.startswith("synthetic-")


def build_leaderboard(scores: pd.DataFrame) -> Leaderboard:
    if scores.empty:
        return Leaderboard(pd.DataFrame(columns=["dataset", "method", "metric", "mean", "std", "n_images", "n_seeds", "rank"]))
    scores = scores.copy()
    scores["method"] = scores.apply(method_label, axis=1)
    problems: list[str] = []
    order = {m: i for i, m in enumerate(dict.fromkeys(scores["metric"]))}
    rows = []
    for (dataset, metric), cell in scores.groupby(["dataset", "metric"], sort=False):
        comparable = True
        for column in COMPARABILITY_COLUMNS:
            values = cell[column].dropna().unique()
            if len(values) > 1:
                comparable = False
                problems.append(
                    f"{dataset}/{metric}: rows differ in {column} ({len(values)} values: "
                    + ", ".join(str(v)[:24] for v in values[:3])
                    + "); not ranked together"
                )
        higher = bool(cell["higher_is_better"].iloc[0])
        for method, group in cell.groupby("method"):
            per_seed = group.groupby("base_seed")["value"].mean()
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "metric": metric,
                    "metric_order": order[metric],
                    "higher_is_better": higher,
                    "mean": float(group["value"].mean()),
                    "std": float(group["value"].std(ddof=1)) if len(group) > 1 else 0.0,
                    "n_images": int(group["image_id"].nunique()),
                    "n_seeds": int(per_seed.size),
                    "comparable": comparable,
                    "synthetic": _synthetic(group, dataset),
                    "from_outputs": bool((group["model_dist"] == OUTPUTS_DIST).any()) if "model_dist" in group else False,
                }
            )
    table = pd.DataFrame(rows)
    table["rank"] = pd.NA
    for (dataset, metric), cell in table.groupby(["dataset", "metric"]):
        if not cell["comparable"].all():
            continue
        ascending = not bool(cell["higher_is_better"].iloc[0])
        table.loc[cell.index, "rank"] = cell["mean"].rank(ascending=ascending, method="min").astype(int)
    table["avg_rank"] = table.groupby(["dataset", "method"])["rank"].transform(
        lambda r: pd.to_numeric(r, errors="coerce").mean()
    )
    table = table.sort_values(["dataset", "avg_rank", "method", "metric_order"]).reset_index(drop=True)
    return Leaderboard(table, problems)


def wide(board: Leaderboard, dataset: str) -> pd.DataFrame:
    """One row per method, one column per metric (mean), ordered by average rank."""
    sub = board.table[board.table["dataset"] == dataset]
    pivot = sub.pivot_table(index="method", columns="metric", values="mean", aggfunc="first")
    ranks = sub.groupby("method")["avg_rank"].first()
    pivot = pivot.loc[ranks.sort_values().index]
    return pivot[board.metrics_for(dataset)]
