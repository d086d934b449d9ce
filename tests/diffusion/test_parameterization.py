"""ε / x0 / v conversions are exact inverses of each other (property test)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.diffusion.parameterization import (
    PARAMETERIZATIONS,
    eps_from_v,
    to_x0_eps,
    training_target,
    v_from_x0_eps,
    x0_from_v,
)


@settings(max_examples=40, deadline=None)
@given(
    alpha_bar=st.floats(1e-4, 0.9999),
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(PARAMETERIZATIONS),
)
def test_every_parameterisation_recovers_x0_and_eps(alpha_bar, seed, kind):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64)
    eps = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64)
    x_t = math.sqrt(alpha_bar) * x0 + math.sqrt(1 - alpha_bar) * eps
    output = training_target(kind, x0, eps, alpha_bar)
    got_x0, got_eps = to_x0_eps(kind, x_t, output, alpha_bar)
    torch.testing.assert_close(got_x0, x0, rtol=1e-7, atol=1e-7 / math.sqrt(alpha_bar))
    torch.testing.assert_close(got_eps, eps, rtol=1e-7, atol=1e-7 / math.sqrt(1 - alpha_bar))


def test_v_identities_and_tensor_alpha_bar():
    ab = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64).view(3, 1)
    x0 = torch.randn(3, 5, dtype=torch.float64)
    eps = torch.randn(3, 5, dtype=torch.float64)
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    v = v_from_x0_eps(x0, eps, ab)
    torch.testing.assert_close(x0_from_v(x_t, v, ab), x0)
    torch.testing.assert_close(eps_from_v(x_t, v, ab), eps)
    # v = d x_t / d phi with alpha = cos phi, sigma = sin phi: |v|^2 + |x_t|^2 = |x0|^2 + |eps|^2 per element
    torch.testing.assert_close(v**2 + x_t**2, x0**2 + eps**2)


def test_unknown_parameterisation():
    with pytest.raises(ValueError, match="unknown parameterisation"):
        to_x0_eps("score", torch.zeros(1), torch.zeros(1), 0.5)
