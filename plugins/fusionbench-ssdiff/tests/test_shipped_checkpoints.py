"""The SSDiff-tiny checkpoints shipped for the embedded datasets match what the current code
would train: same content keys (recipe, data, seed, code version), loadable, none stale.
When this fails, run ``python scripts/refresh_shipped_checkpoints.py --models ssdiff``."""

from __future__ import annotations

from fusionbench.engine.planner import embedded_training_datasets
from fusionbench.training.shipped import NO_SHIPPED_ENV, shipped_checkpoints_dir
from fusionbench_ssdiff.model import SSDiff
from fusionbench_ssdiff.testing import context_for, open_dataset


def test_each_embedded_dataset_uses_a_shipped_checkpoint_and_none_is_stale(registry, tmp_path, monkeypatch):
    monkeypatch.delenv(NO_SHIPPED_ENV, raising=False)  # the test session trains by default (conftest)
    names = embedded_training_datasets(registry, "ssdiff")
    assert names == ["synthetic-gf2-rr", "synthetic-qb-rr", "synthetic-wv2-rr", "synthetic-wv3-rr"]
    used = set()
    for name in names:
        model = SSDiff()

        def refuse_to_train(request, max_value, name=name):
            raise AssertionError(f"no shipped SSDiff checkpoint matches {name}: refresh them (see module docstring)")

        monkeypatch.setattr(model, "_train", refuse_to_train)
        messages: list[str] = []
        model.setup(context_for(open_dataset(registry, name), tmp_path / "cache", messages))
        assert any("shipped with the plugin" in m for m in messages)
        used.add(model.checkpoint_path.name)
    assert used == {p.name for p in shipped_checkpoints_dir(SSDiff).iterdir()}, "stale shipped checkpoints"
