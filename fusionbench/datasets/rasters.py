"""GeoTIFF / TIFF rasters as (C, H, W) arrays, through ``tifffile`` or ``rasterio`` (optional extras).

Neither library is a hard dependency: they are imported only when a TIFF is read, and the error
says which extra to install (``pip install 'fusionbench[geotiff]'``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataFormatError

TIFF_SUFFIXES = (".tif", ".tiff")
EXTRA = "geotiff"


def read_raster(path: str | Path) -> np.ndarray:
    """Read a (Geo)TIFF as a channel-first (C, H, W) array (a single band gives C = 1)."""
    path = Path(path)
    try:
        import tifffile
    except ImportError:
        tifffile = None
    if tifffile is not None:
        return _read_tifffile(tifffile, path)
    try:
        import rasterio
    except ImportError:
        raise DataFormatError(
            f"{path}: reading TIFF needs tifffile or rasterio; install the optional extra: "
            f"pip install 'fusionbench[{EXTRA}]'"
        ) from None
    try:
        with rasterio.open(path) as src:
            return np.asarray(src.read())
    except Exception as exc:  # noqa: BLE001 - rasterio raises its own error types
        raise DataFormatError(f"{path}: not a readable GeoTIFF: {exc}") from None


def _read_tifffile(tifffile: object, path: Path) -> np.ndarray:
    try:
        with tifffile.TiffFile(path) as tif:  # type: ignore[attr-defined]
            series = tif.series[0]
            axes = series.axes.upper()
            data = series.asarray()
    except FileNotFoundError:
        raise DataFormatError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - tifffile raises several types for bad files
        raise DataFormatError(f"{path}: not a readable TIFF: {exc}") from None
    if "Y" not in axes or "X" not in axes:
        raise DataFormatError(f"{path}: TIFF axes {axes!r} have no Y/X image plane")
    others = [i for i, a in enumerate(axes) if a not in "YX"]
    if len(others) > 1:
        raise DataFormatError(f"{path}: TIFF has axes {axes!r}; expected one band axis at most")
    order = others + [axes.index("Y"), axes.index("X")]
    arr = np.transpose(data, order)
    return arr if arr.ndim == 3 else arr[None]


def write_raster(path: str | Path, image: np.ndarray) -> None:
    """Write (C, H, W) as a planar TIFF with tifffile (tests, and handing data to GIS tools)."""
    import tifffile

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    tifffile.imwrite(Path(path), arr, photometric="minisblack", planarconfig="separate" if arr.ndim == 3 else None)
