"""Training loop, EMA, checkpoints, exact resume, checkpoint cache and MLflow loss logging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from fusionbench.training.cache import CheckpointCache, content_key
from fusionbench.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_config,
    save_checkpoint,
)
from fusionbench.training.config import TrainConfig
from fusionbench.training.ema import EMA
from fusionbench.training.loop import TensorBatches, Trainer, TrainingDiverged


def _problem(n: int = 64) -> tuple[nn.Module, TensorBatches]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.1), nn.Linear(8, 1))
    return model, TensorBatches({"x": x, "y": y}, batch_size=8)


def _loss(model: nn.Module, batch: dict, generator: torch.Generator) -> torch.Tensor:
    noise = torch.randn(batch["y"].shape, generator=generator) * 0.01  # uses the loop's generator
    return ((model(batch["x"]) - batch["y"] - noise) ** 2).mean()


def _config(**kw) -> TrainConfig:
    base = dict(
        iterations=6, batch_size=8, lr=1e-2, ema_decay=0.9, ema_start=2, log_every=2, lr_milestones=(4,), lr_gamma=0.5
    )
    return TrainConfig(**{**base, **kw})


def test_training_reduces_the_loss_and_writes_a_complete_checkpoint(tmp_path):
    model, batches = _problem()
    result = Trainer(
        model, _loss, batches, _config(iterations=150, log_every=25), output_dir=tmp_path, model_config={"kind": "mlp"}
    ).fit()
    assert result.steps == 150
    assert result.history[-1][1] < result.history[0][1] / 10
    config = read_config(tmp_path)
    assert config["format"] == "fusionbench-checkpoint" and config["model"] == {"kind": "mlp"}
    assert config["step"] == 150 and config["training"]["iterations"] == 150
    assert {p.name for p in tmp_path.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "ema.safetensors",
        "training_state.pt",
    }
    ema_state, _ = load_checkpoint(tmp_path, prefer="ema")
    online, _ = load_checkpoint(tmp_path, prefer="model")
    assert not torch.equal(ema_state["0.weight"], online["0.weight"])
    torch.testing.assert_close(online["0.weight"], model.state_dict()["0.weight"].cpu())


def test_resume_is_exact(tmp_path):
    model, batches = _problem()
    Trainer(model, _loss, batches, _config(), output_dir=tmp_path / "straight").fit()
    straight = load_checkpoint(tmp_path / "straight", prefer="model")[0]
    straight_ema = load_checkpoint(tmp_path / "straight")[0]

    model, batches = _problem()
    Trainer(model, _loss, batches, _config(iterations=3), output_dir=tmp_path / "split").fit()
    model, batches = _problem()  # a fresh process would rebuild everything
    result = Trainer(model, _loss, batches, _config(), output_dir=tmp_path / "split").fit(resume=True)
    assert result.steps == 6
    resumed = load_checkpoint(tmp_path / "split", prefer="model")[0]
    resumed_ema = load_checkpoint(tmp_path / "split")[0]
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
        assert torch.equal(straight_ema[key], resumed_ema[key]), key
    # the loss history continues too (step 3 is the first run's final log entry)
    assert [s for s, _ in read_config(tmp_path / "split")["history"]] == [2, 3, 4, 6]


def test_ema_copies_then_averages():
    model = nn.Linear(1, 1, bias=False)
    ema = EMA(model, decay=0.5, start=1)
    with torch.no_grad():
        model.weight.fill_(2.0)
    ema.update(model, step=1)  # warm-up: copy
    assert float(ema.shadow["weight"]) == 2.0
    with torch.no_grad():
        model.weight.fill_(4.0)
    ema.update(model, step=2)  # 0.5 * 2 + 0.5 * 4
    assert float(ema.shadow["weight"]) == 3.0
    ema.copy_to(model)
    assert float(model.weight.detach()) == 3.0


def test_divergence_is_reported(tmp_path):
    model, batches = _problem()

    def bad(model, batch, generator):
        return model(batch["x"]).sum() * float("nan")

    with pytest.raises(TrainingDiverged, match="loss is nan at step 1"):
        Trainer(model, bad, batches, _config(), output_dir=tmp_path).fit()


def test_checkpoint_files_and_refusals(tmp_path):
    state = {"w": torch.arange(6.0).view(2, 3)}
    save_checkpoint(tmp_path / "ck", model_state=state, config={"model": {"a": 1}})
    weights, config = load_checkpoint(tmp_path / "ck")  # no EMA: falls back to the online weights
    assert torch.equal(weights["w"], state["w"]) and config["model"] == {"a": 1}

    # bare .safetensors file with a sibling .json
    (tmp_path / "ck" / "model.safetensors").rename(tmp_path / "w.safetensors")
    (tmp_path / "w.json").write_text(json.dumps({"model": {"b": 2}}))
    weights, config = load_checkpoint(tmp_path / "w.safetensors")
    assert torch.equal(weights["w"], state["w"]) and config == {"model": {"b": 2}}

    # a .pth state dict nested under a usual key, with DataParallel prefixes
    torch.save({"ema_model": {"module.w": state["w"]}, "epoch": 3}, tmp_path / "released.pth")
    weights, _ = load_checkpoint(tmp_path / "released.pth")
    assert list(weights) == ["w"]

    # pickled objects are refused (weights_only=True)
    torch.save({"w": state["w"], "obj": Path("x")}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "incomplete").mkdir()
    with pytest.raises(CheckpointError, match="not a complete checkpoint"):
        load_checkpoint(tmp_path / "incomplete")


def test_cache_trains_once_per_key(tmp_path):
    cache = CheckpointCache(tmp_path)
    calls: list[Path] = []

    def train(directory: Path) -> None:
        calls.append(directory)
        save_checkpoint(directory, model_state={"w": torch.ones(1)}, config={"n": len(calls)})

    parts = {"preset": "tiny", "data": "abc", "seed": 0}
    first, trained = cache.get_or_train(parts, train)
    again, trained_again = cache.get_or_train(dict(reversed(list(parts.items()))), train)
    assert trained and not trained_again and first == again and len(calls) == 1
    assert first.name == content_key(parts) and json.loads((first / "cache_key.json").read_text()) == parts
    other, _ = cache.get_or_train({**parts, "seed": 1}, train)
    assert other != first and len(calls) == 2
    assert cache.lookup(parts) == first and cache.lookup({"x": 1}) is None


def _train_in_another_process(root: str, log: str, barrier) -> str:
    """A worker of the concurrency test: waits for its sibling, then asks the cache."""
    import time

    def train(directory: Path) -> None:
        with open(log, "a") as handle:
            handle.write("trained\n")
        time.sleep(0.5)  # the sibling arrives while this one is still training
        save_checkpoint(directory, model_state={"w": torch.ones(1)}, config={})

    barrier.wait()
    path, _ = CheckpointCache(Path(root)).get_or_train({"preset": "tiny", "seed": 0}, train)
    return str(path)


def test_concurrent_workers_train_a_checkpoint_once(tmp_path):
    """Two worker processes needing the same self-trained checkpoint: one trains, the other waits
    on the cache's file lock and loads the result (the local executor runs one per CPU slot)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    log = tmp_path / "log.txt"
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            paths = list(
                pool.map(_train_in_another_process, [str(tmp_path / "cache")] * 2, [str(log)] * 2, [barrier] * 2)
            )
    assert paths[0] == paths[1]
    assert log.read_text() == "trained\n"


def test_mlflow_logger_records_the_loss_curve(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from fusionbench.training.tracking import MlflowTrainingLogger

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    model, batches = _problem()
    logger = MlflowTrainingLogger(run_name="unit", tags={"fusionbench.model": "mlp"})
    Trainer(
        model, _loss, batches, _config(), output_dir=tmp_path / "ck", logger=logger, model_config={"kind": "mlp"}
    ).fit()
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.kind"] == "mlp" and run.data.params["training.iterations"] == "6"
    history = client.get_metric_history(logger.run_id, "loss")
    assert [m.step for m in history] == [2, 4, 6]
    assert run.data.tags["fusionbench.kind"] == "train"
