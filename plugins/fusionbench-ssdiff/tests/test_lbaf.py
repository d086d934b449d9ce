"""L-BAF freezes what it claims: gradients reach only the active branch's low-rank adapters,
the frozen branch (weights and BatchNorm statistics) is bit-for-bit unchanged, and merging
leaves a plain SSNet with the same parameter count whose weights moved by a rank-≤r delta."""

from __future__ import annotations

import pytest
import torch

from fusionbench_ssdiff.lbaf import BranchTuning, LBAFConfig, adaptable_modules, adapter_parameters
from fusionbench_ssdiff.network import NetworkConfig, SSNet
from fusionbench_ssdiff.presets import TINY_NETWORK, TINY_TRAINING
from fusionbench_ssdiff.train import stage_configs

RANK = 2


def make_net() -> SSNet:
    torch.manual_seed(0)
    net = SSNet(NetworkConfig(channels=4, **TINY_NETWORK))
    with torch.no_grad():  # leave the zero-initialised convolutions: every path must carry signal
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net


def inputs(batch: int = 2, size: int = 16) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(1)
    lms = torch.rand(batch, 4, size, size, generator=g)
    pan = torch.rand(batch, 1, size, size, generator=g)
    ms = torch.rand(batch, 4, size // 4, size // 4, generator=g)
    x_t = torch.randn(batch, 4, size, size, generator=g)
    return lms, pan, ms, x_t, torch.tensor([10.0, 700.0][:batch])


def test_branch_partition_is_the_documented_one():
    net = make_net()
    branches = {name: net.branch_of(name) for name, _ in net.named_parameters()}
    assert set(branches.values()) == {"spatial", "spectral", "shared"}
    assert branches["resblock2.conv0.weight"] == branches["conv_pan2x_t.weight"] == "spatial"
    assert branches["fusformer1.layers.0.0.fn.fn.sa2.weight"] == "spatial"
    assert branches["fusformer1.layers.0.0.fn.fn.se1.weight"] == branches["to_hrms.2.weight"] == "spectral"
    assert branches["upsample.upsamle.0.weight"] == branches["fusformer0.layers.0.1.fn.fn.net.0.weight"] == "spectral"
    assert branches["down0.conv.0.weight"] == branches["time_embed.0.weight"] == "shared"
    assert branches["fusformer0.layers.0.0.fn.norm.weight"] == "shared"  # one LayerNorm for both streams


@pytest.mark.parametrize("branch", ["spatial", "spectral"])
def test_only_the_active_branch_adapters_get_gradients(branch):
    net = make_net().eval()
    with torch.no_grad():
        reference = net(*inputs())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    n_before = sum(p.numel() for p in net.parameters())
    tuning = BranchTuning(net, branch, rank=RANK)
    adapters = adapter_parameters(net)
    assert adapters and len(adapters) == 2 * len(tuning.adapted)
    with torch.no_grad():  # zero-initialised U: attaching adapters changes nothing
        torch.testing.assert_close(tuning(*inputs()), reference, rtol=0, atol=0)

    tuning.train()
    tuning(*inputs()).abs().mean().backward()
    for name, p in net.named_parameters():
        if name in adapters:
            assert p.requires_grad
        else:
            assert not p.requires_grad and p.grad is None, name
    ups = [p for name, p in adapters.items() if name.endswith(".up")]
    assert all(p.grad is not None for p in adapters.values())
    assert sum(float(p.grad.abs().sum()) for p in ups) > 0  # U gets signal at once (D after U moves)

    optimizer = torch.optim.AdamW(list(adapters.values()), lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        tuning(*inputs()).abs().mean().backward()
        optimizer.step()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in adapters.values())

    merged = tuning.finish()
    after = merged.state_dict()
    assert set(after) == set(before)  # plain SSNet keys again, nothing added
    assert sum(p.numel() for p in merged.parameters()) == n_before  # "without increasing parameters"
    adapted = {f"{name}.weight" for name, _ in adaptable_modules(merged, branch)}
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    active_bn, frozen_bn = (
        ("out_layers_pan.0", "out_layers_lms.0") if branch == "spatial" else ("out_layers_lms.0", "out_layers_pan.0")
    )
    # besides adapted weights only the active branch's BatchNorm statistics may move
    assert changed - adapted <= {f"{active_bn}.{s}" for s in ("running_mean", "running_var", "num_batches_tracked")}
    assert not any(k.startswith(frozen_bn) for k in changed)
    assert changed & adapted
    for key in changed & adapted:  # weights moved by a low-rank delta
        delta = (after[key] - before[key]).reshape(after[key].shape[0], -1).double()
        assert torch.linalg.matrix_rank(delta, rtol=1e-6) <= RANK
    assert all(p.requires_grad for p in merged.parameters())


def test_merged_network_computes_what_the_adapted_one_did():
    net = make_net()
    tuning = BranchTuning(net, "spectral", rank=RANK)
    with torch.no_grad():
        for p in adapter_parameters(net).values():
            p.add_(0.1 * torch.randn_like(p))
    tuning.eval()
    with torch.no_grad():
        adapted = tuning(*inputs())
        merged = tuning.finish()(*inputs())
    torch.testing.assert_close(merged, adapted, atol=1e-5, rtol=1e-5)


def test_detach_switches_the_apfm_stop_gradients_for_the_stage():
    net = make_net()
    tuning = BranchTuning(net, "spatial", rank=RANK, detach=True)
    assert {net.get_submodule(f"fusformer{i}").detach for i in range(5)} == {"spectral"}
    tuning.finish()
    assert {net.get_submodule(f"fusformer{i}").detach for i in range(5)} == {None}


def test_adapters_cannot_be_stacked():
    net = make_net()
    BranchTuning(net, "spatial", rank=RANK)
    with pytest.raises(RuntimeError, match="merge them first"):
        BranchTuning(net, "spectral", rank=RANK)


def test_schedule_alternates_after_joint_training():
    lbaf = LBAFConfig(
        order=("spatial", "spectral"), rounds=2, iterations=7, rank=4, lr=5e-4, batch_size=3, ema_decay=0.9, ema_start=2
    )
    stages = stage_configs(TINY_TRAINING, lbaf)
    assert [b for b, _ in stages] == ["joint", "spatial", "spectral", "spatial", "spectral"]
    assert stages[0][1] == TINY_TRAINING
    assert {(c.iterations, c.lr, c.batch_size, c.ema_decay, c.lr_milestones) for _, c in stages[1:]} == {
        (7, 5e-4, 3, 0.9, ())
    }
    assert len({c.seed for _, c in stages}) == len(stages)
    assert stage_configs(TINY_TRAINING, None) == [("joint", TINY_TRAINING)]
    with pytest.raises(ValueError, match="order"):
        LBAFConfig(order=("pan",))


def test_a_training_stage_moves_only_its_branch(tmp_path):
    """The real recipe (``train_ssnet``: Trainer, AdamW, EMA, checkpoints, merge): after a
    spatial L-BAF stage every spectral and shared tensor equals the joint stage's result bit
    for bit, BatchNorm statistics included, and the spatial weights moved by rank-≤ r deltas."""
    from fusionbench.diffusion.schedules import cosine_schedule
    from fusionbench.training.checkpoint import load_checkpoint
    from fusionbench_ssdiff.train import train_ssnet

    g = torch.Generator().manual_seed(3)
    gt = torch.rand(6, 4, 16, 16, generator=g)
    data = {
        "gt": gt,
        "lms": gt + 0.05 * torch.randn(6, 4, 16, 16, generator=g),
        "pan": gt.mean(1, keepdim=True),
        "ms": gt[..., ::4, ::4],
    }
    joint = TINY_TRAINING.with_overrides(iterations=2, lr_milestones=(), ema_start=0, log_every=1)
    lbaf = LBAFConfig(order=("spatial",), iterations=3, rank=RANK, lr=1e-2, batch_size=4, ema_decay=0.5)
    net, result = train_ssnet(
        make_net(),
        data,
        cosine_schedule(1000),
        joint=joint,
        lbaf=lbaf,
        crop=None,
        augment=False,
        loss="l1",
        output_dir=tmp_path,
        device="cpu",
        model_config={"name": "ssdiff"},
    )
    assert result.steps == 5
    before, _ = load_checkpoint(tmp_path / "stages" / "00-joint", prefer="ema")
    after = net.state_dict()
    assert set(after) == set(before)
    moved = {k for k in after if not torch.equal(after[k], before[k])}
    spatial_weights = {f"{name}.weight" for name, _ in adaptable_modules(net, "spatial")}
    bn_stats = {f"out_layers_pan.0.{s}" for s in ("running_mean", "running_var", "num_batches_tracked")}
    assert moved and moved <= spatial_weights | bn_stats  # nothing spectral or shared moved
    assert moved & spatial_weights
    for key in moved & spatial_weights:
        delta = (after[key] - before[key]).reshape(after[key].shape[0], -1).double()
        assert torch.linalg.matrix_rank(delta, rtol=1e-6) <= RANK
    merged, _ = load_checkpoint(tmp_path)  # what inference loads is the merged network
    assert all(torch.equal(merged[k], after[k]) for k in after)
