"""UNetSR3: exact parameter counts and state-dict layout, module semantics against naive
reference computations, and forward shape/dtype contracts under hypothesis."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench_ddif.network import (
    CoarseStyleModulation,
    FineWaveletModulation,
    NetworkConfig,
    SelfAttention,
    TimestepEncoding,
    UNetSR3,
    count_parameters,
)
from fusionbench_ddif.presets import PRESETS


@pytest.mark.parametrize(
    "preset, channels, pan_channels, expected",
    [
        ("paper", 8, 1, 10_397_208),  # WV3 (verified on the official code)
        ("paper", 4, 1, 10_250_324),  # GF2 / QB
        ("paper", 31, 3, 11_332_511),  # CAVE / Harvard (MHIF)
        ("release", 8, 1, 10_397_208),  # same network as paper
        ("release", 4, 1, 10_250_324),
        ("tiny", 8, 1, 185_864),
        ("tiny", 4, 1, 174_852),
        ("tiny", 31, 3, 256_335),
    ],
)
def test_parameter_count_per_preset(preset, channels, pan_channels, expected):
    net = UNetSR3(NetworkConfig(channels, pan_channels, **PRESETS[preset].network))
    assert count_parameters(net) == expected


def test_paper_state_dict_layout_matches_the_released_code():
    state = UNetSR3(NetworkConfig(8, 1, **PRESETS["paper"].network)).state_dict()
    assert len(state) == 702
    keys = set(state)
    for key in [
        "noise_level_mlp.1.weight",
        "noise_level_mlp.3.bias",
        "downs.0.weight",  # conv_in: 2C -> 32
        "downs.1.cond_inj.body.0.weight",
        "downs.1.cond_inj.body.1.weight",
        "downs.1.cond_inj.body.3.bias",
        "downs.1.cond_inj.x_conv.weight",
        "downs.1.res_block.noise_func.noise_func.0.weight",
        "downs.1.res_block.block1.block.0.weight",
        "downs.1.res_block.block2.block.3.weight",
        "downs.4.conv.weight",  # downsample after level 1
        "downs.13.attn.qkv.weight",  # level 4 has attention
        "mid.0.attn.norm.weight",
        "mid.1.res_block.block1.block.3.weight",
        "ups.0.cond_inj.prenorm_x.weight",
        "ups.0.cond_inj.q.0.weight",
        "ups.0.cond_inj.q.1.bias",
        "ups.0.cond_inj.kv.0.weight",
        "ups.0.cond_inj.kv.1.weight",
        "ups.0.cond_inj.attn_out.weight",
        "ups.0.cond_inj.attn_res.weight",
        "ups.0.cond_inj.ffn.0.weight",
        "ups.0.cond_inj.ffn.2.weight",
        "ups.0.cond_inj.ffn.3.bias",
        "ups.4.conv.weight",  # upsample after decoder level 4
        "final_conv.block.0.weight",
        "final_conv.block.3.weight",
    ]:
        assert key in keys, key
    assert "downs.1.attn.qkv.weight" not in keys and "mid.1.attn.qkv.weight" not in keys
    assert "downs.1.res_block.res_conv.weight" not in keys  # every ResnetBlock is o -> o
    assert "downs.1.cond_inj.body.0.bias" not in keys and "downs.13.attn.qkv.bias" not in keys  # bias-free
    assert tuple(state["downs.0.weight"].shape) == (32, 16, 3, 3)
    assert tuple(state["downs.1.cond_inj.body.0.weight"].shape) == (128, 9, 3, 3)  # C + Cp -> 4o
    assert tuple(state["ups.0.cond_inj.kv.1.weight"].shape) == (512, 11, 1, 1)  # C + 3Cp -> 2d, d = 256
    assert tuple(state["ups.3.cond_inj.attn_res.weight"].shape) == (128, 192, 1, 1)  # (128 + 64) -> 128
    assert tuple(state["final_conv.block.3.weight"].shape) == (8, 32, 3, 3)


def test_decoder_input_widths_follow_the_skip_stack():
    net = UNetSR3(NetworkConfig(8, 1, **PRESETS["paper"].network))
    decoder = [m for m in net.ups if hasattr(m, "cond_inj")]
    widths = [m.cond_inj.prenorm_x.num_channels for m in decoder]
    assert widths == [256, 256, 256, 192, 192, 128, 128, 128, 128, 128, 128, 96, 96, 64, 64, 64]


def test_timestep_encoding_is_sin_then_cos_of_the_integer_timestep():
    enc = TimestepEncoding(32)(torch.tensor([0.0, 7.0]))
    freqs = torch.exp(-math.log(1e4) * torch.arange(16) / 16)
    torch.testing.assert_close(enc[1], torch.cat([torch.sin(7 * freqs), torch.cos(7 * freqs)]))
    assert torch.equal(enc[0, :16], torch.zeros(16)) and torch.equal(enc[0, 16:], torch.ones(16))


def test_csm_starts_as_identity_modulation():
    csm = CoarseStyleModulation(6, 10, 9)
    x, cond = torch.randn(2, 6, 8, 8), torch.randn(2, 9, 16, 16)
    torch.testing.assert_close(csm(x, cond), csm.x_conv(x))


def test_fwm_equals_the_naive_quadratic_attention():
    torch.manual_seed(0)
    fwm = FineWaveletModulation(16, 8, 11, heads=4, drop_path=0.2).eval()
    x, cond = torch.randn(2, 16, 6, 10), torch.randn(2, 11, 12, 20)
    got = fwm(x, cond)
    # naive: attention matrix A = k^T q (N x N) per head, out = v A; never built by the module
    xn = fwm.prenorm_x(x)
    q = fwm.q(xn).softmax(dim=-2)
    k, v = fwm.kv(torch.nn.functional.interpolate(cond, size=(6, 10), mode="bilinear", align_corners=False)).chunk(2, 1)
    k = k.softmax(dim=-1)
    q, k, v = (t.reshape(2, 4, 4, 60) for t in (q, k, v))
    attn = torch.einsum("bhcn,bhcm->bhnm", k, q * 4**-0.5)
    out = torch.einsum("bhcn,bhnm->bhcm", v, attn).reshape(2, 16, 6, 10)
    a = fwm.attn_out(out) + fwm.attn_res(xn)
    torch.testing.assert_close(got, a + fwm.ffn(a), rtol=1e-4, atol=1e-5)


def test_self_attention_equals_the_naive_formula():
    torch.manual_seed(0)
    attn = SelfAttention(16, heads=4)
    x = torch.randn(1, 16, 3, 5)
    qkv = attn.qkv(attn.norm(x)).view(1, 4, 12, 15)
    q, k, v = qkv.chunk(3, dim=2)  # per head: [q, k, v] interleaved, as released
    weights = torch.softmax(torch.einsum("bhcn,bhcm->bhnm", q, k) / math.sqrt(16), dim=-1)
    out = torch.einsum("bhnm,bhcm->bhcn", weights, v).reshape(1, 16, 3, 5)
    torch.testing.assert_close(attn(x), x + attn.out(out), rtol=1e-4, atol=1e-5)


def test_dropout_and_drop_path_only_in_training_mode():
    torch.manual_seed(0)
    net = UNetSR3(NetworkConfig(4, 1, inner_channel=8, channel_mults=(1, 2), res_blocks=1, attn_levels=(1,), heads=4))
    x, cond, t = torch.randn(2, 4, 16, 16), torch.randn(2, 12, 16, 16), torch.tensor([3.0, 9.0])
    net.eval()
    assert torch.equal(net(x, t, cond), net(x, t, cond))
    net.train()
    assert not torch.equal(net(x, t, cond), net(x, t, cond))


@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(1, 2),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    bands=st.sampled_from([4, 8]),
    pan=st.sampled_from([1, 3]),
    double=st.booleans(),
    self_cond=st.booleans(),
)
def test_forward_shape_and_dtype(batch, h, w, bands, pan, double, self_cond):
    torch.manual_seed(0)
    config = NetworkConfig(
        bands,
        pan,
        inner_channel=8,
        channel_mults=(1, 2, 2),
        res_blocks=1,
        attn_levels=(2,),
        heads=4,
        dropout=0.0,
        drop_path=0.0,
    )
    net = UNetSR3(config).eval()
    dtype = torch.float64 if double else torch.float32
    net = net.to(dtype)
    H, W = 4 * h, 4 * w
    x = torch.randn(batch, bands, H, W, dtype=dtype)
    cond = torch.randn(batch, config.cond_channels, H, W, dtype=dtype)
    t = torch.randint(0, 500, (batch,)).to(dtype)
    with torch.no_grad():
        out = net(x, t, cond, torch.randn_like(x) if self_cond else None)
    assert out.shape == (batch, bands, H, W) and out.dtype == dtype
    assert torch.isfinite(out).all()


def test_wrong_condition_width_is_refused():
    net = UNetSR3(NetworkConfig(4, 1, inner_channel=8, channel_mults=(1, 2), res_blocks=1, attn_levels=(1,), heads=4))
    with pytest.raises(ValueError, match="condition has 5 channels, expected 12"):
        net(torch.randn(1, 4, 8, 8), torch.zeros(1), torch.randn(1, 5, 8, 8))
