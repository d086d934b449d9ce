"""Hook module of the SSDiff plugin: import-light (no torch); the factory is a lazy import string."""

from __future__ import annotations

from fusionbench import ModelSpec, ParamSpec, Requirements, hookimpl

MODEL_VERSION = "2"
"""Bump when SSDiff's numbers change for the same parameters (it enters every run key).
2: ``release`` draws fresh initial noise per tile batch, as the released sampler does."""


@hookimpl
def fusionbench_register_models():
    return [
        ModelSpec(
            name="ssdiff",
            version=MODEL_VERSION,
            tasks=frozenset({"pansharpening"}),
            factory="fusionbench_ssdiff.model:SSDiff",
            params={
                "preset": ParamSpec(
                    "tiny",
                    "str",
                    choices=("tiny", "paper", "release"),
                    help="tiny: trains itself on 2 CPU cores in under two minutes; paper: published network and recipe incl. L-BAF "
                    "(needs a checkpoint); release: the released code's inference quirks (for its checkpoints)",
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
                    0, "int", help="override the joint-stage iterations when it trains itself (0: preset)"
                ),
                "tile": ParamSpec(
                    0, "int", help="inference tile size in PAN pixels, multiple of 4 (0: preset; tiny 32, paper 64)"
                ),
                "overlap": ParamSpec(-1, "int", help="tile overlap in PAN pixels, multiple of 4 (-1: preset)"),
                "tile_batch": ParamSpec(0, "int", help="tiles per network batch: bounds memory (0: preset)"),
            },
            needs_sampler=True,
            default_sampler="ddim",
            default_sampler_params={"steps": 10},
            requires=Requirements(cpu_ok=True),
            protocols=frozenset({"reduced", "full"}),
            description=(
                "SSDiff: dual-branch (spatial PAN / spectral LMS) diffusion with alternating projection fusion (APFM) and "
                "frequency modulation (FMIM), L-BAF branch-wise low-rank fine-tuning; x0 residual objective, cosine T=1000, "
                "DDIM 10 steps on overlapping blended tiles"
            ),
            citation=(
                "Zhong, Wu, Deng, Cao. SSDiff: Spatial-spectral Integrated Diffusion Model for Remote Sensing "
                "Pansharpening. NeurIPS 2024 (arXiv:2404.11537)"
            ),
            url="https://github.com/Z-ypnos/SSdiff_main",
            license="Apache-2.0 (this re-implementation)",
        )
    ]


@hookimpl
def fusionbench_register_reported():
    """The published numbers in reported.csv (each row names the table it was copied from)."""
    from pathlib import Path

    from fusionbench.results.reported import read_reported_csv

    return read_reported_csv(Path(__file__).with_name("reported.csv"))
