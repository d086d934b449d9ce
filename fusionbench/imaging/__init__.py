"""Low-level imaging primitives shared by datasets, baselines and metrics.

- :mod:`.matlab`: MATLAB-exact rounding, casts, ``fspecial``, ``imfilter`` modes, ``imresize``.
- :mod:`.mtf`: sensor MTF kernels, MTF filtering, Wald decimation/degradation.
- :mod:`.interp`: the 23-tap interpolator (``interp23tap``).
- :mod:`.color`: RGB <-> YCrCb and the grey conversions the reference evaluators use.

All functions accept NumPy arrays (returned as NumPy float64) or torch tensors (computed in
float64), with images shaped ``(H,W)``, ``(C,H,W)`` or ``(B,C,H,W)``.
"""

from .interp import interp23tap
from .matlab import (
    crop_border,
    fspecial_gaussian,
    imfilter,
    imresize_bicubic,
    nearest_decimate,
    round_half_away,
    uint8,
    uint16,
)
from .mtf import mtf_filter, mtf_kernel, wald_decimate, wald_degrade

__all__ = [
    "crop_border",
    "fspecial_gaussian",
    "imfilter",
    "imresize_bicubic",
    "interp23tap",
    "mtf_filter",
    "mtf_kernel",
    "nearest_decimate",
    "round_half_away",
    "uint16",
    "uint8",
    "wald_decimate",
    "wald_degrade",
]
