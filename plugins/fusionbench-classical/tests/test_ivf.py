"""IVF/MIF baselines (VIFB's MATLAB baselines): identities, a SciPy reference for GFF, and VIFB's own GFF images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionbench import FusionBatch
from fusionbench.imaging.color import rgb_to_ycrcb
from fusionbench.imaging.matlab import fspecial_gaussian
from fusionbench.specs import DataCard
from fusionbench_classical.gff import GFF, box_sum, gff, guided_filter
from fusionbench_classical.ivf import DWT, Average, LaplacianPyramid, MaxAbs

CARD = DataCard(sensor="ivf", max_value=255.0)


def _pair(a: torch.Tensor, b: torch.Tensor, fields=("ir", "vi")) -> FusionBatch:
    return FusionBatch(("x",) * a.shape[0], {fields[0]: a, fields[1]: b}, CARD)


def _image(seed: int, h: int, w: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.floor(255 * torch.rand(1, 1, h, w, generator=g, dtype=torch.float64))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), h=st.integers(9, 70), w=st.integers(9, 70))
@pytest.mark.parametrize("method", [Average(), MaxAbs(), DWT(), DWT("haar", 5), LaplacianPyramid(), GFF()], ids=repr)
def test_fusing_an_image_with_itself_returns_it(method, seed, h, w):
    x = _image(seed, h, w)
    torch.testing.assert_close(method.fuse(_pair(x, x)), x, rtol=0, atol=1e-9)


def test_average_and_max_abs():
    a, b = _image(1, 8, 9), _image(2, 8, 9)
    torch.testing.assert_close(Average().fuse(_pair(a, b)), (a + b) / 2)
    torch.testing.assert_close(MaxAbs().fuse(_pair(a, b, ("mri", "other"))), torch.maximum(a, b))
    torch.testing.assert_close(MaxAbs().fuse(_pair(-a, b)), torch.where(a >= b, -a, b))


def test_multiscale_rules_pick_the_stronger_detail():
    """A step edge in one source and a flat other source: averaging halves the step (100), the
    max-abs detail rule keeps it at full height (~200) across the edge."""
    edge = torch.zeros(1, 1, 32, 32, dtype=torch.float64)
    edge[..., 13:] = 200.0
    flat = torch.full_like(edge, 100.0)
    for method in (DWT("haar", 3), DWT("db2", 3), LaplacianPyramid(3)):
        out = method.fuse(_pair(edge, flat))
        step = float(out[..., 8, 13] - out[..., 8, 12])
        assert step > 180.0, (repr(method), step)
    with pytest.raises(ValueError, match="unknown discrete wavelet"):
        DWT("nope")


def test_box_sum_counts_clipped_windows():
    x = torch.rand(1, 1, 7, 11, dtype=torch.float64)
    r = 2
    padded = torch.nn.functional.pad(x, (r, r, r, r))
    brute = torch.nn.functional.avg_pool2d(padded, 2 * r + 1, stride=1) * (2 * r + 1) ** 2
    torch.testing.assert_close(box_sum(x, r), brute)
    torch.testing.assert_close(
        box_sum(torch.ones(1, 1, 7, 11, dtype=torch.float64), 50), torch.full((1, 1, 7, 11), 77.0, dtype=torch.float64)
    )


def test_guided_filter_keeps_constants_and_edges():
    guide = torch.zeros(1, 1, 20, 20, dtype=torch.float64)
    guide[..., 10:] = 1.0
    torch.testing.assert_close(guided_filter(guide, torch.full_like(guide, 0.4), 3, 1e-3), torch.full_like(guide, 0.4))
    # with a tiny eps the filter reproduces an input that is a linear function of the guide
    torch.testing.assert_close(guided_filter(guide, 2 * guide + 1, 3, 1e-9), 2 * guide + 1, rtol=1e-6, atol=1e-6)


def _matlab_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 0, 255)


def _gff_reference(sources: list[np.ndarray]) -> np.ndarray:
    """VIFB's GFF.m in SciPy terms: 'nearest' = MATLAB 'replicate'; guided filter with
    window means over the in-image pixels."""

    def mean(x, r):
        size = 2 * r + 1
        return ndi.uniform_filter(x, size, mode="constant") / ndi.uniform_filter(np.ones_like(x), size, mode="constant")

    def gf(i, p, r, eps):
        mi, mp = mean(i, r), mean(p, r)
        a = (mean(i * p, r) - mi * mp) / (mean(i * i, r) - mi * mi + eps)
        b = mp - a * mi
        return mean(a, r) * i + mean(b, r)

    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
    bases = [ndi.uniform_filter(s, 31, mode="nearest") for s in sources]
    sal = np.stack(
        [
            ndi.correlate(np.abs(ndi.correlate(s, lap, mode="nearest")), fspecial_gaussian(11, 5), mode="nearest")
            for s in sources
        ]
    )
    winner = sal.argmax(axis=0)
    masks = [(winner == n).astype(float) for n in range(len(sources))]

    def weights(r, eps):
        w = np.stack([_matlab_uint8(gf(s, m, r, eps) * 255) / 255 + 1e-12 for s, m in zip(sources, masks)])
        return w / w.sum(axis=0)

    wb, wd = weights(45, 0.3), weights(7, 1e-6)
    return sum(wb[n] * bases[n] + wd[n] * (sources[n] - bases[n]) for n in range(len(sources)))


def test_gff_matches_scipy_reference():
    rng = np.random.default_rng(3)
    coarse = ndi.zoom(rng.random((6, 8)), 10, order=3)[:57, :71]
    a = np.clip(coarse + 0.05 * rng.random((57, 71)), 0, 1)
    b = np.clip(1 - coarse + 0.2 * (rng.random((57, 71)) > 0.9), 0, 1)
    ours = gff(torch.from_numpy(np.stack([a, b]))[:, None, None])[0, 0].numpy()
    np.testing.assert_allclose(ours, _gff_reference([a, b]), rtol=0, atol=1e-10)
    quantised = GFF().fuse(_pair(torch.from_numpy(a * 255)[None, None], torch.from_numpy(b * 255)[None, None]))
    np.testing.assert_array_equal(quantised[0, 0].numpy(), _matlab_uint8(ours * 255))


# -- VIFB: our GFF vs VIFB's published GFF outputs -------------------------------------------------
def _rgb(path: Path) -> torch.Tensor:
    from PIL import Image

    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float64).transpose(2, 0, 1).copy())


def _luma(path: Path) -> torch.Tensor:
    return rgb_to_ycrcb(_rgb(path))[None, :1]


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(255.0**2 / ((a - b) ** 2).mean()))


def vifb_gff_psnr(root: Path) -> dict[str, float]:
    """PSNR (dB, luminance) of our GFF on each VIFB pair against VIFB's GFF image.

    Pairs whose IR file is single-channel are skipped: for those VIFB's colour GFF image carries
    the IR in its green channel and the visible R/B (a quirk of its colour handling, not fusion).
    """
    from PIL import Image

    out = {}
    for vi_path in sorted((root / "input" / "VI").glob("*.jpg")):
        ir_path = root / "input" / "IR" / vi_path.name
        if Image.open(ir_path).mode != "RGB":
            continue
        fused = GFF().fuse(_pair(_luma(ir_path), _luma(vi_path)))
        out[vi_path.stem] = _psnr(fused, _luma(root / "fused" / f"{vi_path.stem}_GFF.jpg"))
    return out


def test_gff_reproduces_vifb_gff_images(shared_data):
    scores = vifb_gff_psnr(shared_data / "ivf" / "vifb")
    assert len(scores) == 17
    values = np.array(list(scores.values()))
    print("\nVIFB GFF luminance PSNR (dB):", {k: round(v, 2) for k, v in scores.items()})
    print(f"mean {values.mean():.2f}  median {np.median(values):.2f}  min {values.min():.2f}")
    # JPEG-level agreement: a wrong constant (radius, eps, sigma, quantisation) costs > 10 dB
    assert np.median(values) > 45.0
    assert values.min() > 30.0
