"""DDFM presets: which prior, which EM variant, which input order and how images enter and leave.

Every preset is pure data so the run key, the docs and the tests can read it without torch.

* ``tiny`` (default) — the project's own grey prior (``weights/tiny_prior.safetensors``, 481,649
  parameters, trained on scikit-image's bundled photographs) with the paper's algorithm done right:
  EM variant ``paper`` (the pre-submission ``bf_onestep`` structure that most likely produced the
  paper's tables — L1 on i − f and on f − v, gradient penalty on f − v, 5 inner M-iterations,
  ρ = (C + D)/2 — with a consistent difference operator; see em.py for why not ``fv``),
  I = infrared / functional image, V = visible / MRI, reflect padding to the network's size
  multiple (the whole image is fused and scored), output luma min–max stretched to 0..255 (the
  field's convention for fused outputs, as the DDFM and CDDFuse evaluation code does).
* ``paper`` — the same algorithm with OpenAI's ``256x256_diffusion_uncond.pt`` RGB prior
  (552,814,086 parameters); the rectification acts on a full-range luma of x̂0 that spans exactly
  the sources' [−1, 1] (the released code's range mismatch removed).
* ``release`` — what the released ``MMIF-DDFM`` code does (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM)): the mixed
  ``EM_onestep`` (X = f̃ − V but F = I − X̂), the ``sample.py`` naming swap (I ← visible file,
  V ← infrared file), BT.601 studio-range Y of the prior's x̂0, top-left crop to multiples of 32,
  inputs rounded to integers, output = OpenCV luma of the final RGB sample, min–max stretched,
  sampled as the released code does: DDIM η = 0 on guided-diffusion's respacing "100" (the even
  rule, 100 steps).

Each preset names the sampler that reproduces it (``sampler`` / ``sampler_params``): the paper's
ancestral DDPM update (Algorithm 1) for ``tiny`` and ``paper``, DDIM for ``release``.
``DDFM.fuse`` uses it when it is given no sampler; a benchmark run passes the sampler the run
names (``-s``), else the model's registered default (DDPM).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fusionbench.training.config import lookup_preset

PRESET_NAMES = ("tiny", "paper", "release")
ROLE_ORDERS = ("paper", "release")

PAPER_SAMPLER: tuple[str, dict[str, Any]] = ("ddpm", {"steps": 100, "respacing": "even"})
"""The paper's Algorithm 1 (ancestral DDPM) on the released config's 100 kept timesteps."""

RELEASE_SAMPLER: tuple[str, dict[str, Any]] = ("ddim", {"steps": 100, "respacing": "even", "eta": 0.0})
"""What MMIF-DDFM's ``sample.py`` runs: guided-diffusion's DDIM loop (η = 0) with
``timestep_respacing: "100"``, whose kept timesteps follow the even rule (0, 10, …, 989, 999)."""

PAPER_WEIGHTS_URI = "256x256_diffusion_uncond.pt"
PAPER_WEIGHTS_URL = "https://openaipublic.blob.core.windows.net/diffusion/jul-2021/256x256_diffusion_uncond.pt"
TINY_WEIGHTS_FILE = "tiny_prior.safetensors"


@dataclass(frozen=True)
class Preset:
    name: str
    prior: str  # "tiny" (shipped grey prior) | "paper" (OpenAI RGB prior)
    em: str = "paper"  # see em.EM_VARIANTS
    roles: str = "paper"  # "release": I <- visible/MRI, V <- infrared/functional (sample.py swap)
    luma: str = "full"  # RGB priors only: "full" (Y in [-1,1], consistent) | "studio" (skimage BT.601 /255)
    spatial: str = "pad"  # "pad": reflect-pad to the size multiple | "crop": top-left crop (released)
    output: str = "minmax"  # "minmax": per-image min-max stretch (released code, CDDFuse convention) | "clip": (y+1)/2*255 clipped
    round_inputs: bool = False  # released: cv2 GRAY reads give integers
    lamb: float = 0.5  # λ of the u-step (gradient penalty); code "lamb"
    rho: float = 0.001  # splitting penalty ρ; sample.py passes 0.001 (function default 0.01)
    sampler: str = PAPER_SAMPLER[0]  # the sampler that reproduces this preset (core sampler name)
    sampler_params: dict[str, Any] = field(default_factory=lambda: dict(PAPER_SAMPLER[1]))
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        prior="tiny",
        description="project-trained grey prior (481,649 parameters, shipped), paper algorithm; CPU-friendly default",
    ),
    "paper": Preset(
        name="paper",
        prior="paper",
        description="OpenAI 256x256 unconditional prior (552,814,086 parameters; bring the checkpoint), paper algorithm",
    ),
    "release": Preset(
        name="release",
        prior="paper",
        em="released",
        roles="release",
        luma="studio",
        spatial="crop",
        round_inputs=True,
        sampler=RELEASE_SAMPLER[0],
        sampler_params=dict(RELEASE_SAMPLER[1]),
        description="OpenAI prior with the released code's EM step, input order, colour, output handling and DDIM sampler",
    ),
}


def get_preset(name: str) -> Preset:
    return lookup_preset(PRESETS, name, label="DDFM")
