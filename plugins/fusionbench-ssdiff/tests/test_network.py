"""SSNet: exact parameter count (with the arithmetic from the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main) written out), released
state-dict names, shape/dtype contracts, FMIM and APFM behaviour."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench_ssdiff.apfm import APFM
from fusionbench_ssdiff.network import NetworkConfig, SSNet, fourier_lowpass_scale, scale_first_half, timestep_embedding
from fusionbench_ssdiff.presets import PAPER_NETWORK, TINY_NETWORK


def conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def linear(cin: int, cout: int, bias: bool = True) -> int:
    return cin * cout + (cout if bias else 0)


def paper_count(c: int, keep_unused: bool = True) -> int:
    """SSNet(d=32) parameters for C bands, module by module (the SSDiff paper (Zhong et al., NeurIPS 2024; arXiv 2404.11537) and its released code (Z-ypnos/SSdiff_main))."""
    d, emb = 32, 512
    widths = (d, 2 * d, 4 * d, 2 * d, d)
    time_embed = linear(128, emb) + linear(emb, emb)  # 328,704
    upsampler = conv(c, 16 * c, 3, bias=False)  # Conv3×3(C→16C) + PixelShuffle(4)
    to_hrms = conv(d, d, 3) + conv(d, c, 3)
    heads = 2 * (linear(emb, d) + 2 * d + conv(d, d, 3))  # emb linear, BatchNorm affine, zero conv (×2 branches)
    stems = conv(2 * c, d, 3) + conv(c + 1, d, 3)  # [LMS, x_t] and [PAN, x_t]

    def apfm(w: int) -> int:  # LN + sa1, sa2, se1, se2 (no bias) + to_out + LN2 + FFN(w→w/2→w)
        return 2 * w + 4 * linear(w, w, bias=False) + linear(w, w) + 2 * w + linear(w, w // 2) + linear(w // 2, w)

    def resblock(w: int) -> int:  # conv0, conv1, emb linear, GroupNorm, zero conv
        return conv(w, w // 2, 3) + conv(w // 2, w, 3) + linear(emb, w) + 2 * w + conv(w, w, 3)

    def down(i: int, o: int) -> int:  # Conv2×2/2 (i→i), Conv1×1 (i→o), depthwise 3×3 (o)
        return conv(i, i, 2) + conv(i, o, 1) + (9 * o + o)

    def up(i: int, o: int) -> int:  # ConvTranspose2×2/2 (i→o), Conv3×3 (o→o)
        return conv(i, o, 2) + conv(o, o, 3)

    used = (
        time_embed
        + upsampler
        + to_hrms
        + heads
        + stems
        + sum(apfm(w) for w in widths)
        + sum(resblock(w) for w in widths[:4])
        + down(32, 64)
        + down(64, 128)
        + up(128, 64)
        + up(64, 32)
    )
    unused = (
        2 * conv(d, d, 3)  # raise_ms_dim, raise_pan_dim
        + conv(c, d, 3)  # conv_x_t
        + sum(conv(i, o, 1) + 9 * o + o for i, o in ((32, 64), (64, 128)))  # Down.maxpool_conv
        + sum(conv(i, i, 2) + conv(i, o, 1) + 9 * o + o for i, o in ((128, 64), (64, 32)))  # Up.up0
    )
    assert unused == (126_592 if c == 8 else unused)
    return used + (unused if keep_unused else 0)


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("bands, expected", [(8, 1_426_616), (4, 1_413_940)])
def test_paper_parameter_count_is_exact(bands, expected):
    net = SSNet(NetworkConfig(channels=bands, **PAPER_NETWORK))
    assert paper_count(bands) == expected
    assert n_params(net) == expected


def test_used_parameters_without_the_released_dead_modules():
    config = {**PAPER_NETWORK, "keep_unused": False}
    assert n_params(SSNet(NetworkConfig(channels=8, **config))) == paper_count(8, keep_unused=False) == 1_300_024


def test_state_dict_uses_the_released_names():
    keys = set(SSNet(NetworkConfig(channels=8, **PAPER_NETWORK)).state_dict())
    expected = {
        "upsample.upsamle.0.weight",
        "raise_ms_dim.0.weight",
        "raise_pan_dim.0.weight",
        "to_hrms.2.bias",
        "time_embed.2.weight",
        "conv_lms2x_t.weight",
        "conv_pan2x_t.weight",
        "conv_x_t.weight",
        "fusformer4.layers.0.0.fn.norm.weight",
        "fusformer0.layers.0.0.fn.fn.sa1.weight",
        "fusformer2.layers.0.0.fn.fn.se2.weight",
        "fusformer1.layers.0.0.fn.fn.to_out.0.bias",
        "fusformer3.layers.0.1.fn.norm.bias",
        "fusformer3.layers.0.1.fn.fn.net.3.weight",
        "down1.maxpool_conv.2.weight",
        "down0.conv.3.bias",
        "up1.up0.3.weight",
        "up0.up1.0.weight",
        "up1.conv.bias",
        "resblock3.emb_layers.1.weight",
        "resblock2.out_layers.3.weight",
        "resblock0.out_layers.0.bias",
        "out_layers_pan.0.running_var",
        "out_layers_lms.3.weight",
        "emb_layers_lms.1.bias",
    }
    assert expected <= keys
    assert len(keys) == 187


def test_branch_heads_start_from_zero_features():
    """The zero convolutions closing both heads and every ResBlock start at zero (released init)."""
    net = SSNet(NetworkConfig(channels=4, **TINY_NETWORK))
    for name in ("out_layers_pan.3", "out_layers_lms.3", "resblock1.out_layers.3"):
        module = net.get_submodule(name)
        assert not module.weight.any() and not module.bias.any()


@settings(max_examples=8, deadline=None)
@given(
    bands=st.sampled_from([4, 8]),
    batch=st.integers(1, 2),
    height=st.sampled_from([8, 16, 24]),
    width=st.sampled_from([8, 16, 32]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_output_shape_and_dtype(bands, batch, height, width, dtype):
    net = SSNet(NetworkConfig(channels=bands, **TINY_NETWORK)).to(dtype).eval()
    lms = torch.rand(batch, bands, height, width, dtype=dtype)
    pan = torch.rand(batch, 1, height, width, dtype=dtype)
    ms = torch.rand(batch, bands, height // 4, width // 4, dtype=dtype)
    t = torch.full((batch,), 500.0, dtype=dtype)
    with torch.no_grad():
        out = net(lms, pan, ms, torch.randn_like(lms), t)
    assert out.shape == lms.shape and out.dtype == dtype and bool(torch.isfinite(out).all())


def test_bad_inputs_are_refused_with_a_clear_message():
    net = SSNet(NetworkConfig(channels=4, **TINY_NETWORK))
    lms, pan, ms, t = torch.zeros(1, 4, 16, 16), torch.zeros(1, 1, 16, 16), torch.zeros(1, 4, 4, 4), torch.zeros(1)
    with pytest.raises(ValueError, match="must be \\(B, 4, H, W\\)"):
        net(torch.zeros(1, 8, 16, 16), pan, ms, torch.zeros(1, 8, 16, 16), t)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(lms[..., :14, :14], pan[..., :14, :14], ms, lms[..., :14, :14], t)
    with pytest.raises(ValueError, match="pan"):
        net(lms, torch.zeros(1, 2, 16, 16), ms, lms, t)
    with pytest.raises(ValueError, match="multiple of dim_head"):
        NetworkConfig(channels=4, dim=24, dim_head=16)


def test_time_encoding_is_cos_then_sin():
    e = timestep_embedding(torch.tensor([0.0, 900.0]), 128)
    assert torch.equal(e[0, :64], torch.ones(64)) and torch.equal(e[0, 64:], torch.zeros(64))
    torch.testing.assert_close(e[1, 0], torch.cos(torch.tensor(900.0)))
    torch.testing.assert_close(e[1, 64], torch.sin(torch.tensor(900.0)))


def test_fmim_scales_the_lowest_frequencies_and_the_first_half_of_the_channels():
    x = torch.randn(2, 4, 16, 16)
    torch.testing.assert_close(fourier_lowpass_scale(x, 1.0), x, atol=1e-5, rtol=0)
    filtered = fourier_lowpass_scale(x, 0.3)
    torch.testing.assert_close(filtered.mean(dim=(-2, -1)), 0.3 * x.mean(dim=(-2, -1)), atol=1e-5, rtol=0)  # DC × c
    i = torch.arange(16.0)
    high = torch.cos(2 * torch.pi * 4 * i / 16)[:, None] * torch.cos(2 * torch.pi * 3 * i / 16)[None, :]
    torch.testing.assert_close(fourier_lowpass_scale(high[None, None], 0.3)[0, 0], high, atol=1e-5, rtol=0)  # passes
    scaled = scale_first_half(x, 1.4)
    torch.testing.assert_close(scaled[:, :2], 1.4 * x[:, :2])
    assert torch.equal(scaled[:, 2:], x[:, 2:])


def test_apfm_stop_gradient_modes():
    block = APFM(16, 2, 8, 8)
    for mode, blocked, open_ in (("spectral", 0, 1), ("spatial", 1, 0), (None, None, None)):
        spectral = torch.randn(1, 16, 4, 4, requires_grad=True)
        spatial = torch.randn(1, 16, 4, 4, requires_grad=True)
        block.detach = mode
        block(spectral, spatial).square().sum().backward()
        grads = (spectral.grad, spatial.grad)
        if mode is None:
            assert all(g is not None and g.abs().sum() > 0 for g in grads)
        else:
            assert grads[blocked] is None or not grads[blocked].any()
            assert grads[open_] is not None and grads[open_].abs().sum() > 0


def test_apfm_commutes_with_periodic_repetition():
    """On an image repeated 2×2 the spatial softmax sees every key four times with equal logits
    and the spectral map averages over tokens (÷ n), so APFM(repeat(x)) = repeat(APFM(x)).
    Without the code's 1/n factor the channel map would sharpen with the token count."""
    block = APFM(16, 2, 8, 8).eval()
    spectral, spatial = torch.randn(1, 16, 4, 4), torch.randn(1, 16, 4, 4)
    with torch.no_grad():
        small = block(spectral, spatial)
        big = block(spectral.repeat(1, 1, 2, 2), spatial.repeat(1, 1, 2, 2))
    torch.testing.assert_close(big, small.repeat(1, 1, 2, 2), atol=1e-5, rtol=1e-5)
