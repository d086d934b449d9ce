"""Self-training models: the content-keyed cache and the checkpoints a plugin ships for the
embedded datasets (used only for exactly the key they were trained for)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from fusionbench.specs import DataCard
from fusionbench.training.cache import content_key
from fusionbench.training.checkpoint import save_checkpoint
from fusionbench.training.selftrain import self_trained_checkpoint
from fusionbench.training.shipped import NO_SHIPPED_ENV


@dataclass(frozen=True)
class _Preset:
    name: str = "tiny"
    auto_train: bool = True

    def key_dict(self) -> dict[str, Any]:
        return {"name": self.name, "iterations": 3}


class _Dataset:
    name = "synthetic-toy"
    card = DataCard(max_value=2047.0, bands=4)

    def content_sha256(self, split: str) -> str:
        return f"sha-of-{split}"


@dataclass
class _Context:
    cache_dir: Path
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.dataset = _Dataset()
        self.card = self.dataset.card
        self.messages: list[str] = []

    def report(self, message: str) -> None:
        self.messages.append(message)


class _Trainer:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Any, max_value: float) -> None:
        self.calls += 1
        save_checkpoint(
            request.output_dir, model_state={"w": torch.full((2,), float(self.calls))}, config={"model": {}}
        )


def _checkpoint(context: _Context, train: _Trainer, shipped: Path | None) -> Path:
    return self_trained_checkpoint(
        context, label="Toy", model="toy", preset=_Preset(), code_version="1", train=train, shipped=shipped
    )


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """A plugin's ``weights/self-trained`` folder holding the checkpoint of the toy key."""
    monkeypatch.delenv(NO_SHIPPED_ENV, raising=False)
    trainer = _Trainer()
    trained = _checkpoint(_Context(tmp_path / "trainer-cache"), trainer, shipped=None)
    folder = tmp_path / "plugin" / "weights" / "self-trained"
    shutil.copytree(trained, folder / trained.name)
    return folder


def test_a_shipped_checkpoint_of_the_same_key_is_used_instead_of_training(tmp_path, shipped):
    trainer, context = _Trainer(), _Context(tmp_path / "user-cache")
    path = _checkpoint(context, trainer, shipped)
    assert trainer.calls == 0
    assert path.parent == tmp_path / "user-cache" / "toy" and (path / "config.json").is_file()
    assert any("shipped with the plugin" in m and NO_SHIPPED_ENV in m for m in context.messages)
    assert _checkpoint(context, trainer, shipped) == path and trainer.calls == 0  # now simply cached


def test_another_key_trains_and_the_switch_turns_shipping_off(tmp_path, shipped, monkeypatch):
    trainer = _Trainer()
    _checkpoint(_Context(tmp_path / "other-seed", seed=1), trainer, shipped)  # a key nothing ships
    assert trainer.calls == 1
    monkeypatch.setenv(NO_SHIPPED_ENV, "1")
    _checkpoint(_Context(tmp_path / "switched-off"), trainer, shipped)
    assert trainer.calls == 2


def test_a_shipped_folder_whose_recorded_key_differs_is_refused(tmp_path, shipped):
    (folder,) = shipped.iterdir()
    recorded = json.loads((folder / "cache_key.json").read_text())
    (folder / "cache_key.json").write_text(json.dumps({**recorded, "seed": 7}))
    with pytest.raises(RuntimeError, match="trained for another key"):
        _checkpoint(_Context(tmp_path / "user-cache"), _Trainer(), shipped)
    assert folder.name == content_key({**recorded})  # the folder name alone is not trusted
