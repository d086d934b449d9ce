"""The default suites. Datasets are selected by pattern within a task and protocol, and models
default to every compatible one, so a pip-installed third-party model or dataset joins them.

Bump a suite's version whenever its content (metrics, parameters, selections) changes: the
version is part of every run key, so old and new results are never mixed silently.
"""

from __future__ import annotations

from .specs import ComponentChoice, SuiteEntry, SuiteSpec, frozen_mapping


def _metrics(*names: str, **params: object) -> tuple[ComponentChoice, ...]:
    return tuple(ComponentChoice(name, frozen_mapping(params)) for name in names)


REDUCED_RES = SuiteSpec(
    name="reduced-res",
    version="1",
    description="Pansharpening at reduced resolution (Wald protocol, with reference)",
    entries=(
        SuiteEntry(
            task="pansharpening",
            protocol="reduced",
            metrics=_metrics("sam", "ergas", "q2n", "q-avg", "scc", "psnr"),
        ),
    ),
)

FULL_RES = SuiteSpec(
    name="full-res",
    version="1",
    description="Pansharpening at full resolution (no reference: QNR and HQNR)",
    entries=(
        SuiteEntry(
            task="pansharpening",
            protocol="full",
            metrics=_metrics("d-lambda", "d-s", "qnr", "d-lambda-k", "hqnr"),
        ),
    ),
)

MHIF = SuiteSpec(
    name="mhif",
    version="1",
    description="Multispectral/hyperspectral fusion (CAVE, Harvard): PSNR, SAM, ERGAS, SSIM",
    entries=(
        SuiteEntry(task="mhif", protocol="reduced", metrics=_metrics("mhif-psnr", "sam", "ergas", "mhif-ssim")),
    ),
)

_FUSION_METRICS = ("en", "sd", "sf", "ag", "mi", "scd", "vif", "qabf", "ssim", "cc", "nabf")

IVF = SuiteSpec(
    name="ivf",
    version="1",
    description="Infrared-visible fusion (no reference), CDDFuse evaluator profile",
    entries=(SuiteEntry(task="ivf", protocol="none", metrics=_metrics(*_FUSION_METRICS)),),
)

MIF = SuiteSpec(
    name="mif",
    version="1",
    description="Medical image fusion, MRI with CT/PET/SPECT (no reference), CDDFuse evaluator profile",
    entries=(SuiteEntry(task="mif", protocol="none", metrics=_metrics(*_FUSION_METRICS)),),
)

DEFAULT_SUITES = (REDUCED_RES, FULL_RES, MHIF, IVF, MIF)
