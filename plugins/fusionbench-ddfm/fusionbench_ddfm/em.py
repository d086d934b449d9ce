"""DDFM's likelihood rectification: one EM iteration of a hierarchical Bayesian model (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM)).

With sources I (infrared / functional) and V (visible / MRI), Y = I − V, the model's variable is
a difference image X whose meaning depends on the variant. Per diffusion step, the prior's
estimate f̃ (luma of x̂0, in [−1, 1]) is turned into a rectified f̂:

* **E-step** — inverse-Gaussian posterior means of the Laplace scale mixtures,
  C = sqrt(2/τ_a)/|r_C| (data term) and D = sqrt(2/τ_b)/|r_D| (prior term), D capped at 2C,
  then the closed-form updates τ ← mean(E[latent variance]) = mean(1/C + τ/2) (same for D, τ_b);
* **M-step** — half-quadratic splitting of the gradient penalty: a k-step solved by FFT
  (periodic boundary), a u-step in closed form, and the pixel-wise x-step
  X = (2C·Y + ρ·k̃) / (2C + 2D + ρ).

The state (τ_a, τ_b, k, u) is carried across diffusion steps, initialised once (τ = 1, k = u = 0).

Variants (``EM_VARIANTS``; all model L1 terms on i − f and f − v and a gradient penalty on f − v):

=================  ==========  =================  ===========  =====  ======================  ================
variant            X           k-step input z     k̃ in x-step  F      M-iterations / ρ        u-step difference
=================  ==========  =================  ===========  =====  ======================  ================
``paper``          I − f̃       Y − X              Y − k        I − X  5, ρ = (C + D)/2        consistent
``presubmission``  I − f̃       Y − X              Y − k        I − X  5, ρ = (C + D)/2        released
``fv``             f̃ − V       X                  k            X + V  1, fixed ρ              consistent
``released``       f̃ − V       Y − X              Y − k        I − X  1, fixed ρ              released
=================  ==========  =================  ===========  =====  ======================  ================

``presubmission`` is ``bf_onestep`` as the spec reconstructs it from bytecode (the code that most
likely produced the paper's tables); ``paper`` is the same structure with the gradient operator
of the u-step consistent with the FFT operator and symmetric E-step regularisation — the default.
``fv`` is ``bf_onestep_fv`` (x = f − v, f̂ = x̂ + v). ``released`` is ``EM_onestep`` as shipped: it
defines X as ``fv`` but recovers F as the ``bf`` family does, which reflects f̃ about the sources'
midpoint (f̂ ≈ I + V − f̃). With τ learnt and carried across steps, ``fv`` drifts onto the source
the estimate leans to (a → a²/(a² + (1 − a)²) per step at ρ → 0); see docs/ddfm.md.

Every tensor is (B, 1, H, W); hyper-parameters are per image (B, 1, 1, 1), so batching never
changes a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

E_EPS = 1e-6  # regulariser of the residuals in the E-step (code constant)
TAU_EPS = 1e-10  # regulariser of 1/C and 1/D in the hyper-parameter update (code constant)
PRESUBMISSION_ITERATIONS = 5

Difference = Callable[[torch.Tensor, int], torch.Tensor]


# -- operators -----------------------------------------------------------------------------------
def difference_otfs(
    height: int, width: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """OTFs of the horizontal kernel [1, −1] and the vertical kernel [1; −1], MATLAB ``psf2otf``
    style (zero-pad, circularly shift the kernel centre to the origin, FFT2). Applied to an image
    they give the circular forward difference k[j+1] − k[j] (see :func:`forward_difference`)."""
    h1 = torch.zeros(height, width, dtype=dtype, device=device)
    h1[0, 0], h1[0, -1] = -1.0, 1.0
    h2 = torch.zeros(height, width, dtype=dtype, device=device)
    h2[0, 0], h2[-1, 0] = -1.0, 1.0
    return torch.fft.fft2(h1), torch.fft.fft2(h2)


def forward_difference(k: torch.Tensor, axis: int) -> torch.Tensor:
    """Circular forward difference along the last (axis=-1, horizontal) or second-last axis;
    exactly the operator of :func:`difference_otfs`."""
    return torch.roll(k, shifts=-1, dims=axis) - k


def released_difference(k: torch.Tensor, axis: int) -> torch.Tensor:
    """The released code's u-step difference: a[j] = k[j] − k[j+1] for j < N−1, a[N−1] = k[N−1]
    (sign flipped and a non-periodic last entry compared with the FFT operator)."""
    out = k.clone()
    n = k.shape[axis]
    head = k.narrow(axis, 0, n - 1) - k.narrow(axis, 1, n - 1)
    out.narrow(axis, 0, n - 1).copy_(head)
    return out


# -- closed-form pieces --------------------------------------------------------------------------
def k_step(z: torch.Tensor, u1: torch.Tensor, u2: torch.Tensor, otf1: torch.Tensor, otf2: torch.Tensor) -> torch.Tensor:
    """argmin_k ‖k − z‖² + ‖∇₁k − u1‖² + ‖∇₂k − u2‖² with periodic boundary, solved in Fourier:
    k = Re IFFT2[(Z + conj(K1)·U1 + conj(K2)·U2) / (1 + |K1|² + |K2|²)]."""
    numerator = torch.fft.fft2(z) + otf1.conj() * torch.fft.fft2(u1) + otf2.conj() * torch.fft.fft2(u2)
    denominator = 1.0 + otf1.abs() ** 2 + otf2.abs() ** 2
    return torch.fft.ifft2(numerator / denominator).real


def u_step(
    k: torch.Tensor, lamb: float, rho: torch.Tensor | float, difference: Difference
) -> tuple[torch.Tensor, torch.Tensor]:
    """argmin_u λ‖u‖² + (ρ/2)‖u − ∇k‖² = ρ/(2λ + ρ) · ∇k, for both directions."""
    factor = rho / (2.0 * lamb + rho)
    return factor * difference(k, -1), factor * difference(k, -2)


def e_step_weights(
    r_c: torch.Tensor, r_d: torch.Tensor, tau_a: torch.Tensor, tau_b: torch.Tensor, symmetric: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means of the inverse latent variances: C = sqrt(2/τ_a)/|r_C|, D = sqrt(2/τ_b)/|r_D|,
    regularised, with D capped at 2C pixel-wise.

    ``symmetric=True`` regularises both as r² + 1e-6. ``False`` is the released code's E-step
    (``EM_onestep.py`` of MMIF-DDFM; its pre-release ``bf_onestep`` variants share the E-step
    code): D as r_D² + 1e-6 but C, the data term on r_C = Y − X, as (r_C + 1e-6)², which is
    singular at r_C = −1e-6 and makes C 1000 times the symmetric value where r_C = 0.
    """
    c_den = r_c**2 + E_EPS if symmetric else (r_c + E_EPS) ** 2
    c = torch.sqrt(2.0 / tau_a / c_den)
    d = torch.sqrt(2.0 / tau_b / (r_d**2 + E_EPS))
    return c, torch.minimum(d, 2.0 * c)


def update_taus(
    c: torch.Tensor, d: torch.Tensor, tau_a: torch.Tensor, tau_b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form M-step of the Exponential hyper-parameters, τ = 2/γ: τ ← mean(E[m]) with
    E[m] = 1/E[1/m] + τ/2 per pixel (inverse-Gaussian posterior)."""
    dims = (-3, -2, -1)
    new_a = (1.0 / (c + TAU_EPS) + tau_a / 2.0).mean(dim=dims, keepdim=True)
    new_b = (1.0 / (d + TAU_EPS) + tau_b / 2.0).mean(dim=dims, keepdim=True)
    return new_a, new_b


def x_step(
    c: torch.Tensor, d: torch.Tensor, y: torch.Tensor, k_term: torch.Tensor, rho: torch.Tensor | float
) -> torch.Tensor:
    """Pixel-wise minimiser of C(y − x)² + D x² + (ρ/2)(x − k̃)²: x = (2C·y + ρ·k̃)/(2C + 2D + ρ)."""
    return (2.0 * c * y + rho * k_term) / (2.0 * c + 2.0 * d + rho)


# -- the step ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EMVariant:
    """How one EM variant maps f̃ to its variable X and back, and how its M-step is run."""

    x_from: str  # "f-v": X = f̃ − V | "i-f": X = I − f̃
    split_on: str  # "x": k-step on X, k̃ = k | "y-x": k-step on Y − X, k̃ = Y − k
    recover: str  # "x+v": F = X + V | "i-x": F = I − X
    iterations: int = 1
    adaptive_rho: bool = False  # ρ = (C + D)/2 per pixel instead of the given constant
    released_difference: bool = False  # the shipped code's u-step difference
    symmetric: bool = True  # regularise both E-step residuals as r² + 1e-6 (False: C as (r + 1e-6)², released)


EM_VARIANT_TABLE: dict[str, EMVariant] = {
    "paper": EMVariant("i-f", "y-x", "i-x", PRESUBMISSION_ITERATIONS, adaptive_rho=True),
    "presubmission": EMVariant(
        "i-f", "y-x", "i-x", PRESUBMISSION_ITERATIONS, adaptive_rho=True, released_difference=True, symmetric=False
    ),
    "fv": EMVariant("f-v", "x", "x+v"),
    "released": EMVariant("f-v", "y-x", "i-x", released_difference=True, symmetric=False),
}
EM_VARIANTS = tuple(EM_VARIANT_TABLE)


@dataclass
class EMState:
    """What DDFM carries from one diffusion step to the next (initialised once per image)."""

    tau_a: torch.Tensor
    tau_b: torch.Tensor
    k: torch.Tensor
    u1: torch.Tensor
    u2: torch.Tensor
    otf1: torch.Tensor
    otf2: torch.Tensor
    c: torch.Tensor | None = None  # last E-step weights (inspection, tests)
    d: torch.Tensor | None = None
    steps: int = 0

    @classmethod
    def initial(cls, like: torch.Tensor) -> EMState:
        """τ_a = τ_b = 1, k = u = 0 (C = D = 1 in the code are overwritten by the first E-step)."""
        b = like.shape[0]
        ones = torch.ones(b, 1, 1, 1, dtype=like.dtype, device=like.device)
        zeros = torch.zeros_like(like)
        otf1, otf2 = difference_otfs(like.shape[-2], like.shape[-1], like.device, like.dtype)
        return cls(ones.clone(), ones.clone(), zeros.clone(), zeros.clone(), zeros.clone(), otf1, otf2)


def em_step(
    f_tilde: torch.Tensor,
    i: torch.Tensor,
    v: torch.Tensor,
    state: EMState,
    variant: str = "paper",
    lamb: float = 0.5,
    rho: float = 0.001,
) -> torch.Tensor:
    """One EM iteration: rectify the prior's luma ``f_tilde`` with sources ``i`` and ``v``
    (all (B, 1, H, W) in [−1, 1]); updates ``state`` in place and returns f̂."""
    try:
        spec = EM_VARIANT_TABLE[variant]
    except KeyError:
        raise ValueError(f"unknown EM variant {variant!r}; known: {', '.join(EM_VARIANTS)}") from None
    y = i - v
    x = f_tilde - v if spec.x_from == "f-v" else i - f_tilde
    # E-step: r_C = Y − X (data term), r_D = X (prior term)
    c, d = e_step_weights(y - x, x, state.tau_a, state.tau_b, symmetric=spec.symmetric)
    state.tau_a, state.tau_b = update_taus(c, d, state.tau_a, state.tau_b)
    state.c, state.d = c, d
    # M-step
    difference = released_difference if spec.released_difference else forward_difference
    step_rho = 0.5 * (c + d) if spec.adaptive_rho else rho
    for _ in range(spec.iterations):
        z = x if spec.split_on == "x" else y - x
        state.k = k_step(z, state.u1, state.u2, state.otf1, state.otf2)
        state.u1, state.u2 = u_step(state.k, lamb, step_rho, difference)
        k_term = state.k if spec.split_on == "x" else y - state.k
        x = x_step(c, d, y, k_term, step_rho)
    state.steps += 1
    return x + v if spec.recover == "x+v" else i - x
