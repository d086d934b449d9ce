"""Timestep respacing: sample with a subset of the training timesteps (Nichol & Dhariwal 2021, improved-diffusion's ``space_timesteps``).

Two rules exist in the codebases we re-implement, both from guided/improved-diffusion:

* ``"ddimN"`` — ``{0, s, 2s, …}`` with the *smallest* integer stride ``s`` giving exactly N
  elements (1000 → ddim10: 0, 100, …, 900; 500 → ddim25: 0, 20, …, 480). Note it never includes
  T-1: sampling starts at a slightly less noisy step than training's last one.
* ``"N"`` (or an int), and ``"N1,N2,…"`` — the range is cut into equal sections and Nk points are
  spread over section k with rounding, ends included (T=1000, "100": 0, 10, 20, 30, 40, 50, 61, …,
  989, 999).

The respaced ᾱ are the original ᾱ at the kept timesteps; the β of each kept step follows as
``1 - ᾱ_k / ᾱ_prev``. Which timestep value the *network* receives is a separate choice
(``Denoiser.time_input``), because DDIF and SSDiff feed the respaced position by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence

from .schedules import NoiseSchedule

RESPACING_RULES = ("ddim", "even")


def space_timesteps(num_timesteps: int, spec: str | int | Sequence[int]) -> list[int]:
    """Sorted original timesteps (indices into a T-step schedule) that a respacing keeps."""
    if num_timesteps < 1:
        raise ValueError("num_timesteps must be positive")
    if isinstance(spec, str) and spec.startswith("ddim"):
        return _ddim_stride(num_timesteps, _positive_int(spec[len("ddim") :], spec))
    if isinstance(spec, int):
        return _sections(num_timesteps, [spec])
    if isinstance(spec, str):
        return _sections(num_timesteps, [_positive_int(part, spec) for part in spec.split(",")])
    kept = sorted({int(t) for t in spec})
    if not kept or kept[0] < 0 or kept[-1] >= num_timesteps:
        raise ValueError(f"explicit timesteps must be a non-empty subset of 0..{num_timesteps - 1}")
    return kept


def respacing_spec(rule: str, steps: int) -> str:
    """The respacing string for a sampler's ``respacing`` rule and step count."""
    if rule == "ddim":
        return f"ddim{steps}"
    if rule == "even":
        return str(steps)
    raise ValueError(f"unknown respacing rule {rule!r}; known: {', '.join(RESPACING_RULES)}")


def respace(schedule: NoiseSchedule, spec: str | int | Sequence[int]) -> NoiseSchedule:
    """Keep a subset of ``schedule``'s positions; timesteps stay the original training ones.

    Respacing an already respaced schedule selects among its positions, so the rule is always
    applied to the schedule at hand (a 25-step schedule respaced with "ddim25" is unchanged).
    """
    positions = space_timesteps(len(schedule), spec)
    return NoiseSchedule(
        alphas_cumprod=schedule.alphas_cumprod[positions].clone(),
        timesteps=schedule.timesteps[positions].clone(),
        num_train_timesteps=schedule.num_train_timesteps,
        name=f"{schedule.name}/{spec if isinstance(spec, (str, int)) else 'custom'}",
    )


def ddim_feasible_counts(num_timesteps: int) -> list[int]:
    """Every step count the ``"ddim"`` rule can keep from ``num_timesteps``: ``ceil(T / s)`` for
    the integer strides s. Dense for small counts, sparse for large ones (T = 500: … 24, 25, 27,
    28, 30, 32, 34, …, 100, 125, 167, 250, 500)."""
    return sorted({-(-num_timesteps // stride) for stride in range(1, num_timesteps + 1)})


def _ddim_stride(num_timesteps: int, count: int) -> list[int]:
    """``{0, s, 2s, …}`` with exactly ``count`` elements; when no stride gives that count, the
    error names the nearest counts that work and the even rule, which keeps any count."""
    if count > num_timesteps:
        raise ValueError(f"cannot keep {count} of {num_timesteps} timesteps (ddim{count}): at most {num_timesteps}")
    for stride in range(1, num_timesteps + 1):
        kept = list(range(0, num_timesteps, stride))
        if len(kept) == count:
            return kept
    feasible = ddim_feasible_counts(num_timesteps)
    below = max(c for c in feasible if c < count)  # 1 is always feasible
    above = min(c for c in feasible if c > count)  # so is num_timesteps
    raise ValueError(
        f"cannot keep exactly {count} of {num_timesteps} timesteps with an integer stride (ddim{count}); "
        f"the nearest step counts that work are {below} and {above}, or use respacing=even, which keeps "
        f"any count up to {num_timesteps} (e.g. -s 'ddim[steps={count},respacing=even]')"
    )


def _sections(num_timesteps: int, counts: list[int]) -> list[int]:
    size_per, extra = divmod(num_timesteps, len(counts))
    start, kept = 0, []
    for i, count in enumerate(counts):
        size = size_per + (1 if i < extra else 0)
        if count > size:
            raise ValueError(f"cannot keep {count} timesteps from a section of {size}")
        stride = 1.0 if count <= 1 else (size - 1) / (count - 1)
        position = 0.0
        for _ in range(count):
            kept.append(start + round(position))
            position += stride
        start += size
    return sorted(set(kept))


def _positive_int(text: str, spec: object) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"bad respacing {spec!r}: expected 'ddimN', 'N' or 'N1,N2,...'") from None
    if value < 1:
        raise ValueError(f"bad respacing {spec!r}: counts must be positive")
    return value
