"""The DDFM model: registration, prior loading and its errors, the fusion loop (perfect prior,
determinism, roles, colour path, spatial handling)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from fusionbench.components.core import fusionbench_resolve_weights
from fusionbench.diffusion.samplers import make_sampler
from fusionbench.diffusion.schedules import linear_schedule
from fusionbench.errors import FusionbenchError
from fusionbench.protocols import FusionBatch, ModelContext
from fusionbench.specs import DataCard
from fusionbench.weights import relative_name
from fusionbench_ddfm.colour import merge_luma, rgb_to_ycc, split_luma, ycc_to_rgb
from fusionbench_ddfm.model import DDFM
from fusionbench_ddfm.presets import PAPER_WEIGHTS_URL
from fusionbench_ddfm.prior import Prior, shipped_tiny_prior
from fusionbench_ddfm.unet import TINY_CONFIG

CARD = DataCard(max_value=255.0)


def _context(tmp_path: Path) -> ModelContext:
    return ModelContext(
        device="cpu",
        card=CARD,
        dataset=None,
        cache_dir=tmp_path,
        resolve_weights=lambda uri, sha: fusionbench_resolve_weights(uri=uri, expected_sha256=sha, cache_dir=tmp_path),
        seed=0,
    )


def _pair(h: int = 24, w: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(
        torch.linspace(0, 1, h, dtype=torch.float64), torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij"
    )
    ir = (40 + 180 * torch.exp(-((yy - 0.5) ** 2 + (xx - 0.3) ** 2) / 0.02)).expand(1, 1, h, w).clone()
    vi = (60 + 120 * xx + 20 * torch.rand(h, w, generator=g, dtype=torch.float64)).expand(1, 1, h, w).clone()
    return ir, vi


def _batch(ir: torch.Tensor, vi: torch.Tensor) -> FusionBatch:
    return FusionBatch(image_ids=("x",), inputs={"ir": ir, "vi": vi}, card=CARD)


class OracleNet(nn.Module):
    """A 'perfect prior': predicts the ε that makes x̂0 exactly ``target`` at every step."""

    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.config = TINY_CONFIG
        self.anchor = nn.Parameter(torch.zeros(()))
        self.target = target.float()
        self.alpha_bar = linear_schedule(1000).alphas_cumprod

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self.alpha_bar[t.long()].to(x.dtype).view(-1, 1, 1, 1)
        return (x - ab.sqrt() * self.target) / (1 - ab).sqrt()


def _oracle_model(target_0_255: torch.Tensor, **params: str) -> DDFM:
    model = DDFM(**params)
    model.prior = Prior(
        net=OracleNet(target_0_255 / 127.5 - 1.0), schedule=linear_schedule(1000), source=Path("oracle")
    )
    return model


# -- registration and loading --------------------------------------------------------------------
def test_registered_with_the_contracted_spec():
    from fusionbench.registry import load_registry

    spec = load_registry().get("model", "ddfm").spec
    assert spec.tasks == frozenset({"ivf", "mif"}) and spec.needs_sampler
    assert spec.default_sampler == "ddpm" and dict(spec.default_sampler_params)["steps"] == 100
    assert spec.params["preset"].default == "tiny" and spec.params["preset"].choices == ("tiny", "paper", "release")
    assert spec.params["checkpoint"].default == ""
    assert [w.uri for w in spec.weights][1] == PAPER_WEIGHTS_URL  # `fusionbench weights fetch ddfm` downloads it
    assert relative_name(PAPER_WEIGHTS_URL) == "256x256_diffusion_uncond.pt"  # the name it is looked up by
    assert len(spec.weights[0].sha256) == 64  # the shipped tiny prior: its hash enters every run key


def test_release_preset_plans_the_released_sampler_by_default():
    """`-m 'ddfm[preset=release]'` samples with DDIM eta=0 over 100 evenly respaced steps (the
    released sample.py); tiny keeps DDPM; an explicit `-s ddim[steps=50]` keeps the release's
    other DDIM parameters."""
    from fusionbench.engine.devices import Machine
    from fusionbench.engine.planner import Selection, plan_suite
    from fusionbench.registry import load_registry

    registry = load_registry()

    def sampler(model: str, samplers=None):
        plan = plan_suite(
            registry,
            "ivf",
            models=[Selection.parse(model)],
            datasets=[Selection("synthetic-ivf")],
            samplers=samplers,
            machine=Machine(()),
        )
        run = plan.runs[0]
        return run.sampler.name, dict(run.sampler.params)

    assert sampler("ddfm[preset=release]") == ("ddim", {"steps": 100, "respacing": "even", "eta": 0.0})
    assert sampler("ddfm")[0] == "ddpm"
    assert sampler("ddfm[preset=release]", [Selection.parse("ddim[steps=50]")]) == (
        "ddim",
        {"steps": 50, "respacing": "even", "eta": 0.0},
    )


def test_shipped_tiny_prior_loads(tmp_path):
    model = DDFM()
    model.setup(_context(tmp_path))
    assert model.prior is not None and model.prior.channels == 1 and model.prior.source == shipped_tiny_prior()


def test_missing_paper_prior_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(FusionbenchError, match=r"256x256_diffusion_uncond\.pt.*FUSIONBENCH_WEIGHTS.*openaipublic"):
        DDFM(preset="paper").setup(_context(tmp_path))
    with pytest.raises(FusionbenchError, match="nowhere.pt"):
        DDFM(preset="release", checkpoint=str(tmp_path / "nowhere.pt")).setup(_context(tmp_path))


def test_paper_prior_is_found_in_fusionbench_weights(tmp_path, monkeypatch, rgb_prior):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / rgb_prior.name).write_bytes(rgb_prior.read_bytes())
    (folder / rgb_prior.with_suffix(".json").name).write_bytes(rgb_prior.with_suffix(".json").read_bytes())
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(folder))
    model = DDFM(preset="paper", checkpoint=rgb_prior.name)
    model.setup(_context(tmp_path))
    assert model.prior is not None and model.prior.channels == 3


def test_fusionbench_train_explains_that_ddfm_is_training_free():
    with pytest.raises(FusionbenchError, match="training-free.*train-prior"):
        DDFM().train_model(None)


def test_unknown_preset_variant_or_roles():
    with pytest.raises(ValueError, match="unknown DDFM preset"):
        DDFM(preset="huge")
    with pytest.raises(ValueError, match="unknown EM variant"):
        DDFM(em="mixed")
    with pytest.raises(ValueError, match="unknown roles"):
        DDFM(roles="swapped")


# -- the loop ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("em", ["paper", "fv"])
def test_perfect_prior_keeps_the_ideal_fusion(sampler, em):
    """x̂0 = ½(IR + VI) at every step (an oracle network): the rectification keeps it. ``fv`` keeps
    it exactly; ``paper``'s gradient penalty (periodic FFT boundary) touches the image border.
    The output stretch is switched off to compare in absolute units."""
    ir, vi = _pair()
    ideal = 0.5 * (ir + vi)
    model = _oracle_model(ideal, em=em)
    model.preset = replace(model.preset, output="clip")
    out = model.fuse(
        _batch(ir, vi),
        sampler=make_sampler(sampler, steps=20, respacing="even"),
        generator=torch.Generator().manual_seed(0),
    )
    assert out.shape == ir.shape and out.dtype == ir.dtype
    error = (out - ideal).abs()  # 0..255 units
    if em == "fv":
        assert float(error.max()) < 0.3
    else:
        assert float(error.mean()) < 0.3 and float(error.max()) < 3.0
        assert float(error[..., 2:-2, 2:-2].max()) < 1.0


def test_released_em_in_the_loop_reflects_the_prior():
    """A prior that favours IR (0.8 IR + 0.2 VI) ends up favouring VI with the released step
    (exactly 0.2/0.8 at the first step, where τ_a = τ_b), and keeps favouring IR with the paper's."""
    ir, vi = _pair()
    prior_says = 0.8 * ir + 0.2 * vi
    sampler = make_sampler("ddim", steps=10, respacing="even")
    released = _oracle_model(prior_says, em="released").fuse(
        _batch(ir, vi), sampler=sampler, generator=torch.Generator().manual_seed(0)
    )
    paper = _oracle_model(prior_says).fuse(_batch(ir, vi), sampler=sampler, generator=torch.Generator().manual_seed(0))

    def ir_weight(f: torch.Tensor) -> float:
        return float(((f - vi) * (ir - vi)).sum() / ((ir - vi) ** 2).sum())

    assert ir_weight(released) < 0.35
    assert ir_weight(paper) > 0.6  # attracted towards the middle, but on the prior's side


def test_seeded_determinism_with_the_shipped_prior(tmp_path):
    ir, vi = _pair(16, 24)
    model = DDFM()
    model.setup(_context(tmp_path))
    runs = [
        model.fuse(
            _batch(ir, vi),
            sampler=make_sampler("ddpm", steps=4, respacing="even"),
            generator=torch.Generator().manual_seed(seed),
        )
        for seed in (7, 7, 8)
    ]
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])
    assert float(runs[0].min()) >= 0.0 and float(runs[0].max()) <= 255.0


def test_roles_swap_follows_the_released_script():
    ir, vi = _pair()
    assert DDFM().sources({"ir": ir, "vi": vi})[0] is ir
    assert DDFM(preset="release").sources({"ir": ir, "vi": vi})[0] is vi
    assert DDFM(roles="release").sources({"mri": vi, "other": ir})[0] is vi
    assert DDFM().sources({"mri": vi, "other": ir})[0] is ir
    with pytest.raises(FusionbenchError, match="ivf .* or mif"):
        DDFM().sources({"pan": ir})


@pytest.mark.filterwarnings("ignore:DDFM.release. reproduces the released code only")
def test_release_preset_on_an_rgb_prior_crops_fills_and_stretches(rgb_prior):
    ir, vi = _pair(37, 45)  # not multiples of the prior's size multiple (4)
    model = DDFM(preset="release", checkpoint=str(rgb_prior))
    model.load(rgb_prior)
    out = model.fuse(
        _batch(ir, vi),
        sampler=make_sampler("ddim", steps=3, respacing="even"),
        generator=torch.Generator().manual_seed(0),
    )
    assert out.shape == ir.shape
    assert float(out.min()) == pytest.approx(0.0, abs=1e-9) and float(out.max()) == pytest.approx(255.0, abs=1e-6)
    torch.testing.assert_close(out[..., 36, :44], out[..., 35, :44])  # rows beyond the crop repeat its edge


@pytest.mark.filterwarnings("ignore:DDFM.release. reproduces the released code only")
def test_release_preset_samples_like_the_released_code_by_default(rgb_prior, monkeypatch):
    """MMIF-DDFM's sample.py: DDIM η = 0, timestep_respacing "100" (even rule). The paper presets
    keep Algorithm 1 (ancestral DDPM). ``fuse`` without a sampler uses the preset's."""
    release = DDFM(preset="release").default_sampler()
    assert (release.name, dict(release.params())) == ("ddim", {"steps": 100, "respacing": "even", "eta": 0.0})
    for preset in ("tiny", "paper"):
        sampler = DDFM(preset=preset).default_sampler()
        assert (sampler.name, dict(sampler.params())) == (
            "ddpm",
            {"steps": 100, "respacing": "even", "variance": "small"},
        )

    ir, vi = _pair(32, 32)
    model = DDFM(preset="release")
    model.load(rgb_prior)
    used = []
    short = make_sampler("ddim", steps=2, respacing="even")
    monkeypatch.setattr(model, "default_sampler", lambda: used.append(True) or short)
    model.fuse(_batch(ir, vi), generator=torch.Generator().manual_seed(0))
    assert used == [True]


def test_release_preset_warns_when_sampled_otherwise(rgb_prior):
    """A benchmark run passes the registered default (DDPM) unless -s names a sampler: a release
    run that is not the release says how to make it one."""
    ir, vi = _pair(32, 32)
    model = DDFM(preset="release")
    model.load(rgb_prior)
    with pytest.warns(UserWarning, match=r"-s 'ddim\[steps=100,respacing=even,eta=0.0\]'"):
        model.fuse(
            _batch(ir, vi),
            sampler=make_sampler("ddpm", steps=2, respacing="even"),
            generator=torch.Generator().manual_seed(0),
        )


def test_paper_preset_on_an_rgb_prior_pads(rgb_prior):
    ir, vi = _pair(37, 45)
    model = DDFM(preset="paper")
    model.load(rgb_prior)
    out = model.fuse(
        _batch(ir, vi),
        sampler=make_sampler("ddpm", steps=3, respacing="even"),
        generator=torch.Generator().manual_seed(0),
    )
    assert out.shape == ir.shape and 0.0 <= float(out.min()) and float(out.max()) <= 255.0


def test_not_set_up():
    ir, vi = _pair()
    with pytest.raises(FusionbenchError, match="not set up"):
        DDFM().fuse(_batch(ir, vi))


# -- colour --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "studio"])
def test_luma_split_merge_is_exact(mode):
    rgb = torch.rand(2, 3, 5, 4, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(ycc_to_rgb(rgb_to_ycc(rgb, mode), mode), rgb)
    y, chroma = split_luma(rgb, mode)
    torch.testing.assert_close(merge_luma(y, chroma, mode), rgb)


def test_luma_conventions():
    grey = torch.full((1, 3, 1, 1), 0.4, dtype=torch.float64)
    assert float(rgb_to_ycc(grey, "full")[0, 0]) == pytest.approx(0.4)  # full range: Y spans the sources' range
    assert float(rgb_to_ycc(grey, "full")[0, 1]) == pytest.approx(0.0, abs=1e-12)
    # released: skimage BT.601 studio range on [-1, 1] data, /255 -> 16/255 + 219/255 * grey
    assert float(rgb_to_ycc(grey, "studio")[0, 0]) == pytest.approx((16 + 219.0 * 0.4) / 255, abs=1e-6)
    red = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64).view(1, 3, 1, 1)
    assert rgb_to_ycc(red, "studio").flatten().tolist() == pytest.approx(
        [(16 + 65.481) / 255, (128 - 37.797) / 255, (128 + 112.0) / 255]
    )
