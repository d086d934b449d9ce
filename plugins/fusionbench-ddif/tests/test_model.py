"""The DDIF model wrapper: fuse contracts, determinism, preset inference behaviour, checkpoint
resolution and the errors a user sees."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionbench import DataCard, ModelContext
from fusionbench.diffusion.samplers import make_sampler
from fusionbench.errors import FusionbenchError
from fusionbench.training.checkpoint import CheckpointError
from fusionbench_ddif.model import DDIF
from fusionbench_ddif.network import NetworkConfig, UNetSR3
from fusionbench_ddif.presets import PRESETS
from fusionbench_ddif.testing import WV3, mhif_batch, pansharpening_batch, random_checkpoint


def _context(tmp_path: Path, card: DataCard = WV3, dataset=None, resolver=None) -> ModelContext:
    return ModelContext(
        device="cpu",
        card=card,
        dataset=dataset,
        cache_dir=tmp_path / "cache",
        resolve_weights=resolver or (lambda uri, sha: Path(uri) if Path(uri).is_file() else None),
        seed=0,
        report=lambda message: None,
    )


def _loaded(checkpoint: Path, preset: str = "tiny", **kw) -> DDIF:
    model = DDIF(preset=preset, **kw)
    model.load(checkpoint)
    return model


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(3, 6), w=st.integers(3, 6), batch=st.integers(1, 2), seed=st.integers(0, 1000))
def test_fuse_returns_native_units_shape_and_dtype(wv3_checkpoint, h, w, batch, seed):
    model = _loaded(wv3_checkpoint)
    fusion = pansharpening_batch(4 * h, 4 * w, batch=batch, seed=seed)
    out = model.fuse(fusion, sampler=make_sampler("ddim", steps=3), generator=torch.Generator().manual_seed(seed))
    assert out.shape == fusion.inputs["lms"].shape and out.dtype == torch.float64
    assert float(out.min()) >= 0.0 and float(out.max()) <= WV3.max_value  # clip(x0 + LMS, 0, 1) * max
    assert torch.isfinite(out).all()


def test_sizes_that_are_not_multiples_are_padded_and_cropped(wv3_checkpoint):
    out = _loaded(wv3_checkpoint).fuse(
        pansharpening_batch(30, 22), sampler=make_sampler("ddim", steps=2), generator=torch.Generator().manual_seed(0)
    )
    assert out.shape == (1, 8, 30, 22)


def test_same_seed_same_output_and_every_sampler_works(wv3_checkpoint):
    model = _loaded(wv3_checkpoint)
    batch = pansharpening_batch(16, 16)
    outs = {}
    for name in ("ddim", "ddpm", "dpmpp-2m"):
        sampler = make_sampler(name, steps=5)
        a = model.fuse(batch, sampler=sampler, generator=torch.Generator().manual_seed(4))
        b = model.fuse(batch, sampler=sampler, generator=torch.Generator().manual_seed(4))
        c = model.fuse(batch, sampler=sampler, generator=torch.Generator().manual_seed(5))
        assert torch.equal(a, b) and not torch.equal(a, c)
        assert sampler.nfe == 5
        outs[name] = a
    assert not torch.equal(outs["ddim"], outs["ddpm"])


def _spy(model: DDIF) -> list[tuple[float, bool]]:
    calls: list[tuple[float, bool]] = []
    net = model.net
    forward = net.forward

    def spy(x_t, t, cond, self_cond=None):
        calls.append((float(t[0]), self_cond is None))
        return forward(x_t, t, cond, self_cond)

    net.forward = spy  # type: ignore[method-assign]
    return calls


def test_default_feeds_true_timesteps_and_previous_x0(wv3_checkpoint):
    model = _loaded(wv3_checkpoint, preset="tiny")
    calls = _spy(model)
    model.fuse(
        pansharpening_batch(16, 16), sampler=make_sampler("ddim", steps=25), generator=torch.Generator().manual_seed(0)
    )
    assert [t for t, _ in calls] == [480.0 - 20 * i for i in range(25)]  # "ddim25" of T = 500
    assert [none for _, none in calls] == [True] + [False] * 24  # self-conditioning on the previous x0


def test_release_preset_reproduces_the_released_time_indexing(tmp_path):
    checkpoint = random_checkpoint(tmp_path / "paperish")
    model = _loaded(checkpoint, preset="release")
    calls = _spy(model)
    model.fuse(
        pansharpening_batch(16, 16), sampler=make_sampler("ddim", steps=25), generator=torch.Generator().manual_seed(0)
    )
    assert [t for t, _ in calls] == [24.0 - i for i in range(25)]  # respaced index, not the timestep
    assert all(none for _, none in calls)  # self-condition input always x_t
    denoiser = model.denoiser(make_sampler("ddim", steps=25))
    assert len(denoiser.schedule) == 25  # a fresh 25-step cosine schedule, as Dif-PAN's test_fn


def test_mhif_checkpoint_fuses_mhif_batches(tmp_path):
    checkpoint = random_checkpoint(tmp_path / "cave", channels=31, pan_channels=3, task="mhif")
    model = _loaded(checkpoint)
    batch = mhif_batch(16, 16)
    out = model.fuse(batch, sampler=make_sampler("ddim", steps=2), generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 31, 16, 16) and 0 <= float(out.min()) and float(out.max()) <= 1
    with pytest.raises(FusionbenchError, match="does mhif; the batch is pansharpening"):
        model.fuse(pansharpening_batch(16, 16), sampler=make_sampler("ddim", steps=2))


def test_setup_resolves_a_checkpoint_and_checks_the_band_count(tmp_path, wv3_checkpoint, monkeypatch):
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(wv3_checkpoint.parent))
    model = DDIF(checkpoint=wv3_checkpoint.name)  # a directory name found under $FUSIONBENCH_WEIGHTS
    model.setup(_context(tmp_path))
    assert model.checkpoint_path == wv3_checkpoint
    gf2 = DataCard(sensor="GF2", ratio=4, bands=4, max_value=1023.0)
    with pytest.raises(FusionbenchError, match="trained for 8 bands; the dataset has 4"):
        DDIF(checkpoint=str(wv3_checkpoint)).setup(_context(tmp_path, card=gf2))
    model = _loaded(wv3_checkpoint)
    with pytest.raises(FusionbenchError, match="expects 8 bands"):
        model.fuse(pansharpening_batch(16, 16, bands=4), sampler=make_sampler("ddim", steps=2))


def test_missing_checkpoint_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(CheckpointError) as info:
        DDIF(checkpoint="ddif-wv3.safetensors").setup(_context(tmp_path))
    message = str(info.value)
    assert "not found" in message
    assert str(tmp_path / "weights" / "ddif-wv3.safetensors") in message
    assert str(tmp_path / "cache" / "ddif-wv3.safetensors") in message


def test_paper_preset_never_trains_itself(tmp_path):
    with pytest.raises(
        CheckpointError, match="preset 'paper' needs a checkpoint.*fusionbench train ddif --preset paper"
    ):
        DDIF(preset="paper").setup(_context(tmp_path))


def test_released_state_dict_loads_with_inferred_band_counts(tmp_path):
    torch.manual_seed(0)
    from fusionbench_ddif.presets import PRESETS

    net = UNetSR3(NetworkConfig(4, 1, **PRESETS["paper"].network))
    torch.save(
        {"model": net.state_dict(), "ema_model": {f"module.{k}": v for k, v in net.state_dict().items()}},
        tmp_path / "released.pth",
    )
    model = DDIF(preset="release")
    model.load(tmp_path / "released.pth")
    assert model.net.config.channels == 4 and model.task == "pansharpening"
    assert len(model.schedule) == 500
    with pytest.raises(CheckpointError, match="does not fit"):
        DDIF(preset="tiny").load(tmp_path / "released.pth")  # tiny network cannot hold paper weights


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown DDIF preset"):
        DDIF(preset="huge")
    with pytest.raises(ValueError, match="precision"):
        DDIF(precision="int8")
    with pytest.raises(FusionbenchError, match="not set up"):
        DDIF().fuse(pansharpening_batch(8, 8))


def test_bf16_precision_runs_and_stays_close(wv3_checkpoint):
    batch = pansharpening_batch(16, 16)
    full = _loaded(wv3_checkpoint).fuse(
        batch, sampler=make_sampler("ddim", steps=3), generator=torch.Generator().manual_seed(0)
    )
    half = _loaded(wv3_checkpoint, precision="bf16").fuse(
        batch, sampler=make_sampler("ddim", steps=3), generator=torch.Generator().manual_seed(0)
    )
    assert half.dtype == torch.float64
    assert float((full - half).abs().max()) < 0.05 * WV3.max_value


# -- per-task training budget -----------------------------------------------------------------
def test_tiny_preset_trains_mhif_for_4800_iterations_and_keeps_the_pansharpening_key():
    """The MHIF budget is the tiny preset's own (800 iterations leave CAVE at 32 dB); resolving
    for pansharpening gives exactly the old recipe and key, so its shipped checkpoints stay."""
    tiny = PRESETS["tiny"]
    mhif, pansharpening = tiny.for_task("mhif"), tiny.for_task("pansharpening")
    assert mhif.training.iterations == 4_800 and pansharpening.training.iterations == 800
    assert mhif.training == replace(tiny.training, iterations=4_800)  # the budget, nothing else
    assert "task_training" not in pansharpening.key_dict() and "task_training" not in mhif.key_dict()
    assert pansharpening.key_dict() == replace(tiny, task_training={}).key_dict()
    assert mhif.key_dict()["training"]["iterations"] == 4_800
    assert "task_training" in tiny.key_dict()  # unresolved: never mistaken for one task's recipe
    assert PRESETS["paper"].for_task("mhif") is PRESETS["paper"]


def test_fusionbench_train_uses_the_budget_of_the_data_s_task(monkeypatch, tmp_path):
    """`fusionbench train ddif` has no run task: the training data decides it."""
    import fusionbench_ddif.model as model_module
    from fusionbench.training.api import TrainRequest

    seen = {}

    class StopTrainer:
        def __init__(self, net, loss_fn, batches, config, **kwargs):
            seen["iterations"] = config.iterations

        def fit(self, resume=True):
            raise RuntimeError("stop")

    class Item:
        def __init__(self, batch):
            self.inputs = {k: v[0].numpy() for k, v in batch.inputs.items()}
            self.reference = batch.inputs["hsi_up"][0].numpy()

    class TinyCave:
        name = "tiny-cave"

        def items(self, split):
            return iter([Item(mhif_batch(16, 16, seed=i)) for i in range(2)])

    monkeypatch.setattr(model_module, "Trainer", StopTrainer)
    request = TrainRequest(dataset=TinyCave(), dataset_name="tiny-cave", output_dir=tmp_path, progress=False)
    with pytest.raises(RuntimeError, match="stop"):
        DDIF(preset="tiny")._train(request, 1.0)
    assert seen["iterations"] == 4_800
