"""Respacing index sets: the examples of improved-diffusion's space_timesteps docstring, and properties of both rules."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench.diffusion.respacing import ddim_feasible_counts, respace, respacing_spec, space_timesteps
from fusionbench.diffusion.schedules import cosine_schedule, linear_schedule


def test_spec_examples_ddim_rule():
    assert space_timesteps(1000, "ddim10") == list(range(0, 1000, 100))
    assert space_timesteps(500, "ddim25") == list(range(0, 500, 20))
    assert space_timesteps(25, "ddim25") == list(range(25))


def test_spec_example_even_rule():
    kept = space_timesteps(1000, "100")
    assert len(kept) == 100
    assert kept[:8] == [0, 10, 20, 30, 40, 50, 61, 71]
    assert kept[-3:] == [979, 989, 999]
    assert space_timesteps(1000, 100) == kept


def test_sections_and_explicit_lists():
    kept = space_timesteps(100, "2,3")
    assert kept == [0, 49, 50, 74, 99]
    assert space_timesteps(10, [7, 2, 2]) == [2, 7]


def test_impossible_requests_fail_with_a_message():
    with pytest.raises(ValueError, match="integer stride"):
        space_timesteps(10, "ddim6")
    with pytest.raises(ValueError, match="at most 500"):
        space_timesteps(500, "ddim600")
    with pytest.raises(ValueError, match="cannot keep 20"):
        space_timesteps(10, "20")
    with pytest.raises(ValueError, match="bad respacing"):
        space_timesteps(10, "ddimx")
    with pytest.raises(ValueError, match="unknown respacing rule"):
        respacing_spec("karras", 10)


def test_infeasible_ddim_count_names_the_nearest_feasible_counts_and_the_even_rule():
    """DDIF's T = 500: 26 steps has no integer stride (25 -> stride 20, 27 -> stride 19)."""
    assert ddim_feasible_counts(500)[23:29] == [24, 25, 27, 28, 30, 32]
    with pytest.raises(
        ValueError, match=r"ddim26\); the nearest step counts that work are 25 and 27, or use respacing=even"
    ):
        space_timesteps(500, "ddim26")
    assert len(space_timesteps(500, "26")) == 26  # what the advice leads to


@settings(max_examples=60, deadline=None)
@given(T=st.integers(2, 500), count=st.integers(1, 500))
def test_ddim_feasible_counts_are_exactly_the_counts_the_rule_keeps(T, count):
    feasible = count in ddim_feasible_counts(T)
    try:
        assert len(space_timesteps(T, f"ddim{count}")) == count and feasible
    except ValueError as exc:
        assert not feasible
        if count <= T:  # the two suggestions are feasible and bracket the request
            below, above = (int(x) for x in str(exc).split("work are ")[1].split(", or")[0].split(" and "))
            assert below < count < above and {below, above} <= set(ddim_feasible_counts(T))


@settings(max_examples=60, deadline=None)
@given(T=st.integers(2, 2000), data=st.data())
def test_even_rule_keeps_n_distinct_points_with_both_ends(T, data):
    n = data.draw(st.integers(2, min(T, 300)))
    kept = space_timesteps(T, str(n))
    assert len(kept) == n
    assert kept == sorted(set(kept))
    assert kept[0] == 0 and kept[-1] == T - 1


@settings(max_examples=60, deadline=None)
@given(T=st.integers(1, 2000), stride=st.integers(1, 50))
def test_ddim_rule_is_a_stride_from_zero(T, stride):
    count = len(range(0, T, stride))
    kept = space_timesteps(T, f"ddim{count}")
    assert len(kept) == count and kept[0] == 0
    assert len({b - a for a, b in zip(kept, kept[1:])}) <= 1  # one constant stride


@pytest.mark.parametrize("make", [cosine_schedule, linear_schedule])
def test_respaced_betas_reproduce_the_kept_alpha_bars(make):
    sched = make(1000)
    small = respace(sched, "ddim10")
    assert small.timesteps.tolist() == list(range(0, 1000, 100))
    torch.testing.assert_close(small.alphas_cumprod, sched.alphas_cumprod[small.timesteps])
    # beta_k = 1 - abar_k / abar_prev, and cumprod(1 - beta) gives the kept abar back
    torch.testing.assert_close(torch.cumprod(1 - small.betas, 0), small.alphas_cumprod)
    assert float(small.betas[0]) == pytest.approx(1 - sched.alpha_bar(0))
    assert small.num_train_timesteps == 1000
