"""Hook module of the DDIF plugin: import-light (no torch); the factory is a lazy import string."""

from __future__ import annotations

from fusionbench import ModelSpec, ParamSpec, Requirements, hookimpl

MODEL_VERSION = "2"
"""Bump when DDIF's numbers change for the same parameters (it enters every run key).
2: the tiny preset trains MHIF for 4,800 iterations (was 800)."""


@hookimpl
def fusionbench_register_models():
    return [
        ModelSpec(
            name="ddif",
            version=MODEL_VERSION,
            tasks=frozenset({"pansharpening", "mhif"}),
            factory="fusionbench_ddif.model:DDIF",
            params={
                "preset": ParamSpec(
                    "tiny",
                    "str",
                    choices=("tiny", "paper", "release"),
                    help="tiny: trains itself on CPU in about a minute; paper: published network (needs a checkpoint); "
                    "release: paper network with the released code's inference time indexing",
                ),
                "checkpoint": ParamSpec(
                    "",
                    "path",
                    help="checkpoint directory/file, or a name found in $FUSIONBENCH_WEIGHTS or the cache folder; "
                    "empty: train on the dataset's train split (tiny preset) and cache",
                ),
                "precision": ParamSpec(
                    "fp32", "str", choices=("fp32", "bf16", "fp16"), help="autocast dtype of the network at inference"
                ),
                "train_iterations": ParamSpec(
                    0, "int", help="override the preset's training iterations when it trains itself (0: preset)"
                ),
            },
            needs_sampler=True,
            default_sampler="ddim",
            default_sampler_params={"steps": 25},
            requires=Requirements(cpu_ok=True),
            description=(
                "DDIF / Dif-PAN: conditional diffusion on the residual HRMS-LMS with coarse style modulation (encoder) "
                "and fine wavelet cross-attention (decoder); x0 objective, cosine schedule, DDIM 25 steps"
            ),
            citation=(
                "Cao, Cao, Deng, Wu, Hou, Vivone. Diffusion model with disentangled modulations for sharpening "
                "multispectral and hyperspectral images. Information Fusion 104:102158, 2024"
            ),
            url="https://github.com/294coder/Dif-PAN",
            license="Apache-2.0 (this re-implementation)",
        )
    ]
