"""Image files to the arrays IVF/MIF models fuse: luminance (Y) plus, for colour sources, CbCr.

The field fuses only luminance (as the CDDFuse/DDFM evaluation code does): a colour visible (or PET/SPECT) image is converted to
OpenCV's full-range YCrCb (:func:`fusionbench.imaging.color.rgb_to_ycrcb`, 8-bit offset 128), Y
goes to the model, and Cb/Cr are kept so the fused Y can be turned back into colour with
:func:`restore_colour`. Grey images stored as three equal channels (TNO, LLVIP IR, Harvard MRI)
are recognised and handed out exactly, without a colour round trip. Values stay 0..255.

Only 8-bit images are read. A 16-bit PNG/TIFF or a floating-point TIFF is refused rather than
converted: every IVF/MIF metric and model assumes 0..255, and there is no one right conversion (a
14-bit thermal camera fills 0..16383 of a 16-bit file, a float TIFF may hold 0..1, 0..255 or
kelvins), so a silent guess would score data on the wrong scale. Images larger than Pillow's
decompression-bomb limit are refused with the size they claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
COLOUR_DELTA = 128.0
COLOUR_INFO = {
    "space": "YCrCb, OpenCV full range (Y = 0.299R + 0.587G + 0.114B)",
    "delta": COLOUR_DELTA,
    "cbcr_order": "Cb, Cr",
}


EIGHT_BIT_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
)
"""Pillow modes whose channels are 8-bit (or 1-bit): the only ones :func:`read_image` accepts."""


def read_image(path: Path) -> np.ndarray:
    """Pixels as float64, (H, W) for grey or (H, W, 3) for colour; alpha and palettes resolved.

    Raises :class:`DataFormatError` for unreadable files, images that are not 8-bit (see the
    module docstring) and images over Pillow's decompression-bomb limit.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode not in EIGHT_BIT_MODES:
                raise DataFormatError(_not_eight_bit(path, im))
            im.load()
            if mode in ("P", "PA", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            elif mode in ("LA", "La", "1"):
                im = im.convert("L")
            arr = np.asarray(im)
    except DataFormatError:
        raise
    except FileNotFoundError:
        raise DataFormatError(f"{path}: file not found") from None
    except Image.DecompressionBombError as exc:
        raise DataFormatError(
            f"{path}: refused, the image claims more pixels than Pillow's safety limit allows "
            f"(a decompression bomb, or an image far larger than IVF/MIF data): {exc}"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataFormatError(f"{path}: not a readable image (truncated or corrupt?): {exc}") from None
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise DataFormatError(f"{path}: unsupported image layout {arr.shape} (mode {mode})")
    return arr.astype(np.float64)


def _not_eight_bit(path: Path, im: Any) -> str:
    """The refusal of a 16-bit, 32-bit integer or floating-point Pillow image, with its value range."""
    mode = str(im.mode)
    if mode.startswith("F"):
        kind = "a floating-point"
    elif mode.startswith("I;16"):
        kind = "a 16-bit"
    elif mode.startswith("I"):
        kind = "an integer (more than 8-bit)"
    else:
        kind = f"a {mode}-mode"
    try:
        lo, hi = im.getextrema()
        values = f", values {lo:g}..{hi:g}"
    except Exception:  # noqa: BLE001 - the range only adds detail to the message
        values = ""
    return (
        f"{path}: {kind} image (Pillow mode {mode}{values}); IVF/MIF images must be 8-bit (0..255), and the "
        "conversion depends on how the image was made, so it is not guessed: save it as 8-bit with the scaling you intend"
    )


@dataclass(frozen=True)
class Luminance:
    """``y`` (1,H,W) float32; ``cbcr`` (2,H,W) float32 for colour sources, else None; how it was made."""

    y: np.ndarray
    cbcr: np.ndarray | None
    kind: str  # "grey" | "grey-in-rgb" | "colour"


def to_luminance(pixels: np.ndarray) -> Luminance:
    """Split an image into luminance and chroma (see module docstring)."""
    if pixels.ndim == 2:
        return Luminance(pixels[None].astype(np.float32), None, "grey")
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    if np.array_equal(r, g) and np.array_equal(g, b):
        return Luminance(r[None].astype(np.float32), None, "grey-in-rgb")
    from ..imaging.color import rgb_to_ycrcb

    ycrcb = np.asarray(rgb_to_ycrcb(np.moveaxis(pixels, -1, 0), delta=COLOUR_DELTA))
    y, cr, cb = ycrcb[0], ycrcb[1], ycrcb[2]
    return Luminance(y[None].astype(np.float32), np.stack([cb, cr]).astype(np.float32), "colour")


def restore_colour(y: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    """RGB (3,H,W) from a fused luminance (1,H,W or H,W) and the source's CbCr (2,H,W), clipped to 0..255."""
    from ..imaging.color import ycrcb_to_rgb

    y2 = np.asarray(y, dtype=np.float64).reshape(cbcr.shape[-2:])
    ycrcb = np.stack([y2, cbcr[1].astype(np.float64), cbcr[0].astype(np.float64)])
    return np.clip(np.asarray(ycrcb_to_rgb(ycrcb, delta=COLOUR_DELTA)), 0.0, 255.0)


def write_image(path: Path, image: np.ndarray) -> None:
    """Save (H, W) grey or (H, W, 3) RGB values in 0..255 as an 8-bit image (rounded half up, clipped).

    Pixel layout (not channel-first) on purpose: a (3, W, 3) array would otherwise be ambiguous.
    """
    from PIL import Image

    arr = np.asarray(image, dtype=np.float64)
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"{path}: expected an (H, W) or (H, W, 3) image, got shape {arr.shape}")
    Image.fromarray(np.clip(np.floor(arr + 0.5), 0, 255).astype(np.uint8)).save(path)
