"""Q2n (Q4/Q8): the hypercomplex quality index of Garzelli & Nencini (IEEE TGRS 2009; toolbox q2n.m / onions_quality.m).

Q2n treats the C bands of a pixel as one hypercomplex number (Cayley-Dickson algebra of
dimension 2^n) and measures, per 32x32 block, correlation, mean bias and contrast of the
fused image against the reference jointly across bands. The toolbox's details are all kept:
mirror padding to whole blocks, MATLAB ``uint16`` quantisation (round half away, saturate — so the
inputs must be DN), zero bands up to a power of two, block normalisation by the *reference*
block's mean and sample std (with its "mean == 0" quirk), and ``kappa = n/(n-1)`` factors.

All blocks of all images are processed at once. The per-pixel hypercomplex product is only ever
averaged, and it is bilinear, so its block mean is computed from the ``C x C`` matrix of cross
moments (one batched matmul) and the algebra's structure constants.
"""

from __future__ import annotations

import functools
import math

import torch

from fusionbench.imaging.matlab import EPS, uint16

from ._stats import chunked, tiles


def _conj(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Hypercomplex conjugate: keep the first component, negate the others."""
    return torch.cat([x.narrow(dim, 0, 1), -x.narrow(dim, 1, x.shape[dim] - 1)], dim)


def onion_mult(u: torch.Tensor, v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Cayley-Dickson product of hypercomplex numbers stored along ``dim`` (length 2^m).

    With u = (a, b), v = (c, d) split in halves: ``(a c - d* b, a* d* + c b*)``, the form the
    toolbox's ``onion_mult``/``onion_mult2D`` compute.
    """
    n = u.shape[dim]
    if n == 1:
        return u * v
    h = n // 2
    a, b = u.narrow(dim, 0, h), u.narrow(dim, h, h)
    c, d = v.narrow(dim, 0, h), v.narrow(dim, h, h)
    if h == 1:
        left = a * c - d * b
        right = a * d + c * b
    else:
        dc = _conj(d, dim)
        left = onion_mult(a, c, dim) - onion_mult(dc, b, dim)
        right = onion_mult(_conj(a, dim), dc, dim) + onion_mult(c, _conj(b, dim), dim)
    return torch.cat([left, right], dim)


@functools.lru_cache(maxsize=8)
def structure_constants(n: int) -> torch.Tensor:
    """``T[k, i, j]`` with ``(u v)_k = sum_ij T[k,i,j] u_i v_j`` for the algebra of dimension ``n``.

    Built by multiplying basis vectors with :func:`onion_mult`; each ``(i, j)`` has one non-zero
    (``+-1``). Bilinearity is what lets :func:`onions_quality` average the per-pixel products
    from a ``C x C`` cross-moment matrix instead of forming them pixel by pixel.
    """
    eye = torch.eye(n, dtype=torch.float64)
    prods = onion_mult(eye[:, None, :].expand(n, n, n), eye[None, :, :].expand(n, n, n), dim=-1)  # (i, j, k)
    return prods.permute(2, 0, 1).contiguous()


def onions_quality(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hypercomplex quality vector of blocks: ``x`` reference, ``y`` fused, ``(..., C, n)``.

    Returns ``(..., C)``; the block's Q2n value is its Euclidean norm. Every term the toolbox
    forms from the normalised pixels is a function of the blocks' raw moments (sums, sums of
    squares and the ``C x C`` cross products, one batched matmul), so the pixels are read a few
    times and never rewritten: :func:`_quality_from_moments`.
    """
    sxy = x @ y.transpose(-1, -2)
    moments = (x.sum(-1), y.sum(-1), torch.linalg.vecdot(x, x), torch.linalg.vecdot(y, y), sxy)
    return _quality_from_moments(x.shape[-1], *moments)


def _quality_from_moments(
    n: int, sx: torch.Tensor, sy: torch.Tensor, sxx: torch.Tensor, syy: torch.Tensor, sxy: torch.Tensor
) -> torch.Tensor:
    """``onions_quality`` from block moments: sums ``(..., C)``, cross sums ``(..., C, C)``.

    The toolbox normalises ``xn = (x - m)/s + 1`` (``m``, ``s``: the reference band's mean and
    sample std, ``s = eps`` when 0) and ``yn = sign (y - m)/t + 1`` (``t = s``, or 1 where the
    *mean* is 0: its quirk), with the conjugate's signs. Expanding the squares and products:
    ``mean(xn) = 1``, ``sum(xn^2) = S_xx/s^2 + n``, ``sum(yn^2) = (S_yy + n d^2)/t^2 + 2 n d/t + n``
    with ``d = m_y - m``, and ``mean(xn_i yn_j) = sign_j (cov_ij/(s_i t_j) + d_j/t_j + 1)``. On the
    uint16 integers Q2n quantises to, ``n sum(x^2) - sum(x)^2`` and ``n sum(x y) - sum(x) sum(y)``
    are exact in float64 (below 2^53), so the centred moments carry no cancellation error.
    """
    c = sx.shape[-1]
    kappa = n / (n - 1)
    sign = torch.ones(c, dtype=sx.dtype, device=sx.device)
    sign[1:] = -1.0
    m, m_y = sx / n, sy / n
    s_xx = (n * sxx - sx * sx) / n  # sum of squared deviations
    s_yy = (n * syy - sy * sy) / n
    cov = (n * sxy - sx[..., :, None] * sy[..., None, :]) / (n * n)
    s = torch.sqrt(s_xx / (n - 1))
    s = torch.where(s == 0, torch.full_like(s, EPS), s)
    t = torch.where(m == 0, torch.ones_like(s), s)
    d = m_y - m

    a = torch.ones_like(m)
    cm = sign * (d / t + 1.0)
    mod_a2, mod_c2 = torch.full_like(m[..., 0], float(c)), (cm * cm).sum(-1)
    t2 = torch.sqrt(mod_a2) * torch.sqrt(mod_c2)
    t4 = mod_a2 + mod_c2
    int1 = kappa * (s_xx / (s * s) + n).sum(-1) / n
    int2 = kappa * ((s_yy + n * d * d) / (t * t) + 2 * n * d / t + n).sum(-1) / n
    t3 = int1 + int2 - kappa * t4
    mean_bias = 2 * t2 / t4

    # mean over pixels of the hypercomplex product xn(p) yn(p), via the normalised cross moments
    cross = sign * (cov / (s[..., :, None] * t[..., None, :]) + (d / t + 1.0)[..., None, :])
    table = structure_constants(c).to(device=sx.device, dtype=sx.dtype)
    qv = kappa * torch.einsum("kij,...ij->...k", table, cross)
    qm = onion_mult(a, cm, dim=-1)
    q = (qv - kappa * qm) * (mean_bias * 2 / t3)[..., None]
    degenerate = torch.zeros_like(q)
    degenerate[..., -1] = mean_bias
    return torch.where((t3 == 0)[..., None], degenerate, q)


def pad_to_blocks(x: torch.Tensor, block: int, shift: int) -> torch.Tensor:
    """Mirror-pad the right/bottom so the tiles cover the image, as the toolbox's q2n does.

    Columns are appended first (mirroring the last ones, edge column included), then rows of the
    widened array.
    """
    h, w = x.shape[-2:]
    est_h = (math.ceil(h / shift) - 1) * shift + block - h
    est_w = (math.ceil(w / shift) - 1) * shift + block - w
    if est_w > 0:
        x = torch.cat([x, x[..., :, w - est_w :].flip(-1)], dim=-1)
    if est_h > 0:
        x = torch.cat([x, x[..., h - est_h :, :].flip(-2)], dim=-2)
    return x


def min_side(block: int, shift: int, n: int) -> bool:
    """Whether a side of length ``n`` can be padded (the mirror needs est <= n)."""
    return (math.ceil(n / shift) - 1) * shift + block - n <= n


def q2n(ref: torch.Tensor, fused: torch.Tensor, block: int = 32, shift: int = 32) -> torch.Tensor:
    """Q2n of each image of a batch, ``(B,C,H,W)`` in DN -> ``(B,)`` float64 (reference first)."""
    return chunked(lambda r, f: _q2n(r, f, block, shift), ref, fused)


def _q2n(ref: torch.Tensor, fused: torch.Tensor, block: int, shift: int) -> torch.Tensor:
    ref = uint16(pad_to_blocks(ref, block, shift))
    fused = uint16(pad_to_blocks(fused, block, shift))
    c = ref.shape[1]
    c2 = 1 << max(0, math.ceil(math.log2(c)))
    if c2 != c:
        zeros = ref.new_zeros((ref.shape[0], c2 - c, *ref.shape[2:]))
        ref, fused = torch.cat([ref, zeros], 1), torch.cat([fused, zeros], 1)
    q = onions_quality(tiles(ref, block, shift), tiles(fused, block, shift))  # (B, n_tiles, C')
    return torch.sqrt((q * q).sum(-1)).mean(-1)


__all__ = ["onion_mult", "onions_quality", "pad_to_blocks", "q2n"]
