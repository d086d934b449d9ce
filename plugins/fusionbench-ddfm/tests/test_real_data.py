"""DDFM with the shipped tiny prior on real TNO and Harvard MRI–CT pairs (../shared/data, read
through the dataset readers) scores within the range of the classical baselines.

To stay within the CI budget the test fuses two pairs per dataset, 2×2-box down-sampled (every
method sees the same images), with 50 DDPM steps. It is a regression guard on those pairs, not the
whole claim: over all 6 TNO pairs DDFM-tiny's SSIM falls below the classical range (the EM's
learned τ drifts onto one source; docs/ddfm.md has the full-size 100-step tables and the analysis).
"""

from __future__ import annotations

import pytest
import torch

from fusionbench.diffusion.samplers import make_sampler
from fusionbench.lazy import build
from fusionbench.protocols import FusionBatch
from fusionbench.registry import load_registry
from fusionbench.specs import DataCard

BASELINES = ("average", "max-abs", "dwt", "laplacian-pyramid", "gff")
METRICS = ("en", "sd", "mi", "vif", "qabf", "ssim-fusion")
DDFM_PARAMS: dict = {}
CASES = {"tno": ("07", "19"), "harvard-mri-ct": ("11", "12")}


STEPS = 50


def _tensor(array) -> torch.Tensor:
    t = torch.as_tensor(array, dtype=torch.float64)[None]
    return torch.nn.functional.avg_pool2d(t, 2)


def scores(registry, dataset: str, root, ids) -> dict[str, dict[str, float]]:
    """Mean metric values per method over the chosen pairs."""
    ds = build(registry.get("dataset", dataset).spec, root=root)
    card = DataCard(max_value=255.0)
    methods = {name: build(registry.get("model", name).spec) for name in BASELINES}
    ddfm = build(registry.get("model", "ddfm").spec, **DDFM_PARAMS)
    ddfm.load()
    metrics = {name: build(registry.get("metric", name).spec, profile="cddfuse") for name in METRICS}
    table: dict[str, dict[str, list[float]]] = {}
    for item in ds.items("test"):
        if item.image_id not in ids:
            continue
        inputs = {k: _tensor(v) for k, v in item.inputs.items()}
        batch = FusionBatch((item.image_id,), inputs, card)
        outputs = {name: m.fuse(batch) for name, m in methods.items()}
        outputs["ddfm"] = ddfm.fuse(
            batch,
            sampler=make_sampler("ddpm", steps=STEPS, respacing="even"),
            generator=torch.Generator().manual_seed(0),
        )
        for method, fused in outputs.items():
            for metric, fn in metrics.items():
                table.setdefault(method, {}).setdefault(metric, []).append(
                    float(fn(fused.double(), None, inputs, card)[0])
                )
    return {m: {k: sum(v) / len(v) for k, v in row.items()} for m, row in table.items()}


@pytest.mark.parametrize("dataset", sorted(CASES))
def test_ddfm_tiny_within_the_classical_range(ddfm_shared_data, dataset):
    """Every metric is higher-is-better: DDFM must not fall more than 5 % below the worst classical
    baseline; EN and SD, which noise would inflate, must also stay within 25 % of the best."""
    table = scores(load_registry(), dataset, ddfm_shared_data, CASES[dataset])
    assert set(table) == {"ddfm", *BASELINES}
    for metric in METRICS:
        values = [table[b][metric] for b in BASELINES]
        low, high = min(values), max(values)
        assert table["ddfm"][metric] >= 0.95 * low, (metric, table["ddfm"][metric], (low, high))
        if metric in ("en", "sd"):
            assert table["ddfm"][metric] <= 1.25 * high, (metric, table["ddfm"][metric], (low, high))
