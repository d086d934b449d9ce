"""Synthetic spectral scenes: remote-sensing MS/PAN (pansharpening) and indoor HSI/RGB (MHIF).

Why a scene model and not noise: methods can only be *ranked* on data with the structure they
exploit — smooth regions, sharp man-made edges, textures, and spectra correlated across bands
because they come from materials. A scene is a set of abundance maps (natural cover mixed
softly, buildings/roads/objects with hard edges) times per-material reflectance spectra sampled
at the bands' centre wavelengths, modulated by texture, illumination and shadows. The sensor side
is then exactly the benchmark's: PAN is a spectral-response-weighted sum of the high-resolution
bands (plus a small material-dependent residual, since no real PAN is an exact combination of the
MS bands), and the low-resolution MS comes from the sensor's MTF-matched Wald degradation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .synth_fields import ellipse, fractal_texture, line_mask, quantize, rotated_rect, smooth_field, softmax


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gauss(lam: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((lam - mu) / sd) ** 2)


def reflectance(material: str, lam: np.ndarray) -> np.ndarray:
    """Smooth stand-in reflectance curves (0..1) of common materials at wavelengths ``lam`` (nm)."""
    t = (lam - 400.0) / 600.0
    curves = {
        "vegetation": 0.03 + 0.07 * _gauss(lam, 550, 30) + 0.42 * _sig((lam - 715) / 14) - 0.02 * _gauss(lam, 670, 20),
        "dry_grass": 0.08 + 0.22 * _sig((lam - 610) / 45) + 0.12 * _sig((lam - 715) / 20),
        "soil": 0.07 + 0.28 * t + 0.03 * _gauss(lam, 600, 80),
        "water": 0.07 * np.exp(-(lam - 400) / 120) + 0.01,
        "concrete": 0.28 + 0.06 * t,
        "asphalt": 0.07 + 0.03 * t,
        "red_roof": 0.06 + 0.30 * _sig((lam - 590) / 18) + 0.05 * t,
        "metal_roof": 0.22 + 0.10 * _gauss(lam, 470, 60) + 0.04 * t,
    }
    try:
        return np.clip(curves[material], 0.005, 1.0)
    except KeyError:
        raise KeyError(f"unknown material {material!r}; known: {sorted(curves)}") from None


NATURAL = ("vegetation", "dry_grass", "soil", "water")
ROOFS = ("concrete", "red_roof", "metal_roof")
TEXTURE = {
    "vegetation": 0.18,
    "dry_grass": 0.10,
    "soil": 0.08,
    "water": 0.02,
    "concrete": 0.05,
    "asphalt": 0.05,
    "red_roof": 0.05,
    "metal_roof": 0.04,
}


@dataclass(frozen=True)
class BandModel:
    """Centre wavelengths of the MS bands and the PAN's spectral window (nm)."""

    centres: tuple[float, ...]
    pan_window: tuple[float, float] = (450.0, 800.0)

    def pan_weights(self) -> np.ndarray:
        """Weight of each band in the PAN: how much of its response falls in the PAN window."""
        lam = np.asarray(self.centres)
        lo, hi = self.pan_window
        w = _sig((lam - lo) / 15.0) * _sig((hi - lam) / 15.0)
        return w / w.sum()


# Generator parameters (not sensor constants used by metrics: those are in fusionbench.sensors).
BAND_MODELS: dict[str, BandModel] = {
    "WV3": BandModel((425, 480, 545, 605, 660, 725, 833, 950), (450, 800)),
    "WV2": BandModel((425, 480, 545, 605, 660, 725, 833, 950), (450, 800)),
    "QB": BandModel((485, 560, 660, 830), (450, 900)),
    "GF2": BandModel((485, 555, 660, 830), (450, 900)),
}


def remote_sensing_scene(
    rng: np.random.Generator, size: int, bands: BandModel, max_value: float
) -> tuple[np.ndarray, np.ndarray]:
    """One scene at PAN resolution: (ms_hr (C,S,S), pan (1,S,S)), integer DN in [0, max_value]."""
    shape = (size, size)
    lam = np.asarray(bands.centres, dtype=np.float64)
    materials = list(NATURAL) + ["asphalt", *ROOFS]
    spectra = np.stack([reflectance(m, lam) for m in materials])  # (K, C)
    spectra *= rng.uniform(0.9, 1.1, size=(len(materials), 1))  # per-image material brightness

    # natural cover: soft abundances from smooth random fields (mixed pixels at boundaries)
    scale = size / 128.0
    nat = np.stack([smooth_field(rng, shape, rng.uniform(6, 14) * scale) for _ in NATURAL])
    nat[3] -= 1.2  # water is rarer
    abundance = np.zeros((len(materials), *shape))
    abundance[: len(NATURAL)] = softmax(nat, temperature=rng.uniform(0.15, 0.35))

    def paint(mask: np.ndarray, k: int) -> None:
        abundance[:, mask] = 0.0
        abundance[k, mask] = 1.0

    shadow = np.zeros(shape, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):  # roads
        paint(
            line_mask(
                shape, rng.uniform(0, size), rng.uniform(0, size), rng.uniform(0, np.pi), rng.uniform(1.0, 3.0) * scale
            ),
            4,
        )
    for _ in range(int(rng.integers(5, 14) * scale * scale)):  # buildings with cast shadows
        cy, cx = rng.uniform(0, size, 2)
        h, w = rng.uniform(3, 12, 2) * scale
        ang = rng.choice([0.0, rng.uniform(0, np.pi)])
        dy, dx = rng.uniform(1.5, 4.0) * scale, rng.uniform(1.0, 3.0) * scale
        shadow |= rotated_rect(shape, cy + dy, cx + dx, h, w, ang)
        paint(rotated_rect(shape, cy, cx, h, w, ang), 5 + int(rng.integers(0, len(ROOFS))))
    for _ in range(int(rng.integers(10, 30) * scale * scale)):  # trees
        r = rng.uniform(1.5, 4.0) * scale
        paint(ellipse(shape, *rng.uniform(0, size, 2), r, r), 0)

    texture = np.stack([fractal_texture(rng, shape) for _ in range(2)])
    amp = np.array([TEXTURE[m] for m in materials])
    brightness = 1.0 + np.tensordot(amp, abundance, axes=1) * texture[0]
    illumination = (1.0 + 0.08 * smooth_field(rng, shape, 20 * scale)) * np.where(shadow, 0.45, 1.0)

    cube = np.tensordot(spectra.T, abundance, axes=1)  # (C,S,S) reflectance
    cube *= brightness * illumination
    cube *= 1.0 + 0.02 * texture[1] * np.linspace(-1, 1, len(lam))[:, None, None]  # slight spectral variability

    gain = 0.85 * max_value / 0.5
    offset = (0.03 * max_value) * np.exp(-(lam - 400) / 250)[:, None, None]  # path radiance, bluer bands higher
    radiance = cube * gain + offset
    # PAN: response-weighted sum of the HR bands + a material-dependent residual (not an exact combination)
    residual = np.tensordot(rng.normal(0.0, 0.04, len(materials)), abundance, axes=1)
    pan = np.tensordot(bands.pan_weights(), radiance, axes=1) * (1.0 + residual)
    noise = 0.002 * max_value
    ms = quantize(radiance + rng.normal(0.0, noise, radiance.shape), max_value)
    pan = quantize(pan + rng.normal(0.0, noise, pan.shape), max_value)
    return ms, pan[None]


def hsi_wavelengths(bands: int = 31) -> np.ndarray:
    """CAVE-like sampling: 400–700 nm in 10 nm steps for 31 bands."""
    return np.linspace(400.0, 700.0, bands)


def camera_srf(lam: np.ndarray) -> np.ndarray:
    """A stand-in RGB camera response (3, C), rows R, G, B normalised to sum 1."""
    srf = np.stack([_gauss(lam, 600, 35), _gauss(lam, 540, 35), _gauss(lam, 460, 30)])
    return srf / srf.sum(axis=1, keepdims=True)


def indoor_hsi_scene(rng: np.random.Generator, size: int, bands: int = 31) -> np.ndarray:
    """A CAVE-like scene (C,S,S) in [0, 1]: painted objects on a textured background, shaded."""
    shape = (size, size)
    lam = hsi_wavelengths(bands)
    scale = size / 128.0
    background = 0.05 + 0.15 * _sig((lam - rng.uniform(450, 650)) / 60) * rng.uniform(0.3, 1.0)
    cube = background[:, None, None] * (1.0 + 0.1 * fractal_texture(rng, shape))[None]
    for _ in range(int(rng.integers(5, 10))):
        # a "paint": a saturated reflectance peak, or a broad grey/neutral object
        if rng.random() < 0.75:
            spec = 0.04 + rng.uniform(0.3, 0.8) * _gauss(lam, rng.uniform(420, 690), rng.uniform(20, 70))
        else:
            spec = np.full_like(lam, rng.uniform(0.2, 0.8))
        cy, cx = rng.uniform(0.1, 0.9, 2) * size
        if rng.random() < 0.5:
            mask = ellipse(shape, cy, cx, *(rng.uniform(6, 28, 2) * scale), rng.uniform(0, np.pi))
        else:
            mask = rotated_rect(shape, cy, cx, *(rng.uniform(5, 22, 2) * scale), rng.uniform(0, np.pi))
        tex = 1.0 + rng.uniform(0.0, 0.15) * fractal_texture(rng, shape)
        cube[:, mask] = (spec[:, None, None] * tex[None])[:, mask]
    shading = np.clip(0.75 + 0.25 * smooth_field(rng, shape, 24 * scale), 0.3, 1.2)
    return np.clip(cube * shading[None], 0.0, 1.0)
