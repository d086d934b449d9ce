"""IVF/MIF metrics: VIFB MATLAB values (spec §I.1) for the ``vifb`` profile, and an independent
NumPy transcription of the CDDFuse evaluator (spec §D.3) for the ``cddfuse`` profile, on the real
images in ../shared/data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps
import torch
from PIL import Image

from fusionbench.imaging.color import rgb2gray_cddfuse
from fusionbench.imaging.matlab import fspecial_gaussian
from fusionbench.metrics import ivf
from fusionbench.specs import DataCard

CARD = DataCard(max_value=255.0)


def _read(path: Path) -> np.ndarray:
    a = np.asarray(Image.open(path).convert("RGB") if Image.open(path).mode not in ("L", "RGB") else Image.open(path))
    return a.astype(np.float64)


def _chw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a[..., None] if a.ndim == 2 else a).transpose(2, 0, 1))[None]


def _grey(path: Path) -> np.ndarray:
    """The CDDFuse evaluator's read (BGR2GRAY on float32, np.round)."""
    a = _read(path)
    return a if a.ndim == 2 else rgb2gray_cddfuse(a.transpose(2, 0, 1))


# -- VIFB (MATLAB) values -----------------------------------------------------------------------
VIFB_VALUES = {  # spec §I.1, MATLAB output at printed precision
    ("carLight", "GFF"): {
        "en": 7.5117, "sd": 51.682, "ag": 2.3055, "sf": 10.368, "mi": 3.0793, "ssim-fusion": 1.5882,
        "qabf": 0.6698, "psnr-fusion": 59.407,
    },
    ("kettle", "ADF"): {"en": 7.1621, "sf": 17.004, "mi": 2.4209, "ssim-fusion": 1.3316, "qabf": 0.7056, "psnr-fusion": 58.300},
}
CLASSES = {c.name: c for c in (ivf.EN, ivf.SD, ivf.AG, ivf.SF, ivf.MI, ivf.SSIMFusion, ivf.PSNRFusion, ivf.Qabf)}


def _vifb(shared_data: Path, image: str, method: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    root = shared_data / "ivf" / "vifb"
    fused = _chw(_read(root / "fused" / f"{image}_{method}.jpg"))
    vi = _chw(_read(root / "input" / "VI" / f"{image}.jpg"))
    ir = _chw(np.asarray(Image.open(root / "input" / "IR" / f"{image}.jpg")).astype(np.float64))
    return fused, {"vi": vi, "ir": ir}


@pytest.mark.parametrize("image,method", sorted(VIFB_VALUES))
def test_vifb_profile_matches_matlab(shared_data: Path, image: str, method: str) -> None:
    fused, inputs = _vifb(shared_data, image, method)
    assert fused.shape[1] == 3  # colour: per-channel scoring
    for name, expected in VIFB_VALUES[(image, method)].items():
        got = CLASSES[name](profile="vifb")(fused, None, inputs, CARD).item()
        digits = len(f"{expected:.5g}".replace(".", "").lstrip("0"))  # 5 significant digits printed
        assert got == pytest.approx(expected, abs=0.5 * 10 ** (math.floor(math.log10(abs(expected))) - digits + 1) + 1e-12), name


# -- CDDFuse evaluator, transcribed in NumPy from spec §D.3 ------------------------------------
def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    return float((da * db).sum() / np.sqrt((da**2).sum() * (db**2).sum()))


def _mi_nats(x: np.ndarray, y: np.ndarray) -> float:
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(joint, (xi.ravel(), yi.ravel()), 1)
    p = joint / joint.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (px @ py)[nz])).sum())


def _vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1
        win = fspecial_gaussian(n, n / 5)
        f = lambda x: sps.convolve2d(x, np.rot90(win, 2), "valid")  # noqa: E731
        if scale > 1:
            ref, dist = f(ref)[::2, ::2], f(dist)[::2, ::2]
        mu1, mu2 = f(ref), f(dist)
        s1 = np.maximum(f(ref * ref) - mu1**2, 0)
        s2 = np.maximum(f(dist * dist) - mu2**2, 0)
        s12 = f(ref * dist) - mu1 * mu2
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        m = s1 < 1e-10
        g[m], sv[m], s1[m] = 0, s2[m], 0
        m = s2 < 1e-10
        g[m], sv[m] = 0, 0
        m = g < 0
        sv[m], g[m] = s2[m], 0
        sv[sv <= 1e-10] = 1e-10
        num += np.log10(1 + g * g * s1 / (sv + 2)).sum()
        den += np.log10(1 + s1 / 2).sum()
    v = num / den
    return 1.0 if np.isnan(v) else float(v)


def _qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    def edges(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sx = sps.convolve2d(x, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "same")
        sy = sps.convolve2d(x, np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]), "same")
        alpha = np.full_like(x, math.pi / 2)
        nz = sx != 0
        alpha[nz] = np.arctan(sy[nz] / sx[nz])
        return np.sqrt(sx**2 + sy**2), alpha

    def pair(gx, ax, gf, af):  # type: ignore[no-untyped-def]
        g = np.zeros_like(gx)
        m = gx > gf
        g[m] = gf[m] / gx[m]
        m = gx == gf
        g[m] = gf[m]
        m = gx < gf
        g[m] = gx[m] / gf[m]
        a_ = 1 - np.abs(ax - af) / (math.pi / 2)
        return 0.9994 / (1 + np.exp(-15 * (g - 0.5))) * 0.9879 / (1 + np.exp(-22 * (a_ - 0.8)))

    (ga, aa), (gb, ab), (gf, af) = edges(a), edges(b), edges(f)
    return float((pair(ga, aa, gf, af) * ga + pair(gb, ab, gf, af) * gb).sum() / (ga + gb).sum())


def _ssim_skimage(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """skimage structural_similarity defaults: uniform 7x7, sample covariance, crop 3."""
    f = lambda z: ndi.uniform_filter(z, 7)  # noqa: E731
    cov = 49 / 48
    ux, uy = f(x), f(y)
    vx, vy, vxy = cov * (f(x * x) - ux**2), cov * (f(y * y) - uy**2), cov * (f(x * y) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return float(s[3:-3, 3:-3].mean())


def _nabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    k = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8

    def edges(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gv = ndi.correlate(x, k, mode="grid-wrap")
        gh = ndi.correlate(x, k.T, mode="grid-wrap")
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where((gv == 0) & (gh == 0), 0.0, np.arctan(gv / gh))
        return np.sqrt(gv**2 + gh**2), alpha

    def pair(gx, ax, gf, af):  # type: ignore[no-untyped-def]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where((gx == 0) | (gf == 0), 0.0, np.minimum(gx, gf) / np.maximum(gx, gf))
        a_ = np.abs(np.abs(ax - af) - math.pi / 2) * 2 / math.pi
        return np.sqrt(0.9999 / (1 + np.exp(-19 * (g - 0.5))) * 0.9995 / (1 + np.exp(-22 * (a_ - 0.5))))

    (ga, aa), (gb, ab), (gf, af) = edges(a), edges(b), edges(f)
    wa = np.where(ga >= 2, ga**1.5, 0.001)
    wb = np.where(gb >= 2, gb**1.5, 0.001)
    na = (gf > ga) & (gf > gb)
    return float((na * ((1 - pair(ga, aa, gf, af)) * wa + (1 - pair(gb, ab, gf, af)) * wb)).sum() / (wa + wb).sum())


def cddfuse_reference(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    h = np.bincount(np.uint8(np.round(f)).ravel()) / f.size
    gx, gy = np.zeros_like(f), np.zeros_like(f)
    gx[:, 0], gx[:, -1], gx[:, 1:-1] = f[:, 1] - f[:, 0], f[:, -1] - f[:, -2], (f[:, 2:] - f[:, :-2]) / 2
    gy[0], gy[-1], gy[1:-1] = f[1] - f[0], f[-1] - f[-2], (f[2:] - f[:-2]) / 2
    mse = (np.mean((a - f) ** 2) + np.mean((b - f) ** 2)) / 2
    return {
        "en": float(-(h[h > 0] * np.log2(h[h > 0])).sum()),
        "sd": float(np.std(f)),
        "sf": float(np.sqrt(np.mean((f[:, 1:] - f[:, :-1]) ** 2) + np.mean((f[1:] - f[:-1]) ** 2))),
        "ag": float(np.mean(np.sqrt((gx**2 + gy**2) / 2))),
        "mi": _mi_nats(f, a) + _mi_nats(f, b),
        "cc": (_pearson(a, f) + _pearson(b, f)) / 2,
        "psnr-fusion": float(10 * np.log10(f.max() ** 2 / mse)),
        "scd": _pearson(a, f - b) + _pearson(b, f - a),
        "vif": _vifp(a, f) + _vifp(b, f),
        "qabf": _qabf(f, a, b),
        "ssim-fusion": _ssim_skimage(f, a, 2.0) + _ssim_skimage(f, b, 2.0),
        "nabf": _nabf(f, a, b),
    }


ALL = (ivf.EN, ivf.SD, ivf.SF, ivf.AG, ivf.MI, ivf.CC, ivf.PSNRFusion, ivf.SCD, ivf.VIF, ivf.Qabf, ivf.SSIMFusion, ivf.Nabf)
PAIRS = [
    ("ivf/tno", "ir", "vi", "18.png"),
    ("ivf/roadscene", "ir", "vi", "FLIR_00211.jpg"),
    ("mif/MRI_PET", "PET", "MRI", "11.png"),
]


@pytest.mark.parametrize("folder,a_dir,b_dir,name", PAIRS)
def test_cddfuse_profile_matches_numpy_transcription(shared_data: Path, folder: str, a_dir: str, b_dir: str, name: str) -> None:
    a = _grey(shared_data / folder / a_dir / name)[:160, :200]  # a real crop keeps the NumPy side quick
    b = _grey(shared_data / folder / b_dir / name)[:160, :200]
    fused = np.round(np.maximum(a, b) * 0.6 + np.minimum(a, b) * 0.4)  # a simple, saved-as-uint8 fusion
    ref = cddfuse_reference(fused, a, b)
    keys = ("other", "mri") if folder.startswith("mif") else ("ir", "vi")
    inputs = {keys[0]: _chw(a), keys[1]: _chw(b)}
    for m in ALL:
        got = m()(_chw(fused), None, inputs, CARD).item()
        assert got == pytest.approx(ref[m.name], rel=1e-6), m.name


@pytest.mark.filterwarnings("ignore:Clustering metrics expects discrete values")
def test_mi_matches_scikit_learn(shared_data: Path) -> None:
    skm = pytest.importorskip("sklearn.metrics")
    a = _grey(shared_data / "ivf/tno/ir/07.png")
    b = _grey(shared_data / "ivf/tno/vi/07.png")
    f = np.round((a + b) / 2)
    ref = skm.mutual_info_score(f.ravel(), a.ravel()) + skm.mutual_info_score(f.ravel(), b.ravel())
    assert ivf.MI()(_chw(f), None, {"ir": _chw(a), "vi": _chw(b)}, CARD).item() == pytest.approx(ref, rel=1e-9)
    # non-integer values (quantize='none') fall back to distinct-value labels, like scikit-learn
    g = f + 0.25
    ref = skm.mutual_info_score(g.ravel(), a.ravel()) + skm.mutual_info_score(g.ravel(), b.ravel())
    got = ivf.MI(quantize="none")(_chw(g), None, {"ir": _chw(a), "vi": _chw(b)}, DataCard(max_value=1.0)).item()
    assert got == pytest.approx(ref, rel=1e-9)


def test_quantize_rules() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (1, 1, 50, 50)).astype(np.float64) for _ in range(2))
    f = (a + b) / 2 + 0.3
    inputs = {"ir": torch.from_numpy(a), "vi": torch.from_numpy(b)}
    sd = lambda q, x: ivf.SD(quantize=q)(torch.from_numpy(x), None, inputs, CARD).item()  # noqa: E731
    assert sd("round", f) == pytest.approx(np.std(np.round(f)), rel=1e-12)
    assert sd("trunc", f) == pytest.approx(np.std(np.floor(f)), rel=1e-12)
    assert sd("none", f) == pytest.approx(np.std(f), rel=1e-12)
    assert sd("round", f * 3) == pytest.approx(np.std(np.clip(np.round(f * 3), 0, 255)), rel=1e-12)


def test_vifb_grey_sf_and_ag_normalisation() -> None:
    rng = np.random.default_rng(1)
    f = rng.integers(0, 256, (30, 40)).astype(np.float64)
    t = _chw(f)
    sf = np.sqrt((((f[:, 1:] - f[:, :-1]) ** 2).sum() + ((f[1:] - f[:-1]) ** 2).sum()) / f.size)
    assert ivf.SF(profile="vifb")(t, None, {}, CARD).item() == pytest.approx(sf, rel=1e-12)
    gy, gx = np.gradient(f)
    ag = np.sqrt((gx**2 + gy**2) / 2).sum() / (29 * 39)
    assert ivf.AG(profile="vifb")(t, None, {}, CARD).item() == pytest.approx(ag, rel=1e-12)
    rgb = np.stack([f, f[::-1], f[:, ::-1]])  # colour: SF of the channels laid side by side
    wide = np.concatenate(list(rgb), axis=1)
    sf3 = np.sqrt((((wide[:, 1:] - wide[:, :-1]) ** 2).sum() + ((wide[1:] - wide[:-1]) ** 2).sum()) / wide.size)
    assert ivf.SF(profile="vifb")(torch.from_numpy(rgb)[None], None, {}, CARD).item() == pytest.approx(sf3, rel=1e-12)


def test_ssim_data_range_parameter() -> None:
    rng = np.random.default_rng(2)
    a, b = (rng.integers(0, 256, (40, 40)).astype(np.float64) for _ in range(2))
    f = np.round((a + b) / 2)
    inputs = {"ir": _chw(a), "vi": _chw(b)}
    m = ivf.SSIMFusion(data_range=255)
    assert m.effective_data_range == 255.0 and ivf.SSIMFusion().effective_data_range == 2.0
    assert ivf.SSIMFusion(profile="vifb").effective_data_range == 255.0
    ref = _ssim_skimage(f, a, 255.0) + _ssim_skimage(f, b, 255.0)
    assert m(_chw(f), None, inputs, CARD).item() == pytest.approx(ref, rel=1e-9)
