"""A real learning test: the tiny preset trains itself on the embedded synthetic WV3 train split
(through ``setup``, as a benchmark run does) and must beat EXP (the upsampled MS) on SAM and
ERGAS over the test split. It also checks that the trained checkpoint is cached by content.

This is the slowest DDIF test (about a minute of training on two CPU cores); everything it
exercises is real: data, network, objective, trainer, EMA, checkpoint, sampler, metrics.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from fusionbench import FusionBatch, ModelContext
from fusionbench.diffusion.samplers import DDIMSampler
from fusionbench.lazy import build
from fusionbench.metrics.pansharpening import ERGAS, SAM
from fusionbench.registry import load_registry
from fusionbench_ddif.model import DDIF

DATASET = "synthetic-wv3-rr"


@pytest.fixture(scope="module")
def dataset():
    registry = load_registry(disabled=["mlflow"])
    return build(registry.get("dataset", DATASET).spec, root=None)


def _context(dataset, cache_dir: Path, messages: list[str]) -> ModelContext:
    return ModelContext(
        device="cpu",
        card=dataset.card,
        dataset=dataset,
        cache_dir=cache_dir,
        resolve_weights=lambda uri, sha: None,
        seed=0,
        report=messages.append,
    )


def _scores(model, dataset) -> dict[str, dict[str, float]]:
    sam, ergas = SAM(), ERGAS()
    totals = {"ddif": {"sam": 0.0, "ergas": 0.0}, "exp": {"sam": 0.0, "ergas": 0.0}}
    items = list(dataset.items("test"))
    for index, item in enumerate(items):
        inputs = {k: torch.as_tensor(v, dtype=torch.float64)[None] for k, v in item.inputs.items()}
        ref = torch.as_tensor(item.reference, dtype=torch.float64)[None]
        generator = torch.Generator().manual_seed(index)
        with torch.no_grad():
            fused = model.fuse(
                FusionBatch((item.image_id,), inputs, dataset.card), sampler=DDIMSampler(steps=25), generator=generator
            )
        for name, pred in (("ddif", fused), ("exp", inputs["lms"])):  # EXP = the upsampled MS
            totals[name]["sam"] += float(sam(pred, ref, inputs, dataset.card)[0]) / len(items)
            totals[name]["ergas"] += float(ergas(pred, ref, inputs, dataset.card)[0]) / len(items)
    return totals


def test_tiny_ddif_trains_itself_and_beats_exp(dataset, tmp_path):
    messages: list[str] = []
    model = DDIF(preset="tiny")
    t0 = time.perf_counter()
    model.setup(_context(dataset, tmp_path, messages))
    train_s = time.perf_counter() - t0
    assert any("training on synthetic-wv3-rr/train" in m for m in messages)

    scores = _scores(model, dataset)
    print(f"\nDDIF tiny (trained {train_s:.0f}s) vs EXP on {DATASET}/test: {scores}")
    assert scores["ddif"]["sam"] < scores["exp"]["sam"]
    assert scores["ddif"]["ergas"] < scores["exp"]["ergas"]

    # the checkpoint is cached under a content key: a second setup loads it without training
    again: list[str] = []
    cached = DDIF(preset="tiny")
    t1 = time.perf_counter()
    cached.setup(_context(dataset, tmp_path, again))
    assert any("using cached checkpoint" in m for m in again)
    assert time.perf_counter() - t1 < train_s
    assert cached.checkpoint_path == model.checkpoint_path
    state, cached_state = model.net.state_dict(), cached.net.state_dict()
    assert all(torch.equal(state[k], cached_state[k]) for k in state)
