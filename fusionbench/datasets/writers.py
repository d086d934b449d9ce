"""Writers for the real layouts: PanCollection / MHIF HDF5 stacks, toolbox .mat scenes, pair folders.

They exist so data made here (Wald-simulated scenes, the synthetic sets) can be handed to the
field's MATLAB and Python tools in the formats those read, and so the readers can be tested on
files written in each layout (round trips). Arrays are taken channel-first (C, H, W), as the
readers hand them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..protocols import FusionItem


def write_h5_stacks(path: str | Path, stacks: Mapping[str, Sequence[np.ndarray] | np.ndarray]) -> Path:
    """Write each key as a float64 (N, C, H, W) dataset, as MATLAB's ``h5create`` files appear to h5py."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        for key, value in stacks.items():
            arr = np.asarray(value, dtype=np.float64) if not isinstance(value, np.ndarray) else value.astype(np.float64)
            if arr.ndim != 4:
                raise ValueError(f"{key}: expected N×C×H×W, got shape {arr.shape}")
            fh.create_dataset(key, data=arr)
    return path


def write_pancollection_h5(path: str | Path, items: Iterable[FusionItem], protocol: str = "reduced") -> Path:
    """A PanCollection file (``gt`` for the reduced protocol, ``ms``, ``lms``, ``pan``) from items in DN."""
    keys = ("gt", "ms", "lms", "pan") if protocol == "reduced" else ("ms", "lms", "pan")
    stacks: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for item in items:
        for k in keys:
            arr = item.reference if k == "gt" else item.inputs[k]
            if arr is None:
                raise ValueError(f"item {item.image_id}: no reference for a reduced-resolution file")
            stacks[k].append(arr)
    return write_h5_stacks(path, {k: np.stack(v) for k, v in stacks.items()})


RGB_ORDERS = ("rgb", "bgr")
LAYOUT_RGB_ORDER = {"cave": "bgr", "harvard": "rgb"}
"""The channel order each Deng-group MHIF layout stores ``RGB`` in, as the readers label it."""


def write_hsi_h5(path: str | Path, items: Iterable[FusionItem], *, rgb_order: str | None = None) -> Path:
    """A Deng-group MHIF file (``GT``, ``LRHSI``, ``RGB``, ``HSI_up``) from MHIF items.

    ``rgb_order`` is the order the *file* stores its ``RGB`` key in: ``"bgr"`` for the CAVE layout,
    ``"rgb"`` for Harvard (what :mod:`.hsi` labels them). When omitted it is taken from the file
    name (``cave`` → BGR, ``harvard`` → RGB); any other name must say it. Each item's channels are
    converted from the item's own order (``extras["rgb_order"]``; items without it are taken as
    RGB), so reading the file back with the matching reader gives the same colours under the
    right label.
    """
    if rgb_order is None:
        name = Path(path).name.lower()
        hits = {order for layout, order in LAYOUT_RGB_ORDER.items() if layout in name}
        if len(hits) != 1:
            raise ValueError(
                f"{path}: cannot tell the RGB channel order of this layout from the file name; "
                "pass rgb_order='bgr' (CAVE files) or rgb_order='rgb' (Harvard files)"
            )
        rgb_order = hits.pop()
    if rgb_order not in RGB_ORDERS:
        raise ValueError(f"rgb_order must be one of {RGB_ORDERS}, got {rgb_order!r}")
    stacks: dict[str, list[np.ndarray]] = {"GT": [], "LRHSI": [], "RGB": [], "HSI_up": []}
    for item in items:
        if item.reference is None:
            raise ValueError(f"item {item.image_id}: MHIF files need the reference (GT)")
        item_order = str(item.extras.get("rgb_order", "rgb")).lower()
        if item_order not in RGB_ORDERS:
            raise ValueError(
                f"item {item.image_id}: extras['rgb_order'] is {item_order!r}, expected one of {RGB_ORDERS}"
            )
        hrmsi = np.asarray(item.inputs["hrmsi"])
        if hrmsi.ndim != 3 or hrmsi.shape[0] != 3:
            raise ValueError(f"item {item.image_id}: 'hrmsi' has shape {hrmsi.shape}; expected (3, H, W)")
        stacks["GT"].append(item.reference)
        stacks["LRHSI"].append(item.inputs["lrhsi"])
        stacks["RGB"].append(hrmsi if item_order == rgb_order else hrmsi[::-1])
        stacks["HSI_up"].append(item.inputs["hsi_up"])
    return write_h5_stacks(path, {k: np.stack(v) for k, v in stacks.items()})


def write_mat_scene(
    path: str | Path, item: FusionItem, *, version: str = "v5", sensor: str | None = None, ratio: int | None = None
) -> Path:
    """A toolbox-style scene: ``I_MS_LR``, ``I_MS``, ``I_PAN`` (+ ``I_GT``) in MATLAB H×W×C order."""
    from .matfiles import save_mat_v73

    hwc = lambda a: np.moveaxis(np.asarray(a, dtype=np.float64), 0, -1)  # noqa: E731
    values: dict[str, object] = {
        "I_MS_LR": hwc(item.inputs["ms"]),
        "I_MS": hwc(item.inputs["lms"]),
        "I_PAN": np.asarray(item.inputs["pan"], dtype=np.float64)[0],
    }
    if item.reference is not None:
        values["I_GT"] = hwc(item.reference)
    if sensor is not None:
        values["sensor"] = sensor
    if ratio is not None:
        values["ratio"] = np.array([[float(ratio)]])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if version == "v7.3":
        save_mat_v73(path, values)
    elif version == "v5":
        import scipy.io

        scipy.io.savemat(path, values)
    else:
        raise ValueError(f"version must be 'v5' or 'v7.3', got {version!r}")
    return path


def write_pair_folders(
    dir_a: str | Path,
    dir_b: str | Path,
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
    suffix: str = ".png",
) -> tuple[Path, Path]:
    """Write ``(stem, image_a, image_b)`` pairs, each (H, W) or (H, W, 3) in 0..255, as 8-bit files."""
    from .images import write_image

    a, b = Path(dir_a), Path(dir_b)
    a.mkdir(parents=True, exist_ok=True)
    b.mkdir(parents=True, exist_ok=True)
    for stem, img_a, img_b in pairs:
        for folder, img in ((a, img_a), (b, img_b)):
            write_image(folder / f"{stem}{suffix}", np.asarray(img))
    return a, b
