"""IVF/MIF metrics: VIFB MATLAB values for the ``vifb`` profile, and an independent
NumPy transcription of the CDDFuse evaluator (utils/Evaluator.py) for the ``cddfuse`` profile, on the real
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
VIFB_VALUES = {  # VIFB's MATLAB output exactly as printed (strings: the printed digits matter)
    ("carLight", "GFF"): {
        "en": "7.5117",
        "sd": "51.682",
        "ag": "2.3055",
        "sf": "10.368",
        "mi": "3.0793",
        "ssim-fusion": "1.5882",
        "qabf": "0.6698",
        "psnr-fusion": "59.407",
        "rmse": "0.074542",
    },
    ("kettle", "ADF"): {
        "en": "7.1621",
        "sf": "17.004",
        "mi": "2.4209",
        "ssim-fusion": "1.3316",
        "qabf": "0.7056",
        "psnr-fusion": "58.300",
    },
}
CLASSES = {
    c.name: c for c in (ivf.EN, ivf.SD, ivf.AG, ivf.SF, ivf.MI, ivf.SSIMFusion, ivf.PSNRFusion, ivf.Qabf, ivf.RMSE)
}


def printed_tolerance(printed: str) -> float:
    """Half a unit in the last printed place: "58.300" -> 5e-4, "0.074542" -> 5e-7, "17" -> 0.5."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0**-decimals


def test_printed_tolerance_counts_printed_decimals() -> None:
    assert printed_tolerance("58.300") == pytest.approx(5e-4)  # trailing zeros are printed digits
    assert printed_tolerance("0.074542") == pytest.approx(5e-7)
    assert printed_tolerance("10.368") == pytest.approx(5e-4)
    assert printed_tolerance("17") == 0.5


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
    for name, printed in VIFB_VALUES[(image, method)].items():
        got = CLASSES[name](profile="vifb")(fused, None, inputs, CARD).item()
        assert abs(got - float(printed)) <= printed_tolerance(printed) + 1e-12, (name, got, printed)


def test_vifb_rmse_is_the_psnr_denominator(shared_data: Path) -> None:
    """VIFB's Rmse (§D.4): mean over sources of ||X - F||_2 / (H W), per channel, channels averaged;
    PSNR = 20 log10(255 / sqrt(Rmse)) channel-wise. Transcribed in NumPy on carLight/GFF."""
    fused, inputs = _vifb(shared_data, "carLight", "GFF")
    f, vi, ir = fused[0].numpy(), inputs["vi"][0].numpy(), inputs["ir"][0].numpy()
    hw = f.shape[1] * f.shape[2]
    per_channel = [(np.linalg.norm(vi[k] - f[k]) + np.linalg.norm(ir[k] - f[k])) / (2 * hw) for k in range(3)]
    rmse = ivf.RMSE(profile="vifb")(fused, None, inputs, CARD).item()
    assert rmse == pytest.approx(np.mean(per_channel), rel=1e-12)
    psnr = ivf.PSNRFusion(profile="vifb")(fused, None, inputs, CARD).item()
    assert psnr == pytest.approx(np.mean([20 * np.log10(255 / np.sqrt(r)) for r in per_channel]), rel=1e-12)
    # grey, cddfuse profile: the same formula on one channel; identical sources and fusion give 0
    g = inputs["ir"][:, :1]
    assert ivf.RMSE()(g, None, {"ir": g, "vi": g}, CARD).item() == 0.0
    grey_f = torch.round(fused.mean(1, keepdim=True))
    expect = (np.linalg.norm(g[0, 0].numpy() - grey_f[0, 0].numpy()) * 2) / (2 * hw)
    assert ivf.RMSE()(grey_f, None, {"ir": g, "vi": g}, CARD).item() == pytest.approx(expect, rel=1e-12)


# -- CDDFuse evaluator, transcribed in NumPy from utils/Evaluator.py ------------------------------------
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


def per_extn_im_3x3(x: np.ndarray) -> np.ndarray:
    """Kumar's ``per_extn_im_fn(x, 3)`` as its MATLAB code does it (called "periodic", but it
    mirrors): x in the centre of a (p+2)x(q+2) zero array, row 1 := row 3 and row p+2 := row p
    (MATLAB 1-based), then the columns likewise, so the corners follow the rows."""
    p, q = x.shape
    e = np.zeros((p + 2, q + 2))
    e[1 : p + 1, 1 : q + 1] = x
    e[0, :] = e[2, :]
    e[p + 1, :] = e[p - 1, :]
    e[:, 0] = e[:, 2]
    e[:, q + 1] = e[:, q - 1]
    return e


NABF_KERNEL = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8


def _nabf(f: np.ndarray, a: np.ndarray, b: np.ndarray, extend=per_extn_im_3x3) -> float:  # type: ignore[no-untyped-def]
    def edges(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = extend(x)
        gv = sps.convolve2d(e, NABF_KERNEL, "valid")  # MATLAB conv2: flips both kernels (signs only)
        gh = sps.convolve2d(e, NABF_KERNEL.T, "valid")
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
        "rmse": float((np.sqrt(((a - f) ** 2).sum()) + np.sqrt(((b - f) ** 2).sum())) / (2 * f.size)),  # VIFB's
    }


ALL = (
    ivf.EN,
    ivf.SD,
    ivf.SF,
    ivf.AG,
    ivf.MI,
    ivf.CC,
    ivf.PSNRFusion,
    ivf.SCD,
    ivf.VIF,
    ivf.Qabf,
    ivf.SSIMFusion,
    ivf.Nabf,
    ivf.RMSE,
)
PAIRS = [
    ("ivf/tno", "ir", "vi", "18.png"),
    ("ivf/roadscene", "ir", "vi", "FLIR_00211.jpg"),
    ("mif/MRI_PET", "PET", "MRI", "11.png"),
]


@pytest.mark.parametrize("folder,a_dir,b_dir,name", PAIRS)
def test_cddfuse_profile_matches_numpy_transcription(
    shared_data: Path, folder: str, a_dir: str, b_dir: str, name: str
) -> None:
    a = _grey(shared_data / folder / a_dir / name)[:160, :200]  # a real crop keeps the NumPy side quick
    b = _grey(shared_data / folder / b_dir / name)[:160, :200]
    fused = np.round(np.maximum(a, b) * 0.6 + np.minimum(a, b) * 0.4)  # a simple, saved-as-uint8 fusion
    ref = cddfuse_reference(fused, a, b)
    keys = ("other", "mri") if folder.startswith("mif") else ("ir", "vi")
    inputs = {keys[0]: _chw(a), keys[1]: _chw(b)}
    for m in ALL:
        got = m()(_chw(fused), None, inputs, CARD).item()
        assert got == pytest.approx(ref[m.name], rel=1e-6), m.name


def test_kumar_extension_by_hand() -> None:
    """The border Nabf filters, element by element, for a 4x5 image (0..19 row-major)."""
    x = np.arange(20.0).reshape(4, 5)
    expected = np.array(
        [
            [6, 5, 6, 7, 8, 9, 8],  # row 0 := row 2 (image row 1)
            [1, 0, 1, 2, 3, 4, 3],
            [6, 5, 6, 7, 8, 9, 8],
            [11, 10, 11, 12, 13, 14, 13],
            [16, 15, 16, 17, 18, 19, 18],
            [11, 10, 11, 12, 13, 14, 13],  # row p+1 := row p-1 (image row 2)
        ],
        dtype=np.float64,
    )  # column 0 := column 2, column q+1 := column q-1, after the rows (corners follow)
    np.testing.assert_array_equal(per_extn_im_3x3(x), expected)
    np.testing.assert_array_equal(ivf.kumar_extension(torch.from_numpy(x)[None, None])[0, 0].numpy(), expected)
    # it is a mirror without the edge sample (torch "reflect", scipy "mirror"), not a circular wrap
    np.testing.assert_array_equal(expected, np.pad(x, 1, mode="reflect"))
    assert not np.array_equal(expected, np.pad(x, 1, mode="wrap"))
    # a 1-pixel side keeps MATLAB's zeros (row 1 := row 3 is still zero when copied)
    one = ivf.kumar_extension(torch.tensor([[[[1.0, 2.0, 3.0]]]]))[0, 0].numpy()
    np.testing.assert_array_equal(one, [[0, 0, 0, 0, 0], [2, 1, 2, 3, 2], [0, 0, 0, 0, 0]])


def _wrap(x: np.ndarray) -> np.ndarray:
    return np.pad(x, 1, mode="wrap")


def test_nabf_border_is_mirrored_not_wrapped() -> None:
    """A vertical ramp: the circular wrap puts a false edge on the top and bottom rows (weight
    g^1.5), the mirror does not, and the two give clearly different Nabf."""
    rows = np.arange(24.0)[:, None] * 10 + np.zeros((1, 20))
    a = rows
    b = rows[:, ::-1] + np.arange(20.0)[None, :] * 3  # a second, differently oriented ramp
    f = np.round(1.4 * a - 0.2 * b + 0.1 * (np.arange(20.0)[None, :] % 3) * 40).clip(0, 255)
    inputs = {"ir": _chw(a), "vi": _chw(b)}
    got = ivf.Nabf(quantize="none")(_chw(f), None, inputs, CARD).item()
    mirror, wrapped = _nabf(f, a, b), _nabf(f, a, b, extend=_wrap)
    assert got == pytest.approx(mirror, rel=1e-12)
    assert abs(mirror - wrapped) > 0.05 * max(mirror, wrapped)


@pytest.mark.parametrize("folder,a_dir,b_dir,name", PAIRS)
def test_nabf_matches_kumar_transcription_on_real_pairs(
    shared_data: Path, folder: str, a_dir: str, b_dir: str, name: str
) -> None:
    """Whole real images (borders included) and a sharpened fusion, so artefacts (g_F above both
    sources) really occur and the border counts."""
    a = _grey(shared_data / folder / a_dir / name)
    b = _grey(shared_data / folder / b_dir / name)
    avg = (a + b) / 2
    f = np.clip(np.round(avg + 1.5 * (avg - ndi.uniform_filter(avg, 3, mode="nearest"))), 0, 255)
    keys = ("other", "mri") if folder.startswith("mif") else ("ir", "vi")
    got = ivf.Nabf()(_chw(f), None, {keys[0]: _chw(a), keys[1]: _chw(b)}, CARD).item()
    expected = _nabf(f, a, b)
    assert expected > 1e-3  # a meaningful amount of artefacts
    assert got == pytest.approx(expected, rel=1e-9)
    if folder.startswith("ivf"):  # (MRI slices have black borders, where wrap and mirror agree)
        assert got != pytest.approx(_nabf(f, a, b, extend=_wrap), rel=1e-6)  # a wrap would be caught


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
