"""DDIF (Dif-PAN) for fusionbench: diffusion with disentangled modulations for pansharpening and MHIF.

The hook module :mod:`.plugin` is import-light; the network (:mod:`.network`), condition
(:mod:`.condition`), presets (:mod:`.presets`) and model wrapper (:mod:`.model`) import torch.
"""

__version__ = "0.1.0"
