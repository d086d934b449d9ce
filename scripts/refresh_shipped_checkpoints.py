"""Maintainers' tool: (re)build the self-trained checkpoints the DDIF and SSDiff plugins ship for
the embedded synthetic datasets, so `fusionbench run --suite reduced-res` on a fresh machine
scores them instead of spending ~35 CPU-minutes training them first.

For every self-training model and every embedded dataset of the default suites it runs the
model's own ``setup`` (the exact path a benchmark run takes: same recipe, training twin, seed and
content key), training only what the cache does not already hold, and copies the minimal files
— ``config.json``, ``cache_key.json`` and the weights the model loads (EMA when present) — into
``<plugin package>/weights/self-trained/<key>/``. Stale keys are removed. The test
``test_shipped_checkpoints`` in each plugin fails when a shipped key no longer matches the code.

    python scripts/refresh_shipped_checkpoints.py [--cache DIR] [--models ddif,ssdiff]
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from fusionbench.engine.planner import embedded_training_datasets
from fusionbench.lazy import build
from fusionbench.protocols import ModelContext
from fusionbench.registry import load_registry
from fusionbench.training.checkpoint import EMA_FILE, MODEL_FILE
from fusionbench.training.shipped import NO_SHIPPED_ENV, shipped_checkpoints_dir

DEFAULT_CACHE = Path("fusionbench-results") / "cache"


def refresh(model_name: str, cache: Path, registry) -> list[str]:
    os.environ[NO_SHIPPED_ENV] = "1"  # build from the cache or by training, never from the old copies
    kept: list[str] = []
    target = None
    for dataset_name in embedded_training_datasets(registry, model_name):
        dataset = build(registry.get("dataset", dataset_name).spec)
        model = build(registry.get("model", model_name).spec)
        if target is None:
            target = shipped_checkpoints_dir(type(model))
        context = ModelContext(
            device="cpu",
            card=dataset.card,
            dataset=dataset,
            cache_dir=cache,
            resolve_weights=lambda uri, sha: None,
            seed=0,
            report=print,
            task=registry.get("dataset", dataset_name).spec.task,
        )
        model.setup(context)
        source = Path(model.checkpoint_path)
        destination = target / source.name
        if destination.exists():
            shutil.rmtree(destination)
        destination.mkdir(parents=True)
        weights = EMA_FILE if (source / EMA_FILE).is_file() else MODEL_FILE
        for name in ("config.json", "cache_key.json", weights):
            shutil.copy2(source / name, destination / name)
        kept.append(source.name)
        print(f"{model_name} on {dataset_name}: {destination} ({(destination / weights).stat().st_size / 1e6:.2f} MB)")
    if target is not None and target.is_dir():
        for stale in target.iterdir():
            if stale.name not in kept:
                shutil.rmtree(stale)
                print(f"removed stale {stale}")
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="checkpoint cache to reuse/train into")
    parser.add_argument("--models", default="ddif,ssdiff")
    args = parser.parse_args(argv)
    registry = load_registry(disabled=["mlflow"])
    for model_name in args.models.split(","):
        refresh(model_name, args.cache, registry)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
