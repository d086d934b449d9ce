"""Seeded k-means (k-means++ initialisation, Lloyd iterations) for one image's pixels.

The toolbox's C-GSA segments with MATLAB ``kmeans``, whose random initialisation makes it
non-reproducible run to run. This version is deterministic for a given seed: each image gets its
own freshly seeded CPU generator, so the segmentation does not depend on batching or device.
"""

from __future__ import annotations

import torch


def _plus_plus_init(x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ (Arthur & Vassilvitskii 2007): each new centre drawn with probability ~ D(x)^2."""
    n = x.shape[0]
    first = int(torch.randint(n, (1,), generator=gen))
    centres = [x[first]]
    d2 = ((x - centres[0]) ** 2).sum(dim=1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:  # fewer distinct points than clusters: repeat a centre
            centres.append(centres[-1])
            continue
        probs = (d2 / total).cpu()
        idx = int(torch.multinomial(probs, 1, generator=gen))
        centres.append(x[idx])
        d2 = torch.minimum(d2, ((x - x[idx]) ** 2).sum(dim=1))
    return torch.stack(centres)


def _nearest(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre per row: argmin of ``|c|^2 - 2 x.c`` (``|x|^2`` is common)."""
    return ((centres * centres).sum(dim=1)[None, :] - 2.0 * (x @ centres.T)).argmin(dim=1)


def kmeans(x: torch.Tensor, k: int, *, seed: int = 0, max_iter: int = 100) -> torch.Tensor:
    """Cluster labels ``(N,)`` (int64) of the rows of ``x`` ``(N, D)``.

    Lloyd iterations stop when no label changes or after ``max_iter``; an empty cluster keeps its
    previous centre (MATLAB's default ``'EmptyAction','singleton'`` would re-seed it; rare).
    """
    if k < 1:
        raise ValueError(f"kmeans: need at least one cluster, got {k}")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    centres = _plus_plus_init(x, min(k, x.shape[0]), gen)
    labels = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
    for _ in range(max_iter):
        new = _nearest(x, centres)
        if torch.equal(new, labels):
            break
        labels = new
        onehot = torch.nn.functional.one_hot(labels, centres.shape[0]).to(x.dtype)
        counts = onehot.sum(dim=0)
        sums = onehot.T @ x
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
    return labels


__all__ = ["kmeans"]
