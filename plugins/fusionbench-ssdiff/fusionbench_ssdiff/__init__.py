"""SSDiff for fusionbench: spatial-spectral integrated diffusion for pansharpening (NeurIPS 2024).

The hook module :mod:`.plugin` is import-light; the network (:mod:`.network`, :mod:`.apfm`),
branch-wise fine-tuning (:mod:`.lbaf`), training (:mod:`.train`), presets (:mod:`.presets`) and
the model wrapper (:mod:`.model`) import torch. See ``docs/ssdiff.md``.
"""

__version__ = "0.1.0"
