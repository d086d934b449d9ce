"""Classical MS/HS fusion (MHIF) baselines: hypersharpening GLP and coupled NMF.

Both need to know how the LR-HSI relates to the HR scene. Spatially they assume the benchmark's
degradation (MTF-matched Gaussian with Nyquist gain ``gnyq``, decimation at phase ratio//2, as the
embedded datasets and the pansharpening toolbox simulate); spectrally they estimate the MSI's
response from the data itself (the MSI degraded to the HSI's scale is regressed on the HSI), so
no camera response has to be supplied. Neither is a toolbox port: both are documented
re-implementations of the cited papers' schemes.
"""

from __future__ import annotations

import torch

from fusionbench.imaging.interp import interp23tap
from fusionbench.imaging.matlab import imresize_bicubic
from fusionbench.imaging.mtf import wald_degrade
from fusionbench.specs import DataCard

from ._base import MHIFMethod
from ._stats import flatten_bands, lstsq, signed_nnls, with_ones

_TINY = 1e-12


def upsample(x: torch.Tensor, ratio: int) -> torch.Tensor:
    """The datasets' upsampler: ``interp23tap`` for power-of-two ratios, MATLAB bicubic otherwise."""
    if ratio >= 2 and not ratio & (ratio - 1):
        return interp23tap(x, ratio)
    return imresize_bicubic(x, float(ratio))


def _check_gnyq(method: str, gnyq: float) -> float:
    g = float(gnyq)
    if not 0.0 < g < 1.0:
        raise ValueError(f"{method}: gnyq must lie in (0, 1), got {gnyq}")
    return g


class GLPHS(MHIFMethod):
    """Hypersharpening GLP (Selva et al. 2015): one synthetic PAN per hyperspectral band.

    At the HSI's scale each HS band is regressed on the degraded MSI bands and a constant; the
    same weights applied to the HR-MSI give a band-specific "PAN" ``P_c``, whose details
    ``P_c - up(degrade(P_c))`` are injected with unit gain: ``F_c = hsi_up_c + P_c - LP(P_c)``.
    The low-pass uses the same degradation and upsampler as the data, so an HS band that is an
    exact linear mix of MSI bands is recovered exactly.
    """

    name = "glp-hs"

    def __init__(self, gnyq: float = 0.3) -> None:
        self.gnyq = _check_gnyq(self.name, gnyq)

    def _fuse(self, msi, lrhsi, hsi_up, card: DataCard, ratio: int) -> torch.Tensor:
        stack = with_ones(msi)  # the constant rides along so the intercept is low-passed too
        low = wald_degrade(stack, self.gnyq, ratio)
        coef = lstsq(flatten_bands(low), flatten_bands(lrhsi))  # (B, M+1, C)
        detail = stack - upsample(low, ratio)
        return hsi_up + torch.einsum("bkc,bkhw->bchw", coef, detail)


def successive_projections(x: torch.Tensor, k: int) -> torch.Tensor:
    """Indices ``(k,)`` of ``k`` extreme columns of ``x`` ``(C, N)`` (SPA, Araújo et al. 2001).

    Deterministic endmember initialisation: repeatedly take the column with the largest residual
    norm and project it out.
    """
    residual = x.clone()
    picks = []
    for _ in range(k):
        j = int((residual * residual).sum(dim=0).argmax())
        picks.append(j)
        u = residual[:, j] / residual[:, j].norm().clamp_min(_TINY)
        residual = residual - u[:, None] * (u @ residual)[None, :]
    return torch.tensor(picks, device=x.device)


def _mu_abundances(y: torch.Tensor, e: torch.Tensor, a: torch.Tensor, steps: int) -> torch.Tensor:
    """Lee-Seung multiplicative updates of ``a`` for ``y ~ e a`` (``e`` fixed), batched."""
    ety, ete = e.transpose(-2, -1) @ y, e.transpose(-2, -1) @ e
    for _ in range(steps):
        a = a * ety / (ete @ a + _TINY)
    return a


def _mu_endmembers(y: torch.Tensor, e: torch.Tensor, a: torch.Tensor, steps: int) -> torch.Tensor:
    """Lee-Seung multiplicative updates of ``e`` for ``y ~ e a`` (``a`` fixed), batched."""
    yat, aat = y @ a.transpose(-2, -1), a @ a.transpose(-2, -1)
    for _ in range(steps):
        e = e * yat / (e @ aat + _TINY)
    return e


class CNMF(MHIFMethod):
    """Coupled NMF (Yokoya et al. 2012), deterministic.

    HSI ``Y_h ~ E A_h`` and MSI ``Y_m ~ (R E) A_m`` share the endmembers E; the abundances are
    coupled by the spatial degradation ``A_h = D(A_m)``. R (MSI response, non-negative) is
    estimated by NNLS of the degraded MSI on the LR-HSI. E starts from successive projections on
    the LR-HSI; each outer iteration unmixes the MSI with E fixed (A_m), degrades A_m, and refines
    E on the HSI. Output ``E A_m``.
    """

    name = "cnmf"

    def __init__(self, endmembers: int = 12, outer: int = 3, inner: int = 100, gnyq: float = 0.3) -> None:
        for label, value in (("endmembers", endmembers), ("outer", outer), ("inner", inner)):
            if int(value) < 1:
                raise ValueError(f"cnmf: {label} must be >= 1, got {value}")
        self.endmembers, self.outer, self.inner = int(endmembers), int(outer), int(inner)
        self.gnyq = _check_gnyq(self.name, gnyq)

    def _fuse(self, msi, lrhsi, hsi_up, card: DataCard, ratio: int) -> torch.Tensor:
        b, c, h, w = hsi_up.shape
        msi, lrhsi = msi.clamp_min(0.0), lrhsi.clamp_min(0.0)
        y_h = lrhsi.reshape(b, c, -1)
        y_m = msi.reshape(b, msi.shape[1], -1)
        response = signed_nnls(flatten_bands(lrhsi), flatten_bands(wald_degrade(msi, self.gnyq, ratio)))
        response = response.transpose(1, 2)  # (B, M, C)
        k = min(self.endmembers, c)
        e = torch.stack([y[:, successive_projections(y, k)] for y in y_h]).clamp_min(_TINY)  # (B, C, K)
        a_h = lstsq(e, y_h).clamp_min(_TINY)  # (B, K, n) unconstrained start, clipped
        a_h = _mu_abundances(y_h, e, a_h, self.inner)
        e = _mu_endmembers(y_h, e, a_h, self.inner)
        a_m = upsample(a_h.reshape(b, k, *lrhsi.shape[-2:]), ratio).clamp_min(_TINY).reshape(b, k, -1)
        for _ in range(self.outer):
            a_m = _mu_abundances(y_m, response @ e, a_m, self.inner)
            a_h = wald_degrade(a_m.reshape(b, k, h, w), self.gnyq, ratio).reshape(b, k, -1).clamp_min(_TINY)
            e = _mu_endmembers(y_h, e, a_h, self.inner)
        return (e @ a_m).reshape(b, c, h, w)


__all__ = ["CNMF", "GLPHS", "successive_projections", "upsample"]
