"""Synthetic infrared–visible and MRI–CT/PET/SPECT pairs (8-bit, partially complementary content).

IVF: both images show the same geometry (ground, sky, buildings, people, vehicles). The infrared
image is smooth, with hot targets (people, engines) bright against a cool background and little
texture; the visible image carries texture, fine detail and shadows, but its targets are dim (a
night-like darkening over part of the frame). A good fusion must keep both, which is what
the IVF metrics reward. The visible image is colour (regions with their own hues) unless
``colour=False``.

MIF: an MRI-like slice (soft-tissue contrast, gyri texture, ventricles) paired with CT (bright
skull, flat soft tissue), PET or SPECT (smooth functional blobs at low resolution, shown with a
pseudo-colour map as the real Harvard images are).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .synth_fields import ellipse, fractal_texture, grid, quantize, rotated_rect, smooth_field, soft_blob


def ivf_pair(rng: np.random.Generator, size: tuple[int, int], colour: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(ir (H,W), vi (H,W,3) or (H,W)) with values 0..255 (integers)."""
    H, W = size
    y, x = grid(size)
    horizon = rng.uniform(0.3, 0.45) * H
    sky = y < horizon + 4 * smooth_field(rng, size, 20)
    tex = fractal_texture(rng, size)

    # visible: textured ground and buildings, smooth sky, per-region hues
    vi = np.empty((H, W, 3))
    sky_rgb = np.array([110, 140, 190]) * rng.uniform(0.6, 1.1)
    ground_rgb = np.array([90, 110, 70]) * rng.uniform(0.7, 1.2)
    vi[:] = ground_rgb
    vi[sky] = sky_rgb
    ir = np.where(sky, 40.0, 95.0) + 6.0 * smooth_field(rng, size, 12)
    lum_tex = 1.0 + 0.22 * tex
    buildings = np.zeros(size, dtype=bool)
    for _ in range(int(rng.integers(3, 7))):
        w, h = rng.uniform(0.06, 0.16) * W, rng.uniform(0.12, 0.3) * H
        cx = rng.uniform(0, W)
        mask = (np.abs(x - cx) <= w) & (y >= horizon - h) & (y <= horizon + 0.15 * H)
        buildings |= mask
        vi[mask] = np.array([150, 140, 130]) * rng.uniform(0.6, 1.2)
        ir[mask] = rng.uniform(70, 110)
        # windows: fine detail only the visible camera resolves
        win = mask & (np.sin(x * rng.uniform(0.8, 1.4)) > 0.6) & (np.sin(y * rng.uniform(0.8, 1.4)) > 0.5)
        vi[win] *= 0.55
    for _ in range(int(rng.integers(1, 3))):  # road stripe
        band = np.abs(y - rng.uniform(horizon + 0.2 * H, H)) < rng.uniform(3, 8)
        vi[band] = [70, 70, 75]
        ir[band] = rng.uniform(100, 120)
    vi *= lum_tex[..., None]

    # targets: hot in IR, low contrast in the visible image
    for _ in range(int(rng.integers(2, 6))):
        cy, cx = rng.uniform(horizon, H * 0.95), rng.uniform(0.05, 0.95) * W
        if rng.random() < 0.6:  # person
            body = ellipse(size, cy, cx, rng.uniform(6, 12), rng.uniform(2, 4))
            ir[body] = rng.uniform(200, 250)
            vi[body] = vi[body] * 0.7 + np.array([60, 50, 45]) * 0.3
        else:  # vehicle with a hot engine
            car = rotated_rect(size, cy, cx, rng.uniform(4, 7), rng.uniform(8, 14), 0.0)
            ir[car] = rng.uniform(120, 160)
            ir += 90 * soft_blob(size, cy, cx + rng.uniform(-6, 6), 3, 4)
            vi[car] = np.array([30, 30, 120]) * rng.uniform(0.5, 1.5)

    # night-like darkening of part of the visible frame: targets there are IR-only
    dark = 0.25 + 0.75 * (1.0 / (1.0 + np.exp(-(x - rng.uniform(0.3, 0.7) * W) / (0.05 * W))))
    if rng.random() < 0.5:
        dark = dark[:, ::-1]
    vi *= dark[..., None]
    ir = ndimage.gaussian_filter(ir, 1.2) + rng.normal(0, 2.0, size)  # IR optics are blurrier, noisier
    vi = vi + rng.normal(0, 1.5, vi.shape)
    ir_q = quantize(ir, 255.0)
    vi_q = quantize(vi, 255.0)
    if not colour:
        vi_q = quantize(vi_q @ np.array([0.299, 0.587, 0.114]), 255.0)
    return ir_q, vi_q


def _brain_masks(rng: np.random.Generator, size: tuple[int, int]) -> dict[str, np.ndarray]:
    H, W = size
    cy, cx = H / 2 + rng.uniform(-3, 3), W / 2 + rng.uniform(-3, 3)
    ry, rx = rng.uniform(0.40, 0.45) * H, rng.uniform(0.33, 0.38) * W
    head = ellipse(size, cy, cx, ry, rx)
    brain = ellipse(size, cy, cx, ry - 0.05 * H, rx - 0.05 * W)
    skull = head & ~brain
    vent = ellipse(size, cy - 0.03 * H, cx - 0.06 * W, 0.10 * H, 0.03 * W, 0.3) | ellipse(
        size, cy - 0.03 * H, cx + 0.06 * W, 0.10 * H, 0.03 * W, -0.3
    )
    gyri = brain & (fractal_texture(rng, size, (1.0, 2.0, 4.0)) > 0.2)
    return {
        "head": head,
        "brain": brain,
        "skull": skull,
        "ventricles": vent & brain,
        "grey": gyri & ~vent,
        "centre": np.array([cy, cx]),
    }


def _pseudo_colour(v: np.ndarray) -> np.ndarray:
    """A 'hot'-like colour map for 0..1 values, to 0..255 RGB (H,W,3)."""
    r = np.clip(3 * v, 0, 1)
    g = np.clip(3 * v - 1, 0, 1)
    b = np.clip(3 * v - 2, 0, 1)
    return np.stack([r, g, b], -1) * 255.0


def mif_pair(rng: np.random.Generator, size: tuple[int, int], modality: str) -> tuple[np.ndarray, np.ndarray]:
    """(mri (H,W), other (H,W) for CT or (H,W,3) pseudo-colour for PET/SPECT), 0..255 integers."""
    m = _brain_masks(rng, size)
    tex = fractal_texture(rng, size)
    mri = np.zeros(size)
    mri[m["head"]] = 60
    mri[m["brain"]] = 120 + 10 * tex[m["brain"]]
    mri[m["grey"]] = 165 + 12 * tex[m["grey"]]
    mri[m["ventricles"]] = 230
    mri[m["skull"]] = 35
    mri = ndimage.gaussian_filter(mri, 0.7) + rng.normal(0, 2.0, size)
    if modality == "ct":
        ct = np.zeros(size)
        ct[m["head"]] = 70
        ct[m["brain"]] = 90 + 3 * tex[m["brain"]]
        ct[m["skull"]] = 245
        ct[m["ventricles"]] = 60
        return quantize(mri, 255.0), quantize(ndimage.gaussian_filter(ct, 0.8) + rng.normal(0, 1.5, size), 255.0)
    if modality not in ("pet", "spect"):
        raise ValueError(f"modality must be ct, pet or spect, got {modality!r}")
    activity = np.zeros(size)
    cy, cx = m["centre"]
    H, W = size
    for _ in range(int(rng.integers(3, 7))):
        activity += rng.uniform(0.4, 1.0) * soft_blob(
            size, cy + rng.uniform(-0.3, 0.3) * H, cx + rng.uniform(-0.25, 0.25) * W, *(rng.uniform(0.05, 0.12, 2) * H)
        )
    activity = activity * m["brain"] + 0.25 * m["grey"]
    activity = ndimage.gaussian_filter(activity, 4.0 if modality == "spect" else 2.5)
    activity /= activity.max() or 1.0
    return quantize(mri, 255.0), quantize(_pseudo_colour(activity), 255.0)
