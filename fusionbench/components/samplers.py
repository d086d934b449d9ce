"""Hook module of the diffusion core: registers the samplers (DDIM, DDPM, DPM-Solver++(2M)).

Import-light by contract (``fusionbench plugins list`` imports it): no torch here; the sampler
factories are ``"module:attr"`` strings. ``fusionbench train`` is a core CLI command, so it stays
available whichever plugins are loaded.
"""

from __future__ import annotations

from fusionbench import ParamSpec, SamplerSpec, hookimpl

SAMPLER_VERSION = "1"
"""Bump when a sampler's numbers change for the same parameters (it enters every run key)."""

_STEPS_HELP = "network evaluations (timesteps kept from the model's training schedule)"
_RESPACING = ParamSpec(
    "ddim",
    "str",
    choices=("ddim", "even"),
    help="which training timesteps are kept: 'ddim' = {0, s, 2s, ...} (smallest stride s), 'even' = evenly spread with rounding, ends included",
)


@hookimpl
def fusionbench_register_samplers():
    return [
        SamplerSpec(
            name="ddim",
            version=SAMPLER_VERSION,
            factory="fusionbench.diffusion.samplers:DDIMSampler",
            params={
                "steps": ParamSpec(25, "int", help=_STEPS_HELP),
                "eta": ParamSpec(0.0, "float", help="0 = deterministic ODE sampler; 1 = DDPM-like noise"),
                "respacing": _RESPACING,
            },
            description="DDIM; eta=0 is the deterministic x0-prediction ODE sampler used by DDIF, SSDiff and DDFM",
            citation="Song, Meng, Ermon. Denoising Diffusion Implicit Models. ICLR 2021",
        ),
        SamplerSpec(
            name="ddpm",
            version=SAMPLER_VERSION,
            factory="fusionbench.diffusion.samplers:DDPMSampler",
            params={
                "steps": ParamSpec(100, "int", help=_STEPS_HELP),
                "respacing": _RESPACING,
                "variance": ParamSpec(
                    "small", "str", choices=("small", "large"), help="posterior variance (small) or beta (large)"
                ),
            },
            description="DDPM ancestral sampling on the (respaced) posterior",
            citation="Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020",
        ),
        SamplerSpec(
            name="dpmpp-2m",
            version=SAMPLER_VERSION,
            factory="fusionbench.diffusion.samplers:DPMSolverPP2MSampler",
            params={"steps": ParamSpec(20, "int", help=_STEPS_HELP), "respacing": _RESPACING},
            description="DPM-Solver++(2M): multistep second-order data-prediction ODE solver",
            citation="Lu et al. DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models. 2022",
        ),
    ]
