"""EXP, the interpolation-only pansharpening baseline (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021)).

The other pansharpening baselines live in :mod:`.cs` (component substitution), :mod:`.mra`
(multiresolution analysis), :mod:`.cgsa`, :mod:`.bdsd` and :mod:`.pracs`.
"""

from __future__ import annotations

import torch

from fusionbench.specs import DataCard

from ._base import PansharpeningMethod


class Expansion(PansharpeningMethod):
    """EXP: the MS upsampled to PAN size, no PAN injection; every method should beat it.

    Returns the dataset's ``lms`` (PanCollection and the embedded datasets make it with the
    toolbox's ``interp23tap``, which is the toolbox's EXP).
    """

    name = "exp"

    def _fuse(self, pan, ms, lms, card: DataCard, ratio: int) -> torch.Tensor:
        return lms.clone()


__all__ = ["Expansion"]
