"""Score predictions: the one path from a fused image to score rows and the scores file.

``fusionbench run`` (a model fuses the image in a worker, :mod:`.execution`) and
``fusionbench score`` (the image comes from a file the user saved, :mod:`.outputs_in`) both end
here, so a saved output scored later gives exactly the rows its run gave: same metric objects,
same inputs, same row builder, same atomic writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusionbench.canonical import canonical_json
from fusionbench.engine.runspec import ComponentRef, RunSpec
from fusionbench.errors import InvalidMetricOutput
from fusionbench.lazy import build
from fusionbench.registry import Registry
from fusionbench.results.schema import scores_table
from fusionbench.results.store import scores_path, write_table_atomic
from fusionbench.specs import DataCard


@dataclass(frozen=True)
class BuiltMetric:
    """A run's metric, built once per run: its reference (name, version, parameters) and the
    callable, plus its direction (recorded on every row)."""

    ref: ComponentRef
    metric: Any
    higher_is_better: bool


def build_metrics(registry: Registry, run: RunSpec) -> list[BuiltMetric]:
    """Build every metric of ``run`` from its registered spec with the run's parameters."""
    out = []
    for ref in run.metrics:
        spec = registry.get("metric", ref.lookup).spec
        out.append(BuiltMetric(ref, build(spec, **ref.params), spec.higher_is_better))
    return out


def metric_value(values: Any, metric: str) -> float:
    """The one score a metric gives the one image of a batch, or :class:`InvalidMetricOutput`.

    Why strict: taking the first element of whatever came back silently kept the first column
    of a ``(B, 3)`` answer (per-band scores, say) and recorded it as the metric's value."""
    import torch

    try:
        tensor = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidMetricOutput(f"metric {metric!r} returned {type(values).__name__}, not numbers: {exc}") from None
    if tensor.numel() != 1:
        raise InvalidMetricOutput(
            f"metric {metric!r} returned shape {tuple(tensor.shape)} for one image; expected one value per image (shape (1,))"
        )
    return float(tensor.reshape(-1)[0])


def as_batch(array: Any, device: Any = "cpu") -> Any:
    """A ``(C,H,W)`` or ``(H,W)`` array as a float64 ``(1,C,H,W)`` tensor on ``device``."""
    import numpy as np
    import torch

    tensor = torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float64)
    if tensor.ndim == 2:
        tensor = tensor[None]
    return tensor[None].to(device)


def score_prediction(
    metrics: list[BuiltMetric],
    pred: Any,
    reference: Any,
    inputs: Mapping[str, Any],
    card: DataCard,
    *,
    image_id: str,
    seed: int,
    image_wall_s: float | None,
) -> list[dict[str, Any]]:
    """Score rows of one image: ``pred`` is the float64 ``(1,C,H,W)`` CPU tensor of the fused
    image, ``reference`` its ground truth as an array (or None), ``inputs`` the item's inputs
    as float64 ``(1,C,H,W)`` CPU tensors."""
    ref = as_batch(reference) if reference is not None else None
    rows = []
    for built in metrics:
        values = built.metric(pred, ref, inputs, card)
        rows.append(
            {
                "image_id": image_id,
                "metric": built.ref.name,
                "metric_version": built.ref.spec_version,
                "metric_params_json": canonical_json(dict(built.ref.params)),
                "metric_dist_version": built.ref.dist_version,
                "higher_is_better": built.higher_is_better,
                "value": metric_value(values, built.ref.name),
                "seed": seed,
                "image_wall_s": image_wall_s,
            }
        )
    return rows


def write_scores(
    registry: Registry,
    run: RunSpec,
    attempt: int,
    rows: list[dict[str, Any]],
    *,
    results_dir: Path,
    device: str,
    wall_s: float,
) -> Path:
    """Write one run attempt's scores file (atomically) and return its path."""
    for row in rows:
        row["run_wall_s"] = wall_s
    synthetic = registry.get("dataset", run.dataset.lookup).spec.synthetic
    table = scores_table(rows, run, attempt, device=device, synthetic=synthetic)
    return write_table_atomic(table, scores_path(Path(results_dir), run.suite, run.task, run.run_key, attempt))
