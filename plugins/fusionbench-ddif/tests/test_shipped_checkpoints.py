"""The DDIF-tiny checkpoints shipped for the embedded datasets match what the current code
would train: same content keys (recipe incl. the per-task budget, data, seed, code version),
loadable, none stale. When this fails, run
``python scripts/refresh_shipped_checkpoints.py --models ddif``."""

from __future__ import annotations

from pathlib import Path

from fusionbench import ModelContext
from fusionbench.engine.planner import embedded_training_datasets
from fusionbench.lazy import build
from fusionbench.registry import load_registry
from fusionbench.training.shipped import NO_SHIPPED_ENV, shipped_checkpoints_dir
from fusionbench_ddif.model import DDIF


def test_each_embedded_dataset_uses_a_shipped_checkpoint_and_none_is_stale(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(NO_SHIPPED_ENV, raising=False)  # the test session trains by default (conftest)
    registry = load_registry(disabled=["mlflow"])
    names = embedded_training_datasets(registry, "ddif")
    assert names == ["synthetic-cave-x4", "synthetic-gf2-rr", "synthetic-qb-rr", "synthetic-wv2-rr", "synthetic-wv3-rr"]
    used = set()
    for name in names:
        spec = registry.get("dataset", name).spec
        dataset = build(spec)
        model = DDIF()

        def refuse_to_train(request, max_value, name=name):
            raise AssertionError(f"no shipped DDIF checkpoint matches {name}: refresh them (see module docstring)")

        monkeypatch.setattr(model, "_train", refuse_to_train)
        messages: list[str] = []
        context = ModelContext(
            device="cpu",
            card=dataset.card,
            dataset=dataset,
            cache_dir=tmp_path / "cache",
            resolve_weights=lambda uri, sha: None,
            seed=0,
            report=messages.append,
            task=spec.task,
        )
        model.setup(context)
        assert any("shipped with the plugin" in m for m in messages)
        used.add(model.checkpoint_path.name)
    assert used == {p.name for p in shipped_checkpoints_dir(DDIF).iterdir()}, "stale shipped checkpoints"
