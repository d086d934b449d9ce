"""The SSDiff model in the platform: registration, suites, checkpoints, presets' inference
semantics, seeded determinism, full-resolution data through the tiler, and clear errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from fusionbench import FusionBatch
from fusionbench.diffusion.samplers import DDIMSampler, gaussian_noise
from fusionbench.diffusion.schedules import make_schedule
from fusionbench.engine.planner import plan_suite
from fusionbench.errors import FusionbenchError
from fusionbench.specs import DataCard
from fusionbench.training.checkpoint import CheckpointError
from fusionbench_ssdiff.model import SSDiff
from fusionbench_ssdiff.network import NetworkConfig, SSNet
from fusionbench_ssdiff.presets import PAPER_NETWORK, PRESETS, TINY_NETWORK
from fusionbench_ssdiff.testing import batch_of, context_for, open_dataset


def test_registered_spec(registry):
    spec = registry.get("model", "ssdiff").spec
    assert spec.tasks == frozenset({"pansharpening"}) and spec.protocols == frozenset({"reduced", "full"})
    assert spec.needs_sampler and spec.default_sampler == "ddim" and dict(spec.default_sampler_params) == {"steps": 10}
    assert spec.params["preset"].default == "tiny" and set(spec.params["preset"].choices) == {
        "tiny",
        "paper",
        "release",
    }
    assert "checkpoint" in spec.params


@pytest.mark.parametrize("suite, dataset", [("reduced-res", "synthetic-qb-rr"), ("full-res", "synthetic-wv3-fr")])
def test_default_suites_include_ssdiff(registry, suite, dataset):
    runs = [r for r in plan_suite(registry, suite).runs if r.model.name == "ssdiff"]
    assert dataset in {r.dataset.name for r in runs}
    assert all(
        r.sampler is not None and r.sampler.name == "ddim" and dict(r.sampler.params)["steps"] == 10 for r in runs
    )


def _released_state(tmp_path: Path, bands: int) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "ema_0.9999_021000.pt"
    torch.save(SSNet(NetworkConfig(channels=bands, **PAPER_NETWORK)).state_dict(), path)
    return path


def test_released_state_dict_loads_strictly_and_band_count_is_checked(registry, tmp_path):
    dataset = open_dataset(registry, "synthetic-qb-rr")
    path = _released_state(tmp_path, bands=4)
    model = SSDiff(preset="release", checkpoint=str(path))
    model.setup(context_for(dataset, tmp_path))
    assert model.net is not None and model.net.config.channels == 4
    assert sum(p.numel() for p in model.net.parameters()) == 1_413_940
    (tmp_path / "wv3").mkdir()
    wrong = SSDiff(preset="release", checkpoint=str(_released_state(tmp_path / "wv3", bands=8)))
    with pytest.raises(FusionbenchError, match="trained for 8 bands; the dataset has 4"):
        wrong.setup(context_for(dataset, tmp_path))


def test_a_checkpoint_of_another_preset_fails_naming_file_and_preset(tmp_path):
    path = _released_state(tmp_path, bands=8)  # paper widths; the tiny network is narrower
    with pytest.raises(
        CheckpointError, match=rf"{path.name} does not fit the SSDiff network of preset 'tiny' \(size mismatch"
    ):
        SSDiff(preset="tiny").load(path)


def test_missing_checkpoint_and_untrainable_presets_fail_clearly(registry, tmp_path):
    dataset = open_dataset(registry, "synthetic-qb-rr")
    with pytest.raises(CheckpointError, match="fusionbench train ssdiff"):
        SSDiff(preset="paper").setup(context_for(dataset, tmp_path))
    with pytest.raises(CheckpointError, match="not found; looked at"):
        SSDiff(checkpoint="nowhere.safetensors").setup(context_for(dataset, tmp_path))
    with pytest.raises(ValueError, match="multiples of 4"):
        SSDiff(tile=30)
    with pytest.raises(ValueError, match="unknown SSDiff preset"):
        SSDiff(preset="huge")
    with pytest.raises(FusionbenchError, match="not set up"):
        SSDiff().fuse(batch_of(next(dataset.items("test")), dataset.card))


def test_presets_differ_only_where_the_released_code_does(trained):
    model, _, _ = trained
    lms = torch.full((1, 4, 8, 8), 0.9)
    cond = {"lms": lms, "pan": torch.zeros(1, 1, 8, 8), "ms": torch.zeros(1, 4, 2, 2)}
    x_t = torch.randn(1, 4, 8, 8)
    t = torch.tensor([900.0])
    correct = model.denoiser()
    assert correct.time_input == "original" and correct.parameterization == "x0"
    residual = correct.fn(x_t, t, cond=cond)
    assert bool(((residual + lms) <= 1.0 + 1e-6).all() and ((residual + lms) >= -1e-6).all())  # residual space, clipped
    release = SSDiff(preset="release")
    release.net, release.schedule = model.net, model.schedule
    quirky = release.denoiser()
    assert quirky.time_input == "index"  # quirk A: the network sees 0…9
    full = quirky.fn(x_t, t, cond=cond)
    torch.testing.assert_close(full, residual + lms)  # quirk B: x̂0 is the clamped full image
    assert release.preset.fixed_scale == 2047.0 and release.overlap == 48


def test_fuse_is_seeded_and_independent_of_the_tile_batch(trained):
    model, _, dataset = trained
    item = next(dataset.items("test"))
    batch = batch_of(item, dataset.card)
    crop = {k: v[..., : (64 if k != "ms" else 16), : (64 if k != "ms" else 16)] for k, v in batch.inputs.items()}
    batch = replace(batch, inputs=crop)

    def run(seed: int, tile_batch: int) -> torch.Tensor:
        model.tile_batch = tile_batch
        return model.fuse(batch, sampler=DDIMSampler(steps=3), generator=torch.Generator().manual_seed(seed))

    first, again, other_batching, other_seed = run(0, 16), run(0, 16), run(0, 2), run(1, 16)
    model.tile_batch = model.preset.tile_batch
    assert first.shape == crop["lms"].shape and first.dtype == crop["lms"].dtype
    assert torch.equal(first, again)
    torch.testing.assert_close(first, other_batching, rtol=1e-4, atol=1e-3 * dataset.card.max_value)
    assert not torch.equal(first, other_seed)
    assert 0 <= float(first.min()) and float(first.max()) <= dataset.card.max_value


class _RecordingDDIM(DDIMSampler):
    """DDIM that records each tile batch's initial noise and returns it as the sample (so the
    fused image is the blended x_T plus LMS)."""

    def __init__(self) -> None:
        super().__init__(steps=1)
        self.starts: list[torch.Tensor | None] = []

    def sample(self, denoiser, shape, *, cond=None, generator=None, x_init=None, device=None, **kwargs):
        self.starts.append(x_init)
        return x_init if x_init is not None else gaussian_noise(tuple(shape), generator, device, torch.float32)


def _random_tiny(preset: str = "tiny") -> SSDiff:
    torch.manual_seed(0)
    model = SSDiff(preset=preset, tile=32, overlap=8, tile_batch=2)
    model.net = SSNet(NetworkConfig(channels=4, **TINY_NETWORK)).eval()
    model.schedule = make_schedule("cosine", 1000)
    return model


def _blank_batch(size: int = 64) -> FusionBatch:
    g = torch.Generator().manual_seed(0)
    lms = 0.3 + 0.4 * torch.rand(1, 4, size, size, generator=g, dtype=torch.float64)
    inputs = {"pan": lms.mean(1, keepdim=True), "lms": lms, "ms": lms[..., 2::4, 2::4]}
    return FusionBatch(("x",), inputs, DataCard(sensor="QB", ratio=4, bands=4, max_value=1.0))


def test_release_draws_fresh_noise_per_tile_batch_like_the_released_sampler():
    """image_sample.py's DDIM loop starts every crop batch from its own th.randn; tiny/paper tile
    one whole-image field instead. With a sampler that returns x_T, the tiny output is exactly
    that field cut and blended back (overlaps agree), the release output is not."""
    batch = _blank_batch()
    release = replace(_random_tiny().preset, noise="tile")
    assert PRESETS["release"].noise == "tile" and PRESETS["tiny"].noise == PRESETS["paper"].noise == "image"

    tiled = _RecordingDDIM()
    image_model = _random_tiny()
    image_out = image_model.fuse(batch, sampler=tiled, generator=torch.Generator().manual_seed(3))
    assert all(start is not None for start in tiled.starts)
    field = gaussian_noise((1, 4, 64, 64), torch.Generator().manual_seed(3), "cpu", torch.float32)
    torch.testing.assert_close(image_out, (field + batch.inputs["lms"].float()).clamp(0, 1).double())

    fresh = _RecordingDDIM()
    tile_model = _random_tiny()
    tile_model.preset = release
    outs = [tile_model.fuse(batch, sampler=fresh, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
    assert len(fresh.starts) == 2 * 5 and all(start is None for start in fresh.starts)  # 9 tiles in batches of 2
    assert torch.equal(outs[0], outs[1])  # still reproducible per seed
    assert not torch.allclose(outs[0], image_out)


def test_full_resolution_trains_on_the_reduced_sibling_and_tiles(trained, registry):
    """synthetic-qb-fr has no training split: the core's ``training_dataset()`` opens its
    ``train_from`` twin synthetic-qb-rr, so the session's cached checkpoint is found, and a
    full-resolution crop runs through overlapping tiles."""
    model_rr, cache, _ = trained
    full = open_dataset(registry, "synthetic-qb-fr")
    assert "train" not in full.splits
    messages: list[str] = []
    model = SSDiff(preset="tiny")
    model.setup(context_for(full, cache, messages, registry=registry))
    assert any("using cached checkpoint" in m for m in messages), messages
    assert model.checkpoint_path == model_rr.checkpoint_path
    with pytest.raises(FusionbenchError, match="synthetic-qb-fr.*no usable train split"):
        SSDiff(preset="tiny").setup(context_for(full, cache))  # without the twin: the fr set itself
    item = next(full.items("test"))
    batch = batch_of(item, full.card)
    size = 96  # 4×4 tiles of 32 with overlap 8: the full 256² image works the same, only slower
    crop = {
        k: v[..., : size // (4 if k == "ms" else 1), : size // (4 if k == "ms" else 1)] for k, v in batch.inputs.items()
    }
    out = model.fuse(
        replace(batch, inputs=crop), sampler=DDIMSampler(steps=2), generator=torch.Generator().manual_seed(0)
    )
    assert out.shape == crop["lms"].shape and bool(torch.isfinite(out).all())


def test_full_resolution_image_is_sampled_tile_by_tile_with_bounded_batches(registry):
    """A network whose output is exactly zero (x̂0 = 0 residual) turns SSDiff into EXP: a whole
    256² full-resolution image comes back as its LMS through 121 blended tiles, and the network
    never sees more than ``tile_batch`` tiles of ``tile``² pixels at once."""
    from fusionbench.diffusion.schedules import cosine_schedule
    from fusionbench_ssdiff.presets import TINY_NETWORK

    full = open_dataset(registry, "synthetic-qb-fr")
    batch = batch_of(next(full.items("test")), full.card)
    net = SSNet(NetworkConfig(channels=4, **TINY_NETWORK)).eval()
    with torch.no_grad():
        for p in (*net.to_hrms[2].parameters(), net.upsample.upsamle[0].weight):
            p.zero_()
    seen: list[tuple[int, ...]] = []
    net.register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape)))
    model = SSDiff(preset="tiny", tile_batch=8)
    model.net, model.schedule = net, cosine_schedule(1000)
    out = model.fuse(batch, sampler=DDIMSampler(steps=1), generator=torch.Generator().manual_seed(0))
    lms = batch.inputs["lms"]
    assert out.shape == lms.shape == (1, 4, 256, 256)
    torch.testing.assert_close(out, lms.clamp(0, full.card.max_value), rtol=1e-6, atol=1e-3)
    assert {s[-2:] for s in seen} == {(32, 32)} and max(s[0] for s in seen) <= 8
    assert sum(s[0] for s in seen) == 121  # 11 × 11 tiles: starts 0, 24, …, 216 and 224 (flush with the border)
