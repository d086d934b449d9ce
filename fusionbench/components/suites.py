"""The default suites. Datasets are selected by pattern within a task and protocol, and models
default to every compatible one, so a pip-installed third-party model or dataset joins them.

Bump a suite's version whenever its content (metrics, parameters, selections) changes: the
version is part of every run key, so old and new results are never mixed silently.
"""

from __future__ import annotations

from fusionbench.specs import ComponentChoice, SuiteEntry, SuiteSpec, frozen_mapping


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
            # dim_cut 0: no border cut, as the DDIF/SSDiff-era evaluation scripts (stated, not defaulted)
            metrics=_metrics("sam", "ergas", "q2n", "q-avg", "scc", "psnr", dim_cut=0),
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
            metrics=_metrics("d-lambda", "d-s", "qnr", "d-lambda-k", "hqnr", block=32),
        ),
    ),
)

MHIF = SuiteSpec(
    name="mhif",
    version="1",
    description="Multispectral/hyperspectral fusion (CAVE, Harvard): PSNR, SAM, ERGAS, SSIM",
    entries=(SuiteEntry(task="mhif", protocol="reduced", metrics=_metrics("psnr", "sam", "ergas", "ssim", dim_cut=0)),),
)

_FUSION_METRICS = ("en", "sd", "sf", "ag", "mi", "scd", "vif", "qabf", "ssim-fusion", "psnr-fusion", "cc", "nabf")
_VIFB_ONLY_METRICS = ("rmse", "ce", "ei", "qcb", "qcv")


def _fusion_suite(task: str, profile: str, what: str) -> SuiteSpec:
    name = task if profile == "cddfuse" else f"{task}-{profile}"
    source = "the CDDFuse/DDFM Python evaluator" if profile == "cddfuse" else "the VIFB MATLAB benchmark"
    # VIFB's MATLAB set also reports RMSE, CE, EI, Q_CB and Q_CV; the CDDFuse evaluator has none of them
    metrics = _FUSION_METRICS + (_VIFB_ONLY_METRICS if profile == "vifb" else ())
    return SuiteSpec(
        name=name,
        # vifb 2: + rmse; 3: + ce, ei, qcb, qcv (all 13 VIFB metrics)
        version="1" if profile == "cddfuse" else "3",
        description=f"{what} (no reference), metrics as {source} computes them",
        entries=(SuiteEntry(task=task, protocol="none", metrics=_metrics(*metrics, profile=profile)),),
    )


IVF = _fusion_suite("ivf", "cddfuse", "Infrared-visible fusion")
IVF_VIFB = _fusion_suite("ivf", "vifb", "Infrared-visible fusion")
MIF = _fusion_suite("mif", "cddfuse", "Medical image fusion, MRI with CT/PET/SPECT")
MIF_VIFB = _fusion_suite("mif", "vifb", "Medical image fusion, MRI with CT/PET/SPECT")

DEFAULT_SUITES = (REDUCED_RES, FULL_RES, MHIF, IVF, IVF_VIFB, MIF, MIF_VIFB)
