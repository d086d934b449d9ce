"""Hook module of the DDFM plugin: import-light (no torch); factories are lazy import strings."""

from __future__ import annotations

import json
from pathlib import Path

from fusionbench import ComponentChoice, ModelSpec, ParamSpec, Requirements, WeightsRef, hookimpl

from .presets import PAPER_WEIGHTS_URL, RELEASE_SAMPLER

MODEL_VERSION = "2"
"""Bump when DDFM's numbers change for the same parameters (it enters every run key).
2: the released E-step regularises C, not D, as (r + 1e-6)² (``EM_onestep.py``)."""

PRESET_CHOICES = ("tiny", "paper", "release")


def _shipped_prior_sha256() -> str:
    """The shipped tiny prior's hash (from its JSON; no torch), so run keys change with the file."""
    try:
        meta = json.loads((Path(__file__).resolve().parent / "weights" / "tiny_prior.json").read_text(encoding="utf-8"))
        return str(meta.get("sha256", ""))
    except (OSError, ValueError):
        return ""


@hookimpl
def fusionbench_register_models():
    return [
        ModelSpec(
            name="ddfm",
            version=MODEL_VERSION,
            tasks=frozenset({"ivf", "mif"}),
            factory="fusionbench_ddfm.model:DDFM",
            params={
                "preset": ParamSpec(
                    "tiny",
                    "str",
                    choices=PRESET_CHOICES,
                    help="tiny: shipped grey prior (CPU, default); paper: OpenAI 256x256 uncond prior, paper algorithm; "
                    "release: OpenAI prior with the released code's EM step, input order and output stretch",
                ),
                "checkpoint": ParamSpec(
                    "",
                    "path",
                    help="prior weights: a path or a name in $FUSIONBENCH_WEIGHTS; empty = the shipped tiny prior "
                    "(tiny) or 256x256_diffusion_uncond.pt (paper, release)",
                ),
                "em": ParamSpec(
                    "",
                    "str",
                    choices=("", "paper", "fv", "released", "presubmission"),
                    help="override the preset's EM step: paper (bf_onestep structure, consistent operators), "
                    "fv (bf_onestep_fv), released (EM_onestep), presubmission (bf_onestep as reconstructed); "
                    "empty = the preset's",
                ),
                "roles": ParamSpec(
                    "",
                    "str",
                    choices=("", "paper", "release"),
                    help="override which source is I and which is V: paper (I = IR / CT-PET-SPECT), "
                    "release (sample.py swap: I = visible / MRI); empty = the preset's",
                ),
            },
            needs_sampler=True,
            default_sampler="ddpm",
            default_sampler_params={"steps": 100, "respacing": "even"},
            # the release preset samples as the released code does (DDIM eta=0, respacing "100")
            default_sampler_for={"preset": {"release": ComponentChoice(RELEASE_SAMPLER[0], RELEASE_SAMPLER[1])}},
            weights=(
                WeightsRef(
                    uri="fusionbench_ddfm/weights/tiny_prior.safetensors",
                    sha256=_shipped_prior_sha256(),
                    license="Apache-2.0 (trained by this project on scikit-image's bundled sample photographs)",
                    description="the shipped grey prior of preset tiny (481,649 parameters); remade by "
                    "`fusionbench ddfm train-prior --preset tiny`",
                ),
                WeightsRef(
                    uri=PAPER_WEIGHTS_URL,  # looked up by its file name; `fusionbench weights fetch ddfm` downloads it
                    sha256="",
                    license="MIT (openai/guided-diffusion); trained on ImageNet, whose terms also apply",
                    description="OpenAI guided-diffusion 256x256 unconditional ImageNet prior (presets paper and release); "
                    "`fusionbench weights fetch ddfm` downloads it (or put it in $FUSIONBENCH_WEIGHTS yourself)",
                ),
            ),
            requires=Requirements(cpu_ok=True),
            description=(
                "DDFM: training-free fusion with an unconditional diffusion prior and a per-step EM likelihood "
                "rectification (x0 correction); grey tiny prior by default, OpenAI 256x256 prior for paper/release"
            ),
            citation=(
                "Zhao, Bai, Zhu, Zhang, Xu, Zhang, Zhang, Meng, Timofte, Van Gool. DDFM: Denoising Diffusion Model "
                "for Multi-Modality Image Fusion. ICCV 2023"
            ),
            url="https://github.com/Zhaozixiang1228/MMIF-DDFM",
            license="Apache-2.0 (this re-implementation)",
        )
    ]


@hookimpl
def fusionbench_register_commands(cli):
    from .cli import ddfm

    cli.add_command(ddfm)


@hookimpl
def fusionbench_register_reported():
    """The published numbers in reported.csv (each row names the table it was copied from)."""
    from pathlib import Path

    from fusionbench.results.reported import read_reported_csv

    return read_reported_csv(Path(__file__).with_name("reported.csv"))
