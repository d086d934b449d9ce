"""SSDiff: what drawing the initial noise per tile batch (the released sampler) instead of once
per image changes, measured on the embedded data.

The ``release`` preset draws a fresh x_T for every tile batch, as the released
``image_sample.py`` does; ``tiny`` and ``paper`` cut one whole-image field into tiles. This
script isolates that difference: the shipped ``tiny`` checkpoint for ``synthetic-qb-rr``, its
test split, DDIM 10 steps, the released tiling (64² tiles, stride 16) or the tiny one, both noise
modes, several seeds. It prints mean SAM / ERGAS per mode and the mean absolute change the mode
causes beside the change a different seed causes::

    python benchmarks/ssdiff_tile_noise.py                   # released tiling, seeds 0,1,2
    python benchmarks/ssdiff_tile_noise.py --tile 32 --overlap 8
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from fusionbench.diffusion.samplers import DDIMSampler
from fusionbench.metrics.pansharpening import ERGAS, SAM
from fusionbench.registry import load_registry
from fusionbench.training.shipped import NO_SHIPPED_ENV
from fusionbench_ssdiff.model import SSDiff
from fusionbench_ssdiff.testing import batch_of, context_for, open_dataset

DATASET = "synthetic-qb-rr"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tile", type=int, default=64)
    parser.add_argument("--overlap", type=int, default=48)
    parser.add_argument("--tile-batch", type=int, default=10, help="released image_sample.py: crop batch 10")
    args = parser.parse_args(argv)
    os.environ.pop(NO_SHIPPED_ENV, None)
    registry = load_registry(disabled=["mlflow"])
    dataset = open_dataset(registry, DATASET)
    model = SSDiff(preset="tiny", tile=args.tile, overlap=args.overlap, tile_batch=args.tile_batch)
    with tempfile.TemporaryDirectory() as cache:
        model.setup(context_for(dataset, Path(cache)))
    items = list(dataset.items("test"))
    sam, ergas = SAM(), ERGAS()
    seeds = [int(s) for s in args.seeds.split(",")]
    outputs: dict[tuple[str, int], list[torch.Tensor]] = {}
    for mode in ("image", "tile"):
        model.preset = replace(model.preset, noise=mode)
        scores = {"sam": [], "ergas": []}
        for seed in seeds:
            outs = []
            for index, item in enumerate(items):
                batch = batch_of(item, dataset.card)
                ref = torch.as_tensor(item.reference)[None]
                generator = torch.Generator().manual_seed(seed * 1000 + index)
                fused = model.fuse(batch, sampler=DDIMSampler(steps=10), generator=generator)
                outs.append(fused)
                scores["sam"].append(float(sam(fused, ref, batch.inputs, dataset.card)[0]))
                scores["ergas"].append(float(ergas(fused, ref, batch.inputs, dataset.card)[0]))
            outputs[(mode, seed)] = outs
        n = len(scores["sam"])
        print(
            f"noise={mode}: SAM {sum(scores['sam']) / n:.4f}  ERGAS {sum(scores['ergas']) / n:.4f}  "
            f"({len(items)} images x {len(seeds)} seeds)"
        )

    def mean_abs(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
        return sum(float((x - y).abs().mean()) for x, y in zip(a, b)) / len(a)

    by_mode = sum(mean_abs(outputs[("image", s)], outputs[("tile", s)]) for s in seeds) / len(seeds)
    print(f"mean |image - tile| (same seed): {by_mode:.4f} DN (max value {dataset.card.max_value:g})")
    if len(seeds) > 1:
        for mode in ("image", "tile"):
            by_seed = mean_abs(outputs[(mode, seeds[0])], outputs[(mode, seeds[1])])
            print(f"mean |seed {seeds[0]} - seed {seeds[1]}| (noise={mode}): {by_seed:.4f} DN")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
