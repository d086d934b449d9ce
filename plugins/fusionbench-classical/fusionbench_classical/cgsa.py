"""Context-adaptive GSA (C-GSA, Restaino et al. 2017), the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021).

GSA with one injection gain per band *and per segment*: pixels are clustered by their spectra
(k-means on per-band max-normalised ``lms``) and each cluster gets its own regression gain, so
vegetation, water and built-up areas receive details in their own proportions.

Approximation: MATLAB ``kmeans`` is randomly initialised, so the toolbox itself is not
reproducible; here the segmentation is a seeded k-means++ (parameter ``seed``), deterministic.
"""

from __future__ import annotations

import torch

from fusionbench.imaging.matlab import nearest_decimate
from fusionbench.specs import DataCard

from ._base import PansharpeningMethod
from ._filters import lp_gauss
from ._kmeans import kmeans
from ._stats import combine, flatten_bands, lstsq, with_ones


def gsa_intensity(pan: torch.Tensor, ms: torch.Tensor, lms: torch.Tensor, ratio: int) -> torch.Tensor:
    """``gen_LP_image('GSA')``: weights = LS fit of the decimated ``LPfilterGauss(PAN)`` on
    [ms, 1]; the intensity applies them to [lms, 1], ``(B, 1, H, W)``."""
    pan_lr = nearest_decimate(lp_gauss(pan, ratio), ratio)
    weights = lstsq(flatten_bands(with_ones(ms)), flatten_bands(pan_lr)[..., 0])
    return combine(weights, with_ones(lms))


def segment(lms: torch.Tensor, clusters: int, seed: int) -> torch.Tensor:
    """Cluster labels ``(B, H*W)`` from k-means on each image's per-band max-normalised pixels."""
    peak = lms.amax(dim=(-2, -1), keepdim=True)
    features = flatten_bands(lms / torch.where(peak != 0, peak, 1.0))
    return torch.stack([kmeans(f, clusters, seed=seed) for f in features])


def cluster_gains(labels: torch.Tensor, intensity: torch.Tensor, lms: torch.Tensor, clusters: int) -> torch.Tensor:
    """Per-pixel gains ``(B, C, H, W)``: ``cov(I, lms_b) / var(I)`` within each pixel's cluster.

    Sample (n-1) statistics per cluster; a cluster with fewer than two pixels or a flat intensity
    gets gain 0 (it has no regression to speak of).
    """
    b, c, h, w = lms.shape
    onehot = torch.nn.functional.one_hot(labels, clusters).to(lms.dtype)  # (B, N, K)
    counts = onehot.sum(dim=1)  # (B, K)
    x = intensity.reshape(b, 1, -1)  # (B, 1, N)
    y = lms.reshape(b, c, -1)  # (B, C, N)
    safe = counts.clamp_min(1)[:, None, :]
    mx = (x @ onehot) / safe  # (B, 1, K)
    my = (y @ onehot) / safe  # (B, C, K)
    xc = x - torch.gather(mx, 2, labels[:, None, :])
    yc = y - torch.gather(my, 2, labels[:, None, :].expand(b, c, -1))
    covariance = (xc * yc) @ onehot  # (B, C, K) ; the n-1 factors cancel in the ratio
    variance = (xc * xc) @ onehot  # (B, 1, K)
    ok = (counts[:, None, :] > 1) & (variance > 0)
    gains = torch.where(ok, covariance / torch.where(ok, variance, 1.0), 0.0)
    return torch.gather(gains, 2, labels[:, None, :].expand(b, c, -1)).reshape(b, c, h, w)


class CGSA(PansharpeningMethod):
    """C-GSA: ``F = lms + g_{b, cluster}(PAN - I)`` with I from :func:`gsa_intensity`."""

    name = "c-gsa"

    def __init__(self, clusters: int = 5, seed: int = 0) -> None:
        if int(clusters) < 1:
            raise ValueError(f"c-gsa: clusters must be >= 1, got {clusters}")
        self.clusters = int(clusters)
        self.seed = int(seed)

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        intensity = gsa_intensity(pan, ms, lms, ratio)
        labels = segment(lms, self.clusters, self.seed)
        return lms + cluster_gains(labels, intensity, lms, self.clusters) * (pan - intensity)


__all__ = ["CGSA", "cluster_gains", "gsa_intensity", "segment"]
