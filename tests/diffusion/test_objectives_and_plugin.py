"""The training objective, and the sampler registration through the plugin registry."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from fusionbench.diffusion.objectives import diffusion_loss
from fusionbench.diffusion.samplers import DDIMSampler, DDPMSampler, DPMSolverPP2MSampler
from fusionbench.diffusion.schedules import cosine_schedule
from fusionbench.engine.planner import resolve_params
from fusionbench.lazy import build


@pytest.mark.parametrize("kind", ["x0", "eps", "v"])
def test_an_oracle_network_has_zero_loss(kind):
    sched = cosine_schedule(100)
    x0 = torch.randn(6, 2, 4, 4, dtype=torch.float64)

    def oracle(x_t, t, cond=None):
        ab = sched.alphas_cumprod[t.long()].view(-1, 1, 1, 1)
        eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        return {"x0": x0, "eps": eps, "v": ab.sqrt() * eps - (1 - ab).sqrt() * x0}[kind]

    loss = diffusion_loss(oracle, x0, sched, parameterization=kind, generator=torch.Generator().manual_seed(0))
    assert float(loss) < 1e-9


def test_timesteps_are_original_and_uniform_and_draws_are_seeded():
    sched = cosine_schedule(10).respace("ddim5")  # positions 0..4 stand for timesteps 0, 2, 4, 6, 8
    seen: list[float] = []

    def fn(x_t, t, cond=None):
        seen.extend(t.tolist())
        return torch.zeros_like(x_t)

    x0 = torch.zeros(4000, 1)
    a = diffusion_loss(fn, x0, sched, generator=torch.Generator().manual_seed(3))
    b = diffusion_loss(fn, x0, sched, generator=torch.Generator().manual_seed(3))
    assert set(seen) == {0.0, 2.0, 4.0, 6.0, 8.0}
    counts = torch.tensor([seen.count(v) for v in (0.0, 2.0, 4.0, 6.0, 8.0)], dtype=torch.float64)
    assert float(counts.min()) > 1400  # 8000 draws over 5 values: ~1600 each
    assert float(a) == float(b) == 0.0


def test_self_conditioning_feeds_a_detached_first_pass():
    sched = cosine_schedule(50)
    calls: list[object] = []
    weight = torch.nn.Parameter(torch.tensor(2.0))

    def fn(x_t, t, cond=None, self_cond=None):
        calls.append(self_cond)
        return weight * x_t

    x0 = torch.randn(3, 1, 2, 2)
    loss = diffusion_loss(fn, x0, sched, generator=torch.Generator().manual_seed(0), self_condition_prob=1.0, loss="l2")
    assert calls[0] is None and isinstance(calls[1], torch.Tensor)
    assert not calls[1].requires_grad
    loss.backward()
    assert weight.grad is not None
    calls.clear()
    diffusion_loss(fn, x0, sched, generator=torch.Generator().manual_seed(0), self_condition_prob=1e-12)
    assert calls == [None]  # the coin said no: one pass, self_cond=None


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        diffusion_loss(lambda x, t, cond=None: x, torch.zeros(1, 1), cosine_schedule(5), loss="huber")


def test_hook_module_is_import_light():
    code = "import sys, fusionbench.components.samplers, fusionbench.diffusion, fusionbench.training; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_samplers_are_registered_and_built_from_their_specs():
    from fusionbench.registry import load_registry

    registry = load_registry()
    expected = {"ddim": DDIMSampler, "ddpm": DDPMSampler, "dpmpp-2m": DPMSolverPP2MSampler}
    for name, cls in expected.items():
        spec = registry.get("sampler", name).spec
        params = resolve_params("sampler", name, spec.params, {"steps": "10"})
        sampler = build(spec, **params)
        assert isinstance(sampler, cls) and sampler.steps == 10
    ddim = build(
        registry.get("sampler", "ddim").spec,
        **resolve_params("sampler", "ddim", registry.get("sampler", "ddim").spec.params, {}),
    )
    assert (ddim.steps, ddim.eta, ddim.respacing) == (25, 0.0, "ddim")
