"""MHIF metrics: SSIM as the Deng-group MATLAB package computes it, plus the shared
PSNR/SAM/ERGAS definitions on [0,1] hyperspectral cubes (synthetic: no real HSI sample exists)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as sps
import torch

from fusionbench.imaging.matlab import fspecial_gaussian
from fusionbench.metrics.mhif import SSIM
from fusionbench.metrics.pansharpening import ERGAS, PSNR, SAM
from fusionbench.specs import DataCard

CARD = DataCard(sensor="CAVE", ratio=4, bands=31, max_value=1.0)


def _cube(seed: int, bands: int = 31, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    base = np.stack([0.5 + 0.3 * np.sin(6 * xx + b / 5) * np.cos(4 * yy - b / 7) for b in range(bands)])
    return np.clip(base + rng.normal(0, 0.02, base.shape), 0, 1)


def _ssim_index(a: np.ndarray, b: np.ndarray) -> float:
    """Wang's ssim_index.m, transcribed: Gaussian 11/1.5, filter2 'valid', L = 255."""
    w = fspecial_gaussian(11, 1.5)
    f = lambda x: sps.correlate2d(x, w, "valid")  # noqa: E731
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1**2, f(b * b) - mu2**2, f(a * b) - mu1 * mu2
    return float((((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))).mean())


def test_ssim_matches_transcription() -> None:
    gt, sr = _cube(0), _cube(1)
    ref = np.mean([_ssim_index(gt[b] * 255, sr[b] * 255) for b in range(31)])
    got = SSIM()(torch.from_numpy(sr)[None], torch.from_numpy(gt)[None], {}, CARD).item()
    assert got == pytest.approx(ref, rel=1e-9)
    assert SSIM()(torch.from_numpy(gt)[None], torch.from_numpy(gt)[None], {}, CARD).item() == pytest.approx(
        1.0, abs=1e-12
    )


def test_ssim_data_range_is_a_rescale() -> None:
    gt, sr = _cube(2, 8), _cube(3, 8)
    card = DataCard(bands=8, max_value=2047.0)
    a = SSIM()(torch.from_numpy(sr * 2047)[None], torch.from_numpy(gt * 2047)[None], {}, card).item()
    b = SSIM(data_range=1)(torch.from_numpy(sr)[None], torch.from_numpy(gt)[None], {}, card).item()
    assert a == pytest.approx(b, rel=1e-9)


def test_shared_definitions_on_hsi() -> None:
    gt, sr = _cube(4), _cube(5)
    g, s = torch.from_numpy(gt)[None], torch.from_numpy(sr)[None]
    psnr = np.mean([10 * np.log10(1 / np.mean((gt[b] - sr[b]) ** 2)) for b in range(31)])
    assert PSNR()(s, g, {}, CARD).item() == pytest.approx(psnr, rel=1e-9)
    ergas8 = ERGAS(ratio=8)(s, g, {}, CARD).item()
    assert ERGAS()(s, g, {}, CARD).item() == pytest.approx(2 * ergas8, rel=1e-12)  # 100/ratio
    cos = (gt * sr).sum(0) / np.sqrt((gt**2).sum(0) * (sr**2).sum(0))
    assert SAM()(s, g, {}, CARD).item() == pytest.approx(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean(), rel=1e-9)
