"""The DDFM fusion model as fusionbench runs it.

Lifecycle (core contract): ``DDFM(**params)`` → ``setup(context)`` loads the prior (the shipped
tiny grey prior, or OpenAI's checkpoint through ``context.resolve_weights``; nothing downloads)
→ ``fuse(batch, sampler=…, generator=…)`` per image. DDFM is training-free: the sampler the core
built (default: the paper's ancestral DDPM update, 100 evenly respaced steps) runs the
unconditional prior, and :class:`EMRectification` — an ``x0_correction`` hook — replaces the
luma of every x̂0 by its EM-rectified version (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM)).

Per image: sources → I, V (roles), [0, 255] → [−1, 1] (rounded first for ``release``), padded
(reflect) or cropped (top-left, ``release``) to the prior's size multiple, sampled with noise of
the prior's channel count, and the final sample's luma min–max stretched to 0..255 (the released
code and CDDFuse do this; a preset may clip instead) at the input's size.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from fusionbench.diffusion.samplers import DiffusionSampler, StepInfo, make_sampler
from fusionbench.errors import FusionbenchError
from fusionbench.training.checkpoint import CheckpointError
from fusionbench.weights import resolve_verified

from .colour import display_luma, merge_luma, split_luma
from .em import EM_VARIANTS, EMState, em_step
from .presets import PAPER_SAMPLER, PAPER_WEIGHTS_URI, PAPER_WEIGHTS_URL, ROLE_ORDERS, Preset, get_preset
from .prior import Prior, load_prior, shipped_tiny_prior
from .unet import PAPER_CONFIG, TINY_CONFIG

TASK_ROLES = {"ivf": ("ir", "vi"), "mif": ("other", "mri")}
"""(I, V) per task in the paper's order: I = the intensity / functional image (infrared, CT/PET/SPECT),
V = the texture image (visible, MRI) — the CDDFuse convention the spec adopts for MIF (§4.7)."""


class EMRectification:
    """The x0-correction hook: EM-rectify the luma of x̂0 at every step, keep the prior's chroma.

    Holds the EM state, which the algorithm carries across diffusion steps; it is (re)initialised
    at the first (noisiest) step, so one hook object serves exactly one sampling loop at a time.
    """

    def __init__(self, i: torch.Tensor, v: torch.Tensor, variant: str, lamb: float, rho: float, luma: str = "full"):
        self.i, self.v = i.to(torch.float64), v.to(torch.float64)
        self.variant, self.lamb, self.rho, self.luma = variant, lamb, rho, luma
        self.state: EMState | None = None

    def __call__(self, x0: torch.Tensor, x_t: torch.Tensor, step: StepInfo) -> torch.Tensor:
        if self.state is None or step.index == step.total - 1:
            self.state = EMState.initial(self.i)
        f_tilde, chroma = split_luma(x0.to(torch.float64), self.luma)
        f_hat = em_step(f_tilde, self.i, self.v, self.state, self.variant, self.lamb, self.rho)
        return merge_luma(f_hat, chroma, self.luma).to(x0.dtype)


class DDFM:
    """DDFM (Zhao et al., ICCV 2023) for infrared–visible and medical image fusion."""

    def __init__(self, preset: str = "tiny", checkpoint: str = "", em: str = "", roles: str = ""):
        self.preset: Preset = get_preset(preset)
        self.checkpoint = checkpoint or ""
        self.em = em or self.preset.em
        self.roles = roles or self.preset.roles
        if self.em not in EM_VARIANTS:
            raise ValueError(f"unknown EM variant {self.em!r}; known: {', '.join(EM_VARIANTS)}")
        if self.roles not in ROLE_ORDERS:
            raise ValueError(f"unknown roles {self.roles!r}; known: {', '.join(ROLE_ORDERS)}")
        self.prior: Prior | None = None

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, context: Any) -> None:
        """Load the prior on the run's device (never downloads; a missing file is an error)."""
        self.load(self._find_weights(context), device=context.device)

    def load(self, path: Path | None = None, device: str | torch.device = "cpu") -> Prior:
        """Load a prior file (default: the shipped tiny prior for ``tiny``)."""
        if path is None:
            if self.preset.prior != "tiny":
                raise CheckpointError(f"DDFM preset {self.preset.name!r} needs the OpenAI prior: pass its path")
            path = shipped_tiny_prior()
        default = TINY_CONFIG if self.preset.prior == "tiny" else PAPER_CONFIG
        self.prior = load_prior(Path(path), device=device, default_config=default)
        return self.prior

    def _find_weights(self, context: Any) -> Path:
        if not self.checkpoint and self.preset.prior == "tiny":
            return shipped_tiny_prior()
        uri = self.checkpoint or PAPER_WEIGHTS_URI
        found = Path(uri).expanduser()
        if found.is_dir():  # a checkpoint directory from `fusionbench ddfm train-prior`
            return found
        try:
            return resolve_verified(context.resolve_weights, uri, "")
        except FusionbenchError as exc:
            hint = (
                f" It is published at {PAPER_WEIGHTS_URL}: `fusionbench weights fetch ddfm` downloads it."
                if uri == PAPER_WEIGHTS_URI
                else ""
            )
            raise CheckpointError(f"DDFM[{self.preset.name}]: {exc}.{hint}") from None

    def train_model(self, request: Any) -> Any:
        """DDFM is training-free: ``fusionbench train ddfm`` explains where the prior comes from."""
        raise FusionbenchError(
            "DDFM is training-free for fusion; its unconditional prior learns from natural images, not from a "
            "fusion dataset: fusionbench ddfm train-prior --preset tiny --out DIR (then -m 'ddfm[checkpoint=DIR]')"
        )

    # -- inference ------------------------------------------------------------------------------
    def sources(self, inputs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(I, V) from the task's fields, in this model's role order, as given (0..255)."""
        task = next((t for t, names in TASK_ROLES.items() if all(n in inputs for n in names)), None)
        if task is None:
            raise FusionbenchError(f"DDFM fuses ivf (ir, vi) or mif (mri, other) inputs; got fields {sorted(inputs)}")
        i, v = (inputs[name] for name in TASK_ROLES[task])
        return (v, i) if self.roles == "release" else (i, v)

    @torch.no_grad()
    def fuse(self, batch: Any, *, sampler: Any = None, generator: torch.Generator | None = None) -> torch.Tensor:
        prior = self._ready()
        preset = self.preset
        i_src, v_src = self.sources(batch.inputs)
        out_dtype, out_device = i_src.dtype, i_src.device
        height, width = i_src.shape[-2:]
        device = next(prior.net.parameters()).device
        i, v = (_normalise(s.to(device, torch.float64), preset.round_inputs) for s in (i_src, v_src))
        i, v = (_fit(s, prior.size_multiple, preset.spatial) for s in (i, v))
        hook = EMRectification(i, v, self.em, preset.lamb, preset.rho, preset.luma)
        sampler = sampler if sampler is not None else self.default_sampler()
        self._warn_if_not_the_preset_sampler(sampler)
        shape = (i.shape[0], prior.channels, *i.shape[-2:])
        sample = sampler.sample(
            prior.denoiser(), shape, generator=generator, x0_correction=hook, device=device, dtype=torch.float32
        )
        luma = self._output_luma(sample.to(torch.float64))
        luma = _restore(luma, height, width, preset.spatial)
        return luma.to(out_device, out_dtype)

    def default_sampler(self) -> DiffusionSampler:
        """The sampler that reproduces this preset: the paper's DDPM (Algorithm 1) for ``tiny`` and
        ``paper``, the released ``sample.py``'s DDIM η = 0 on respacing "100" for ``release``."""
        return make_sampler(self.preset.sampler, **self.preset.sampler_params)

    def _warn_if_not_the_preset_sampler(self, sampler: Any) -> None:
        """A ``release`` run sampled otherwise than the released code is not the release: say so
        (a benchmark run gets the model's registered default, DDPM, unless ``-s`` names one)."""
        if self.preset.sampler == PAPER_SAMPLER[0]:
            return
        wanted = make_sampler(self.preset.sampler, **self.preset.sampler_params)
        given = (getattr(sampler, "name", None), getattr(sampler, "params", lambda: None)())
        if given != (wanted.name, wanted.params()):
            options = ",".join(f"{k}={v}" for k, v in self.preset.sampler_params.items())
            warnings.warn(
                f"DDFM[{self.preset.name}] reproduces the released code only with "
                f"-s '{self.preset.sampler}[{options}]'; this run samples with {given[0]} {given[1]}",
                stacklevel=4,  # the caller of fuse (behind torch.no_grad's wrapper)
            )

    def _output_luma(self, sample: torch.Tensor) -> torch.Tensor:
        """Final sample → fused luma in 0..255: its Y (the released code: OpenCV's Y of the RGB
        sample; otherwise the preset's luma, which the EM constrained), stretched or clipped."""
        y = display_luma(sample) if self.preset.luma == "studio" else split_luma(sample, self.preset.luma)[0]
        if self.preset.output == "minmax":
            low = y.amin(dim=(-2, -1), keepdim=True)
            high = y.amax(dim=(-2, -1), keepdim=True)
            return (y - low) / (high - low).clamp_min(1e-12) * 255.0
        return ((y + 1.0) * 127.5).clamp(0.0, 255.0)

    def _ready(self) -> Prior:
        if self.prior is None:
            raise FusionbenchError("DDFM is not set up: call setup(context) or load(path) first")
        return self.prior


def _normalise(x: torch.Tensor, round_first: bool) -> torch.Tensor:
    """0..255 → [−1, 1] (sample.py: x/255·2 − 1)."""
    if round_first:
        x = torch.round(x)
    return x / 255.0 * 2.0 - 1.0


def _fit(x: torch.Tensor, multiple: int, mode: str) -> torch.Tensor:
    """Make H, W multiples of ``multiple``: reflect-pad bottom/right (``pad``; replicate where the
    image is too small to reflect) or crop top-left as the released code does (``crop``)."""
    h, w = x.shape[-2:]
    if mode == "crop":
        hc, wc = h - h % multiple, w - w % multiple
        if not (hc and wc):
            raise FusionbenchError(
                f"DDFM (crop mode) needs images of at least {multiple}x{multiple} pixels, got {h}x{w}"
            )
        return x[..., :hc, :wc]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if not (pad_h or pad_w):
        return x
    mode_ = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode_)


def _restore(y: torch.Tensor, height: int, width: int, mode: str) -> torch.Tensor:
    """Back to the input size: drop the padding, or (crop mode) extend the fused region's edge
    pixels over the rows/columns the released code never fuses (they would be missing otherwise)."""
    if mode == "crop":
        return F.pad(y, (0, width - y.shape[-1], 0, height - y.shape[-2]), mode="replicate")
    return y[..., :height, :width]
