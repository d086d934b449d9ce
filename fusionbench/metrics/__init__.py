"""Quality metrics for every fusion task (definitions: the Pansharpening Toolbox, Deng's group's MHIF code, the CDDFuse evaluator and VIFB; see docs/metrics.md).

Modules: :mod:`.pansharpening` (reduced resolution, shared SAM/ERGAS/PSNR with MHIF),
:mod:`.fullres` (QNR family, HQNR), :mod:`.mhif` (SSIM), :mod:`.ivf` (IVF/MIF, two profiles),
:mod:`.q2n` (hypercomplex Q2n), :mod:`.naive` (slow NumPy cross-check implementations) and
:mod:`.plugin` (registration; imports nothing heavy). This package's ``__init__`` imports nothing
so that registration stays cheap.
"""
