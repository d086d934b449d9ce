"""DDFM for fusionbench: the guided-diffusion prior, the EM likelihood rectification and the model.

Import-light: submodules import torch; this package and its hook module (``plugin``) do not.
"""

__version__ = "0.1.0"
