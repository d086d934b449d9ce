"""The diffusion core shared by every diffusion model plugin (see ``docs/diffusion.md``).

* :mod:`.schedules` — :class:`NoiseSchedule`, cosine / linear schedules;
* :mod:`.parameterization` — ε / x0 / v conversions;
* :mod:`.respacing` — ``"ddimN"`` and ``"N"`` timestep subsets;
* :mod:`.samplers` — :class:`Denoiser` and the DDPM, DDIM and DPM-Solver++(2M) samplers;
* :mod:`.objectives` — the training loss (with self-conditioning).

This package is imported by the plugin hook module, which must not import torch, so the names
below are resolved lazily on first attribute access (``from fusionbench.diffusion import
Denoiser`` works and imports torch at that moment).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "NoiseSchedule": "schedules",
    "cosine_schedule": "schedules",
    "linear_schedule": "schedules",
    "make_schedule": "schedules",
    "space_timesteps": "respacing",
    "respace": "respacing",
    "to_x0_eps": "parameterization",
    "training_target": "parameterization",
    "Denoiser": "samplers",
    "StepInfo": "samplers",
    "X0Correction": "samplers",
    "DiffusionSampler": "samplers",
    "DDPMSampler": "samplers",
    "DDIMSampler": "samplers",
    "DPMSolverPP2MSampler": "samplers",
    "make_sampler": "samplers",
    "diffusion_loss": "objectives",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fusionbench.diffusion' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
