"""The guided-diffusion UNet loads OpenAI's ``256x256_diffusion_uncond.pt`` unchanged.

The expected key set and shapes are written here from the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM) (the block table and the
module semantics), independently of ``fusionbench_ddfm.unet``, and compared with the network
built on the meta device (no memory, instant). A random-weight save/load round trip with
``torch.load(weights_only=True)`` runs on a channel-reduced network with the *same* key set; the
full-size round trip (2.2 GB) is opt-in: FUSIONBENCH_DDFM_FULL_ROUNDTRIP=1.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch

from fusionbench.training.checkpoint import CheckpointError
from fusionbench_ddfm.prior import load_prior
from fusionbench_ddfm.unet import PAPER_CONFIG, TINY_CONFIG, GuidedDiffusionUNet, count_parameters

# -- the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM), written out -----------------------------------------------------------------
SPEC_PARAMETERS = 552_814_086
SPEC_TENSORS = 566
# (in, out, attention, up/down) per sequential block; "conv" = the stem Conv3x3 3→256
SPEC_INPUT_BLOCKS = [
    ("conv", 3, 256),
    ("res", 256, 256),
    ("res", 256, 256),
    ("down", 256, 256),
    ("res", 256, 256),
    ("res", 256, 256),
    ("down", 256, 256),
    ("res", 256, 512),
    ("res", 512, 512),
    ("down", 512, 512),
    ("res+attn", 512, 512),
    ("res+attn", 512, 512),
    ("down", 512, 512),
    ("res+attn", 512, 1024),
    ("res+attn", 1024, 1024),
    ("down", 1024, 1024),
    ("res+attn", 1024, 1024),
    ("res+attn", 1024, 1024),
]
SPEC_MIDDLE = [("res", 1024, 1024), ("attn", 1024, 1024), ("res", 1024, 1024)]
SPEC_OUTPUT_BLOCKS = [
    ("res+attn", 2048, 1024),
    ("res+attn", 2048, 1024),
    ("res+attn+up", 2048, 1024),
    ("res+attn", 2048, 1024),
    ("res+attn", 2048, 1024),
    ("res+attn+up", 1536, 1024),
    ("res+attn", 1536, 512),
    ("res+attn", 1024, 512),
    ("res+attn+up", 1024, 512),
    ("res", 1024, 512),
    ("res", 1024, 512),
    ("res+up", 768, 512),
    ("res", 768, 256),
    ("res", 512, 256),
    ("res+up", 512, 256),
    ("res", 512, 256),
    ("res", 512, 256),
    ("res", 512, 256),
]
EMB = 1024  # time_embed width: Linear(256→1024), Linear(1024→1024)
OUT = (256, 6)  # out: GN 256, Conv3x3 256→6 (ε + learned-variance interpolation)


def _resblock(prefix: str, cin: int, cout: int) -> dict[str, tuple[int, ...]]:
    keys = {
        f"{prefix}.in_layers.0.weight": (cin,),
        f"{prefix}.in_layers.0.bias": (cin,),
        f"{prefix}.in_layers.2.weight": (cout, cin, 3, 3),
        f"{prefix}.in_layers.2.bias": (cout,),
        f"{prefix}.emb_layers.1.weight": (2 * cout, EMB),
        f"{prefix}.emb_layers.1.bias": (2 * cout,),  # scale-shift
        f"{prefix}.out_layers.0.weight": (cout,),
        f"{prefix}.out_layers.0.bias": (cout,),
        f"{prefix}.out_layers.3.weight": (cout, cout, 3, 3),
        f"{prefix}.out_layers.3.bias": (cout,),
    }
    if cin != cout:
        keys[f"{prefix}.skip_connection.weight"] = (cout, cin, 1, 1)
        keys[f"{prefix}.skip_connection.bias"] = (cout,)
    return keys


def _attention(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    return {
        f"{prefix}.norm.weight": (c,),
        f"{prefix}.norm.bias": (c,),
        f"{prefix}.qkv.weight": (3 * c, c, 1),
        f"{prefix}.qkv.bias": (3 * c,),
        f"{prefix}.proj_out.weight": (c, c, 1),
        f"{prefix}.proj_out.bias": (c,),
    }


def spec_state_dict_shapes() -> dict[str, tuple[int, ...]]:
    """Every key and shape of the official checkpoint, from the spec's table."""
    keys: dict[str, tuple[int, ...]] = {
        "time_embed.0.weight": (EMB, 256),
        "time_embed.0.bias": (EMB,),
        "time_embed.2.weight": (EMB, EMB),
        "time_embed.2.bias": (EMB,),
    }
    for i, (kind, cin, cout) in enumerate(SPEC_INPUT_BLOCKS):
        if kind == "conv":
            keys.update({f"input_blocks.{i}.0.weight": (cout, cin, 3, 3), f"input_blocks.{i}.0.bias": (cout,)})
            continue
        keys.update(_resblock(f"input_blocks.{i}.0", cin, cout))
        if "attn" in kind:
            keys.update(_attention(f"input_blocks.{i}.1", cout))
    for j, (kind, cin, cout) in enumerate(SPEC_MIDDLE):
        keys.update(
            _resblock(f"middle_block.{j}", cin, cout) if kind == "res" else _attention(f"middle_block.{j}", cout)
        )
    for i, (kind, cin, cout) in enumerate(SPEC_OUTPUT_BLOCKS):
        j = 0
        keys.update(_resblock(f"output_blocks.{i}.{j}", cin, cout))
        if "attn" in kind:
            j += 1
            keys.update(_attention(f"output_blocks.{i}.{j}", cout))
        if "up" in kind:
            j += 1
            keys.update(_resblock(f"output_blocks.{i}.{j}", cout, cout))
    keys.update(
        {
            "out.0.weight": (OUT[0],),
            "out.0.bias": (OUT[0],),
            "out.2.weight": (OUT[1], OUT[0], 3, 3),
            "out.2.bias": (OUT[1],),
        }
    )
    return keys


def _meta_paper() -> GuidedDiffusionUNet:
    with torch.device("meta"):
        return GuidedDiffusionUNet(PAPER_CONFIG)


def _small_paper_like():
    """The paper configuration with 1/16 of the channels: the same 566 key names."""
    return replace(PAPER_CONFIG, model_channels=16, num_head_channels=8, groups=8)


# -- tests ---------------------------------------------------------------------------------------
def test_spec_table_itself_has_566_tensors_and_552m_parameters():
    shapes = spec_state_dict_shapes()
    assert len(shapes) == SPEC_TENSORS
    total = 0
    for shape in shapes.values():
        n = 1
        for s in shape:
            n *= s
        total += n
    assert total == SPEC_PARAMETERS


def test_paper_prior_keys_and_shapes_equal_the_spec():
    net = _meta_paper()
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    expected = spec_state_dict_shapes()
    assert sorted(set(expected) - set(got)) == [] and sorted(set(got) - set(expected)) == []
    assert {k: got[k] for k in expected if got[k] != expected[k]} == {}
    assert count_parameters(net) == SPEC_PARAMETERS
    assert net.config.out_channels == 6 and net.config.size_multiple == 32


def test_tiny_prior_size():
    with torch.device("meta"):
        net = GuidedDiffusionUNet(TINY_CONFIG)
    assert count_parameters(net) == 481_649
    assert net.config.in_channels == 1 and net.config.size_multiple == 8


def test_random_weight_round_trip_with_weights_only(tmp_path):
    config = _small_paper_like()
    torch.manual_seed(0)
    net = GuidedDiffusionUNet(config).eval()
    for p in net.parameters():
        p.data.normal_(0.0, 0.05)
    assert set(net.state_dict()) == set(spec_state_dict_shapes())  # the same key names as the checkpoint
    path = tmp_path / "256x256_diffusion_uncond.pt"
    torch.save(net.state_dict(), path)  # a bare state dict, like OpenAI's file
    state = torch.load(path, map_location="cpu", weights_only=True)
    twin = GuidedDiffusionUNet(config).eval()
    twin.load_state_dict(state, strict=True)
    x, t = torch.randn(1, 3, 32, 32), torch.tensor([999.0])
    with torch.no_grad():
        expected = net(x, t)
        assert torch.equal(twin(x, t), expected)
        prior = load_prior(path, default_config=config)  # the plugin's own loader (core load_checkpoint)
        assert torch.equal(prior.net(x, t), expected)
    assert expected.shape == (1, 6, 32, 32)


def test_a_state_dict_that_does_not_fit_is_refused_with_the_reason(tmp_path):
    config = _small_paper_like()
    state = GuidedDiffusionUNet(config).state_dict()
    state.pop("out.2.bias")
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"1 missing .*out\.2\.bias.*1 unexpected"):
        load_prior(path, default_config=config)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": object()}, path)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_prior(path)


@pytest.mark.skipif(
    os.environ.get("FUSIONBENCH_DDFM_FULL_ROUNDTRIP") != "1", reason="2.2 GB; set FUSIONBENCH_DDFM_FULL_ROUNDTRIP=1"
)
def test_full_size_random_weight_round_trip(tmp_path):
    with torch.device("meta"):
        net = GuidedDiffusionUNet(PAPER_CONFIG)
    net = net.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    for p in net.parameters():
        p.data.normal_(0.0, 0.02, generator=generator)
    path = tmp_path / "256x256_diffusion_uncond.pt"
    torch.save(net.state_dict(), path)
    prior = load_prior(path)
    loaded = prior.net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in net.state_dict().items())
