"""Random fields and shapes for the synthetic scene generators (deterministic given a Generator).

Kept separate from the generators so the remote-sensing, hyperspectral and IVF/MIF scenes share
one set of building blocks: smooth fields (large regions, illumination), fractal textures,
and anti-aliasing-free hard shapes (man-made edges).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_field(rng: np.random.Generator, size: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise, normalised to zero mean and unit std (periodic borders)."""
    f = ndimage.gaussian_filter(rng.standard_normal(size), sigma, mode="wrap")
    std = f.std()
    return (f - f.mean()) / (std if std > 0 else 1.0)


def fractal_texture(
    rng: np.random.Generator, size: tuple[int, int], sigmas: tuple[float, ...] = (0.6, 1.5, 3.5)
) -> np.ndarray:
    """Sum of smooth fields at several scales (fine detail dominates), unit std."""
    f = sum(smooth_field(rng, size, s) / (1.0 + i) for i, s in enumerate(sigmas))
    return (f - f.mean()) / (f.std() or 1.0)


def grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (y, x) as float arrays."""
    return np.meshgrid(np.arange(size[0], dtype=np.float64), np.arange(size[1], dtype=np.float64), indexing="ij")


def rotated_rect(size: tuple[int, int], cy: float, cx: float, h: float, w: float, angle: float) -> np.ndarray:
    """Boolean mask of a rectangle centred at (cy, cx), half sizes (h, w), rotated by ``angle`` radians."""
    y, x = grid(size)
    c, s = np.cos(angle), np.sin(angle)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    return (np.abs(u) <= w) & (np.abs(v) <= h)


def ellipse(size: tuple[int, int], cy: float, cx: float, ry: float, rx: float, angle: float = 0.0) -> np.ndarray:
    """Boolean mask of an ellipse."""
    y, x = grid(size)
    c, s = np.cos(angle), np.sin(angle)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def line_mask(size: tuple[int, int], y0: float, x0: float, angle: float, half_width: float) -> np.ndarray:
    """Boolean mask of an infinite straight band through (y0, x0)."""
    y, x = grid(size)
    d = -(x - x0) * np.sin(angle) + (y - y0) * np.cos(angle)
    return np.abs(d) <= half_width


def soft_blob(size: tuple[int, int], cy: float, cx: float, sy: float, sx: float) -> np.ndarray:
    """A Gaussian bump with peak 1."""
    y, x = grid(size)
    return np.exp(-0.5 * (((y - cy) / sy) ** 2 + ((x - cx) / sx) ** 2))


def softmax(fields: np.ndarray, temperature: float) -> np.ndarray:
    """Soft assignment of K fields (K,H,W) to abundances summing to 1 per pixel."""
    z = fields / temperature
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


def quantize(x: np.ndarray, max_value: float) -> np.ndarray:
    """Round half up and clip to [0, max_value] (sensor DN / 8-bit pixels are integers)."""
    return np.clip(np.floor(x + 0.5), 0.0, max_value)
