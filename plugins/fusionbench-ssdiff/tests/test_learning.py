"""A real learning test: the tiny preset, trained on the embedded synthetic-qb-rr train split
(joint stage + one L-BAF round), beats EXP (the upsampled MS) on SAM and ERGAS over the whole
test split, sampling with the model's default DDIM 10 steps through the tiler."""

from __future__ import annotations

import statistics

import torch

from fusionbench.diffusion.samplers import DDIMSampler
from fusionbench.lazy import build
from fusionbench.metrics.pansharpening import ergas, sam
from fusionbench_ssdiff.testing import batch_of


def test_tiny_ssdiff_beats_exp_on_sam_and_ergas(trained, registry):
    model, _, dataset = trained
    exp = build(registry.get("model", "exp").spec)
    ratio = dataset.card.ratio
    scores: dict[str, dict[str, list[float]]] = {"ssdiff": {"sam": [], "ergas": []}, "exp": {"sam": [], "ergas": []}}
    for index, item in enumerate(dataset.items("test")):
        batch = batch_of(item, dataset.card)
        ref = torch.as_tensor(item.reference)[None]
        fused = {
            "ssdiff": model.fuse(batch, sampler=DDIMSampler(steps=10), generator=torch.Generator().manual_seed(index)),
            "exp": exp.fuse(batch),
        }
        for name, out in fused.items():
            scores[name]["sam"].append(float(sam(ref, out.to(torch.float64))[0]))
            scores[name]["ergas"].append(float(ergas(ref, out.to(torch.float64), ratio)[0]))
    mean = {name: {m: statistics.mean(v) for m, v in per.items()} for name, per in scores.items()}
    print(f"\nsynthetic-qb-rr test (5 images): SSDiff tiny {mean['ssdiff']} vs EXP {mean['exp']}")
    assert mean["ssdiff"]["sam"] < mean["exp"]["sam"], mean
    assert mean["ssdiff"]["ergas"] < mean["exp"]["ergas"], mean
