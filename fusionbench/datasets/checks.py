"""Validation of items: every problem becomes a :class:`DataFormatError` naming the source and the fault.

Readers call :func:`validate_item` on each item they hand out, so a NaN in image 17 of a 20-image
HDF5 file is reported as ``test_wv3.h5 [item 17]: field 'ms' has 12 NaN value(s)`` instead of
surfacing later as a NaN metric. Values above the data range only *warn*: interpolated ``lms``
legitimately overshoots it a little. Values far *below zero* are an error (see
:func:`require_not_far_negative`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import DataFormatError
from ..protocols import FusionItem
from ..specs import DataCard
from ..tasks import get_task

NEGATIVE_LIMIT = 0.25
"""Values below ``-NEGATIVE_LIMIT * max_value`` are refused (:func:`require_not_far_negative`)."""


def require_finite(arr: np.ndarray, field: str, source: str) -> None:
    """Raise if ``arr`` holds NaN or infinite values."""
    if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating):
        finite = np.isfinite(arr)
        if not finite.all():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int((~finite).sum()) - n_nan
            parts = [f"{n} {kind} value(s)" for n, kind in ((n_nan, "NaN"), (n_inf, "infinite")) if n]
            raise DataFormatError(f"{source}: field {field!r} has {' and '.join(parts)}")


def require_chw(arr: np.ndarray, field: str, source: str, channels: int | None = None) -> None:
    """Raise unless ``arr`` is channel-first (C, H, W), optionally with ``channels`` channels."""
    if arr.ndim != 3:
        raise DataFormatError(f"{source}: field {field!r} has shape {arr.shape}; expected (C, H, W)")
    if 0 in arr.shape:
        raise DataFormatError(f"{source}: field {field!r} has shape {arr.shape}: the image has no pixels")
    if channels is not None and arr.shape[0] != channels:
        hint = ""
        if arr.shape[-1] == channels:
            hint = " (it looks channel-last, H×W×C; readers must return channel-first arrays)"
        raise DataFormatError(
            f"{source}: field {field!r} has {arr.shape[0]} channel(s) (shape {arr.shape}); expected {channels}{hint}"
        )


def _spatial(arr: np.ndarray) -> tuple[int, int]:
    return int(arr.shape[-2]), int(arr.shape[-1])


def validate_item(item: FusionItem, task: str, card: DataCard, source: str) -> list[str]:
    """Check an item against its task's fields and the data card; return range warnings.

    Raises :class:`DataFormatError` for missing fields, wrong ndim, wrong band count, sizes that
    do not agree with the card's ratio, and non-finite values.
    """
    spec = get_task(task)
    where = f"{source} [{item.image_id}]"
    fields: dict[str, np.ndarray] = dict(item.inputs)
    missing = [name for name in spec.input_names if name not in fields]
    if missing:
        raise DataFormatError(f"{where}: missing input field(s) {missing}; has {sorted(fields)}")
    for f in spec.inputs:
        require_chw(fields[f.name], f.name, where, f.channels)
    if spec.reference is not None and item.reference is not None:
        fields[spec.reference] = item.reference
        require_chw(item.reference, spec.reference, where)

    if task == "pansharpening":
        _check_resolution_pair(fields, where, card, hr="pan", lr="ms", up="lms", ref="gt")
    elif task == "mhif":
        _check_resolution_pair(fields, where, card, hr="hrmsi", lr="lrhsi", up="hsi_up", ref="gt")
    else:
        a, b = spec.input_names
        if _spatial(fields[a]) != _spatial(fields[b]):
            raise DataFormatError(
                f"{where}: {a!r} is {_spatial(fields[a])} but {b!r} is {_spatial(fields[b])}; "
                "the pair must be registered at the same size"
            )

    for name, arr in fields.items():
        require_finite(arr, name, where)
        require_not_far_negative(arr, name, where, card.max_value)
    return range_warnings(fields, card.max_value, where)


def require_not_far_negative(arr: np.ndarray, field: str, source: str, max_value: float) -> None:
    """Raise if ``arr`` goes below ``-NEGATIVE_LIMIT * max_value`` (a quarter of the data range).

    Every field holds intensities (DN, reflectance, 8-bit grey), which are never negative when
    measured, and the metrics rely on it: Q2n quantises to uint16 as the MATLAB toolbox does, so
    every negative value becomes 0, and data that are entirely negative score a perfect Q2n of 1.0. Small negatives are legitimate, though: interpolation (``lms`` by the 23-tap
    interpolator, ``hsi_up`` by bicubic resizing) undershoots next to sharp edges — by 11 % of the
    step for an edge between 0 and full range, 15 % for a one-pixel bright line on black, and
    resampled products (atmospherically corrected reflectance) can dip slightly below zero too.
    A quarter of the range leaves room for those while refusing what is never an intensity: a
    signed or offset encoding, a sign flip, a wrong fill value such as -9999.
    """
    if arr.size == 0 or max_value <= 0:
        return
    lo = float(np.min(arr))
    limit = -NEGATIVE_LIMIT * max_value
    if lo < limit:
        n = int(np.count_nonzero(arr < limit))
        raise DataFormatError(
            f"{source}: field {field!r} has {n} value(s) below {limit:g} (minimum {lo:g}); intensities cannot be "
            f"that negative for a data range of [0, {max_value:g}] (signed or offset data, or a fill value?)"
        )


def _check_resolution_pair(
    fields: Mapping[str, np.ndarray], where: str, card: DataCard, *, hr: str, lr: str, up: str, ref: str
) -> None:
    lr_arr, up_arr, hr_arr = fields[lr], fields[up], fields[hr]
    if card.bands is not None and lr_arr.shape[0] != card.bands:
        raise DataFormatError(
            f"{where}: {lr!r} has {lr_arr.shape[0]} band(s); the {card.sensor} data card expects {card.bands}"
        )
    if up_arr.shape[0] != lr_arr.shape[0]:
        raise DataFormatError(f"{where}: {up!r} has {up_arr.shape[0]} bands but {lr!r} has {lr_arr.shape[0]}")
    if _spatial(up_arr) != _spatial(hr_arr):
        raise DataFormatError(
            f"{where}: {up!r} is {_spatial(up_arr)} but {hr!r} is {_spatial(hr_arr)}; they must match"
        )
    ratio = card.ratio
    if ratio is not None:
        h, w = _spatial(lr_arr)
        if (h * ratio, w * ratio) != _spatial(hr_arr):
            raise DataFormatError(
                f"{where}: {hr!r} is {_spatial(hr_arr)} but {lr!r} is {(h, w)}; with ratio {ratio} "
                f"{hr!r} must be {(h * ratio, w * ratio)} (mismatched sizes)"
            )
    if ref in fields and fields[ref].shape != up_arr.shape:
        raise DataFormatError(f"{where}: reference {ref!r} has shape {fields[ref].shape}, {up!r} has {up_arr.shape}")


def range_warnings(fields: Mapping[str, np.ndarray], max_value: float, where: str) -> list[str]:
    """Warn when values go far above max_value, or look normalised to [0, 1] by mistake.

    (Values far below zero are refused by :func:`require_not_far_negative` before this runs.)
    """
    out: list[str] = []
    for name, arr in fields.items():
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -NEGATIVE_LIMIT * max_value or hi > 1.5 * max_value:
            out.append(f"{where}: {name!r} spans [{lo:g}, {hi:g}], far outside [0, {max_value:g}]")
        elif max_value > 2 and hi <= 1.0 and hi > 0:
            out.append(
                f"{where}: {name!r} spans [{lo:g}, {hi:g}] although the data card says values go up to "
                f"{max_value:g}; was it normalised to [0, 1]?"
            )
    return out
