"""Luma/chroma split of the prior's x̂0, so the EM step constrains only the luminance.

A grey prior's x̂0 *is* the luma. An RGB prior's x̂0 (values in [−1, 1]) is split into Y and
the two chroma planes; the rectified Y is merged back with the prior's own chroma (the DDFM paper (Zhao et al., ICCV 2023; arXiv 2303.06840) and its released code (MMIF-DDFM)
steps 4–6). Two conventions:

* ``full`` — Y = 0.299 R + 0.587 G + 0.114 B and zero-centred Cb = 0.564 (B − Y),
  Cr = 0.713 (R − Y) (OpenCV's full-range constants): on [−1, 1] data Y spans exactly [−1, 1], the
  range of the sources, so the EM compares like with like (the default);
* ``studio`` — what the released code does: scikit-image's BT.601 studio-range ``rgb2ycbcr``
  applied to [−1, 1] data, divided by 255 (Y ≈ 0.0627 + 0.8588·grey, a scale/offset mismatch with
  the sources that the released code leaves uncorrected).

Both merges are the exact inverse of their split (no clipping), so rectify-then-merge only
changes what the EM changed.
"""

from __future__ import annotations

import torch

LUMA_MODES = ("full", "studio")

_STUDIO = ((65.481, 128.553, 24.966), (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214))
_STUDIO_OFFSET = (16.0, 128.0, 128.0)


def _matrix(mode: str, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if mode == "full":
        y = torch.tensor((0.299, 0.587, 0.114), dtype=torch.float64)
        rows = torch.stack(
            [
                y,
                0.564 * (torch.tensor((0.0, 0.0, 1.0), dtype=torch.float64) - y),
                0.713 * (torch.tensor((1.0, 0.0, 0.0), dtype=torch.float64) - y),
            ]
        )
        offset = torch.zeros(3, dtype=torch.float64)
    elif mode == "studio":
        rows = torch.tensor(_STUDIO, dtype=torch.float64) / 255.0
        offset = torch.tensor(_STUDIO_OFFSET, dtype=torch.float64) / 255.0
    else:
        raise ValueError(f"unknown luma mode {mode!r}; known: {', '.join(LUMA_MODES)}")
    return rows.to(like.device, like.dtype), offset.to(like.device, like.dtype)


def rgb_to_ycc(rgb: torch.Tensor, mode: str) -> torch.Tensor:
    """(B, 3, H, W) RGB → (B, 3, H, W) [Y, Cb, Cr] in the ``mode`` convention (see module doc)."""
    rows, offset = _matrix(mode, rgb)
    return torch.einsum("ij,bjhw->bihw", rows, rgb) + offset.view(1, 3, 1, 1)


def ycc_to_rgb(ycc: torch.Tensor, mode: str) -> torch.Tensor:
    """Exact inverse of :func:`rgb_to_ycc`."""
    rows, offset = _matrix(mode, ycc)
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(rows), ycc - offset.view(1, 3, 1, 1))


def split_luma(x0: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(luma (B, 1, H, W), chroma or None): a 1-channel x̂0 is its own luma."""
    if x0.shape[1] == 1:
        return x0, None
    if x0.shape[1] != 3:
        raise ValueError(f"the prior must have 1 or 3 channels, got {x0.shape[1]}")
    ycc = rgb_to_ycc(x0, mode)
    return ycc[:, :1], ycc[:, 1:]


def merge_luma(luma: torch.Tensor, chroma: torch.Tensor | None, mode: str) -> torch.Tensor:
    """Inverse of :func:`split_luma` with a (rectified) luma."""
    if chroma is None:
        return luma
    return ycc_to_rgb(torch.cat([luma, chroma], dim=1), mode)


def display_luma(x: torch.Tensor) -> torch.Tensor:
    """The luma the released code saves: OpenCV RGB→YCrCb on float data, Y = 0.299 R + 0.587 G + 0.114 B."""
    if x.shape[1] == 1:
        return x
    weights = torch.tensor((0.299, 0.587, 0.114), dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)
