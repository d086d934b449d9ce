"""Straightforward per-image NumPy implementations, written from the spec's prose.

They loop over images, blocks and bands the way the MATLAB toolbox does and use only NumPy/SciPy,
so they are (a) an independent cross-check of the batched torch metrics in the tests and (b) the
speed baseline in ``benchmarks/metrics.py``. Do not use them for real runs: they are slow.
Arrays are ``(H, W, C)`` float64 in DN (the toolbox layout).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.ndimage as ndi

from fusionbench.imaging.interp import KERNEL_23
from fusionbench.imaging.matlab import imresize_weights


def matlab_uint16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(np.abs(x) + 0.5) * np.sign(x), 0, 65535)


def _onion_mult(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Toolbox ``onion_mult``: vectors along the last axis (scalars or per-pixel vectors)."""
    n = u.shape[-1]
    if n == 1:
        return u * v
    h = n // 2
    a, b = u[..., :h], u[..., h:].copy()
    c, d = v[..., :h], v[..., h:].copy()
    b[..., 1:] *= -1  # b*
    d[..., 1:] *= -1  # d*
    if n == 2:
        return np.concatenate([a * c - d * b, a * d + c * b], axis=-1)
    bb = b.copy()
    bb[..., 1:] *= -1  # (b*)* = b
    aa = a.copy()
    aa[..., 1:] *= -1  # a*
    left = _onion_mult(a, c) - _onion_mult(d, bb)
    right = _onion_mult(aa, d) + _onion_mult(c, b)
    return np.concatenate([left, right], axis=-1)


def _onions_quality(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Toolbox ``onions_quality`` on one block ``(S, S, C)``."""
    x = x.astype(np.float64).copy()
    y = y.astype(np.float64).copy()
    y[..., 1:] *= -1
    c = x.shape[-1]
    n = x.shape[0] * x.shape[1]
    for k in range(c):
        m = x[..., k].mean()
        s = x[..., k].std(ddof=1)
        if s == 0:
            s = np.finfo(np.float64).eps
        x[..., k] = (x[..., k] - m) / s + 1
        if m == 0:  # the toolbox's quirk: it tests the mean
            y[..., k] = y[..., k] - m + 1 if k == 0 else -(-y[..., k] - m + 1)
        else:
            y[..., k] = (y[..., k] - m) / s + 1 if k == 0 else -((-y[..., k] - m) / s + 1)
    m1 = x.reshape(-1, c).mean(0)
    m2 = y.reshape(-1, c).mean(0)
    mod_q1m, mod_q2m = math.sqrt((m1**2).sum()), math.sqrt((m2**2).sum())
    mod_q1 = np.sqrt((x**2).sum(-1))
    mod_q2 = np.sqrt((y**2).sum(-1))
    kappa = n / (n - 1)
    t2 = mod_q1m * mod_q2m
    t4 = mod_q1m**2 + mod_q2m**2
    t3 = kappa * (mod_q1**2).mean() + kappa * (mod_q2**2).mean() - kappa * t4
    mean_bias = 2 * t2 / t4
    if t3 == 0:
        q = np.zeros(c)
        q[-1] = mean_bias
        return q
    qu = _onion_mult(x, y)
    qm = _onion_mult(m1, m2)
    qv = kappa * qu.reshape(-1, c).mean(0)
    return (qv - kappa * qm) * mean_bias * (2 / t3)


def q2n(gt: np.ndarray, fused: np.ndarray, block: int = 32, shift: int = 32) -> float:
    """Toolbox ``q2n`` on one ``(H, W, C)`` image pair (reference first)."""
    h, w, c = gt.shape
    stepx, stepy = math.ceil(h / shift), math.ceil(w / shift)
    est1 = (stepx - 1) * shift + block - h
    est2 = (stepy - 1) * shift + block - w

    def pad(img: np.ndarray) -> np.ndarray:
        out = np.zeros((h + est1, w + est2, c))
        out[:h, :w] = img
        if est2:
            out[:h, w:] = img[:, w - 1 : w - est2 - 1 if w - est2 - 1 >= 0 else None : -1]
        if est1:
            out[h:, :] = out[h - 1 : h - est1 - 1 if h - est1 - 1 >= 0 else None : -1, :]
        return out

    gt, fused = matlab_uint16(pad(gt)), matlab_uint16(pad(fused))
    c2 = 2 ** math.ceil(math.log2(c))
    if c2 != c:
        zeros = np.zeros((*gt.shape[:2], c2 - c))
        gt, fused = np.concatenate([gt, zeros], -1), np.concatenate([fused, zeros], -1)
    values = np.zeros((stepx, stepy))
    for j in range(stepx):
        for i in range(stepy):
            sl = (slice(j * shift, j * shift + block), slice(i * shift, i * shift + block))
            q = _onions_quality(gt[sl], fused[sl])
            values[j, i] = math.sqrt((q**2).sum())
    return float(values.mean())


def uiqi(x: np.ndarray, y: np.ndarray) -> float:
    """Toolbox block ``uqi``: 4 cov mx my / (var x + var y) / (mx^2 + my^2) (``cov`` is n-1)."""
    x, y = x.ravel(), y.ravel()
    cov = np.cov(x, y)
    mx, my = x.mean(), y.mean()
    return float(4 * cov[0, 1] * mx * my / (cov[0, 0] + cov[1, 1]) / (mx**2 + my**2))


def _blocks_mean_uiqi(x: np.ndarray, y: np.ndarray, s: int) -> float:
    vals = [
        uiqi(x[i : i + s, j : j + s], y[i : i + s, j : j + s])
        for i in range(0, x.shape[0], s)
        for j in range(0, x.shape[1], s)
    ]
    return float(np.mean(vals))


def d_lambda(fused: np.ndarray, lms: np.ndarray, s: int = 32, p: float = 1.0) -> float:
    c = fused.shape[-1]
    acc, count = 0.0, 0
    for i in range(c - 1):
        for j in range(i + 1, c):
            q_exp = _blocks_mean_uiqi(lms[..., i], lms[..., j], s)
            q_fus = _blocks_mean_uiqi(fused[..., i], fused[..., j], s)
            acc += abs(q_fus - q_exp) ** p
            count += 1
    return (acc / count) ** (1 / p)


def imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB bicubic ``imresize`` of a 2-D image with NumPy matrices."""
    h, w = img.shape
    oh, ow = math.ceil(h * scale), math.ceil(w * scale)
    return imresize_weights(h, oh, scale) @ img @ imresize_weights(w, ow, scale).T


def interp23tap(img: np.ndarray, ratio: int) -> np.ndarray:
    """The 23-tap interpolator for a 2-D image, with SciPy's periodic 1-D correlation."""
    for stage in range(int(math.log2(ratio))):
        up = np.zeros((2 * img.shape[0], 2 * img.shape[1]))
        off = 1 if stage == 0 else 0
        up[off::2, off::2] = img
        up = ndi.correlate1d(up, KERNEL_23, axis=1, mode="grid-wrap")
        img = ndi.correlate1d(up, KERNEL_23, axis=0, mode="grid-wrap")
    return img


def d_s(fused: np.ndarray, lms: np.ndarray, pan: np.ndarray, ratio: int = 4, s: int = 32, q: float = 1.0) -> float:
    """Toolbox ``D_s`` for one image (``pan`` 2-D)."""
    pan_lp = interp23tap(imresize(pan, 1 / ratio), ratio)
    acc = 0.0
    for b in range(fused.shape[-1]):
        q_high = _blocks_mean_uiqi(fused[..., b], pan, s)
        q_low = _blocks_mean_uiqi(lms[..., b], pan_lp, s)
        acc += abs(q_high - q_low) ** q
    return (acc / fused.shape[-1]) ** (1 / q)


def mtf_filter(img: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
    return np.stack([ndi.correlate(img[..., b], kernels[b], mode="nearest") for b in range(img.shape[-1])], -1)


def sam(gt: np.ndarray, fused: np.ndarray) -> float:
    dot = (gt * fused).sum(-1).ravel()
    norm = np.sqrt((gt**2).sum(-1) * (fused**2).sum(-1)).ravel()
    keep = norm != 0
    ang = np.real(np.arccos((dot[keep] / norm[keep]).astype(complex)))
    return float(ang.sum() / keep.sum() * 180 / np.pi)


def ergas(gt: np.ndarray, fused: np.ndarray, ratio: float) -> float:
    acc = 0.0
    for b in range(gt.shape[-1]):
        acc += np.mean((gt[..., b] - fused[..., b]) ** 2) / np.mean(gt[..., b]) ** 2
    return float(100 / ratio * math.sqrt(acc / gt.shape[-1]))


def q_avg(gt: np.ndarray, fused: np.ndarray, block: int = 32) -> float:
    """Band-wise sliding-window UIQI (``img_qi``) with SciPy box filters, averaged."""
    n = block * block
    out = []
    for b in range(gt.shape[-1]):
        x, y = gt[..., b], fused[..., b]

        def box(z: np.ndarray) -> np.ndarray:
            return (
                ndi.uniform_filter(z, block, mode="constant", origin=(-(block // 2), -(block // 2)))[
                    : x.shape[0] - block + 1, : x.shape[1] - block + 1
                ]
                * n
            )

        sx, sy, sxx, syy, sxy = box(x), box(y), box(x * x), box(y * y), box(x * y)
        mul = sx * sy
        sq = sx**2 + sy**2
        num = 4 * (n * sxy - mul) * mul
        den1 = n * (sxx + syy) - sq
        den = den1 * sq
        qmap = np.ones_like(den)
        idx = (den1 == 0) & (sq != 0)
        qmap[idx] = 2 * mul[idx] / sq[idx]
        idx = den != 0
        qmap[idx] = num[idx] / den[idx]
        out.append(qmap.mean())
    return float(np.mean(out))


def scc(fused: np.ndarray, gt: np.ndarray) -> float:
    sobel = np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]])

    def mag(img: np.ndarray) -> np.ndarray:
        core = img[1:-1, 1:-1]
        gy = ndi.correlate(core, sobel, mode="constant")
        gx = ndi.correlate(core, sobel.T, mode="constant")
        return np.sqrt(gx**2 + gy**2)

    mf = np.stack([mag(fused[..., b]) for b in range(fused.shape[-1])], -1)
    mg = np.stack([mag(gt[..., b]) for b in range(gt.shape[-1])], -1)
    return float((mf * mg).sum() / math.sqrt((mf**2).sum()) / math.sqrt((mg**2).sum()))
