"""1-D 'valid' correlation with long kernels as batched products with a banded matrix.

A block of ``n`` consecutive outputs of a ``k``-tap correlation is ``window @ band``, where
``window`` is the ``n + k - 1`` input samples under the block and ``band`` the ``(n + k - 1, n)``
matrix holding the taps on its diagonals. The windows of all blocks are one strided view of the
input (they overlap; nothing is copied), so a whole correlation is one ``bmm``: a BLAS call that
runs at matrix-product speed, where the shifted multiply-adds it replaces are bound by memory
(``k`` passes over the data) and an unfolded matmul copies the data ``k`` times. The band's zeros
cost ``n - 1`` extra multiply-adds per output: small blocks waste least.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

BLOCK = 12
"""Outputs per block. Multiples of 12 are where MKL's double-precision kernels ran fastest per
output on the project's 2-core machines (powers of two were up to 3x slower, 12 beat 24 and 36
by 10-30 % on the ``benchmarks/metrics.py`` batches), so the size is fixed, not derived."""


def band_matrix(taps: torch.Tensor, size: int) -> torch.Tensor:
    """``(size + k - 1, size)`` matrix whose column ``j`` holds the taps at rows ``j..j+k-1``: a
    block of ``size`` 'valid' correlation outputs is ``window @ band``."""
    k = taps.numel()
    band = taps.new_zeros(size + k - 1, size)
    for j in range(size):  # size assignments, once per call
        band[j : j + k, j] = taps
    return band


def blocks_for(n_out: int, block: int = BLOCK) -> int:
    """How many blocks of ``block`` outputs cover ``n_out`` outputs."""
    return -(-n_out // block)


def correlate_last_valid(t: torch.Tensor, taps: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """'Valid' correlation of ``t`` with ``taps`` along the last axis, any leading shape."""
    k, w = taps.numel(), t.shape[-1]
    n_out = w - k + 1
    if n_out < 1:
        raise ValueError(f"{w} samples are fewer than the {k} taps ('valid')")
    nb = blocks_for(n_out, block)
    rows = t.reshape(-1, w)
    if nb * block + k - 1 > w:  # zero tail: the last block's padded outputs are dropped below
        rows = F.pad(rows, (0, nb * block + k - 1 - w))
    rows = rows.contiguous()
    n_rows, stride = rows.shape
    windows = rows.as_strided((nb, n_rows, block + k - 1), (block, stride, 1))
    band = band_matrix(taps.to(t), block).expand(nb, block + k - 1, block)
    out = torch.bmm(windows, band)  # (nb, rows, block)
    out = out.permute(1, 0, 2).reshape(n_rows, nb * block)[:, :n_out]
    return out.reshape(*t.shape[:-1], n_out)


__all__ = ["BLOCK", "band_matrix", "blocks_for", "correlate_last_valid"]
