"""Registers fusionbench's metrics (entry point ``metrics = "fusionbench.components.metrics"``).

Imports nothing heavy: factories are ``"module:Class"`` strings, built only when a run scores.
Every parameter that can change a number is a :class:`ParamSpec`, so its value is recorded with
each result row; values like ``"card"`` mean "the dataset's DataCard field", which is recorded
with the row too.
"""

from __future__ import annotations

from fusionbench import MetricSpec, ParamSpec, hookimpl

_PKG = "fusionbench.metrics"
VERSION = "1"
NABF_VERSION = "2"  # 1 -> 2: mirror border (Kumar's per_extn_im_fn), not a circular wrap

PANSHARPENING_RR = frozenset({"reduced"})
FULL = frozenset({"full"})
NO_REFERENCE = frozenset({"none"})

DIM_CUT = ParamSpec(
    0,
    "int",
    None,
    "border cut in pixels on each side, MATLAB I(d:end-d, d:end-d, :): 0 = none (DDIF-era "
    "scripts, MHIF), 21 (toolbox single-image and FR demos), 30 (Deng multi-image RR demo)",
)
DATA_RANGE = ParamSpec(
    "card", "str", None, "peak value: 'card' = the DataCard's max_value (2047 WV3 DN, 1023 GF2, 1 CAVE) or a number"
)
RATIO = ParamSpec("card", "str", None, "resolution ratio: 'card' = the DataCard's ratio, or an integer")
BLOCK_Q = ParamSpec(32, "int", None, "Q2n block size in pixels (toolbox: 32)")
SHIFT_Q = ParamSpec(32, "int", None, "Q2n block step in pixels (toolbox: 32 = distinct blocks)")
WINDOW_Q = ParamSpec(32, "int", None, "sliding UIQI window size (toolbox: 32)")
BLOCK_S = ParamSpec(32, "int", None, "distinct block size S for UIQI / Q2n (toolbox: 32); H and W must be multiples")
P_EXP = ParamSpec(1.0, "float", None, "exponent p of D_lambda (toolbox: 1)")
Q_EXP = ParamSpec(1.0, "float", None, "exponent q of D_s (toolbox: 1)")
SENSOR = ParamSpec(
    "card",
    "str",
    None,
    "MTF gains for D_lambda^K: 'card' = DataCard.mtf_gnyq (else the card's sensor looked up like the "
    "toolbox, case-sensitive, 0.3 default), or a toolbox sensor name (WV3, WV2, QB, IKONOS, GeoEye1, WV4, GF2)",
)
PROFILE = ParamSpec(
    "cddfuse",
    "str",
    ("cddfuse", "vifb"),
    "cddfuse = the CDDFuse/DDFM Python evaluator (grey); vifb = the VIFB MATLAB benchmark (per-channel colour)",
)
QUANTIZE = ParamSpec(
    "round",
    "str",
    ("round", "trunc", "none"),
    "score as saved 8-bit images: round (half-even, clip 0..255), trunc (pred truncated, sources rounded) or none",
)


def _rr(
    name: str, cls: str, *, tasks: frozenset[str], hib: bool, ideal: float | None, params: dict, ref: str, desc: str
) -> MetricSpec:
    return MetricSpec(
        name=name,
        version=VERSION,
        tasks=tasks,
        factory=f"{_PKG}.{cls}",
        requires_reference=True,
        higher_is_better=hib,
        ideal=ideal,
        params={"dim_cut": DIM_CUT, **params},
        protocols=PANSHARPENING_RR,
        reference_impl=ref,
        description=desc,
    )


def _fr(name: str, cls: str, *, hib: bool, ideal: float, params: dict, ref: str, desc: str) -> MetricSpec:
    return MetricSpec(
        name=name,
        version=VERSION,
        tasks=frozenset({"pansharpening"}),
        factory=f"{_PKG}.fullres:{cls}",
        requires_reference=False,
        higher_is_better=hib,
        ideal=ideal,
        params={"block": BLOCK_S, **params},
        protocols=FULL,
        reference_impl=ref,
        description=desc,
    )


def _fusion(
    name: str,
    cls: str,
    *,
    hib: bool = True,
    ideal: float | None = None,
    extra: dict | None = None,
    version: str = VERSION,
    module: str = "ivf",
    ref: str,
    desc: str,
) -> MetricSpec:
    return MetricSpec(
        name=name,
        version=version,
        tasks=frozenset({"ivf", "mif"}),
        factory=f"{_PKG}.{module}:{cls}",
        requires_reference=False,
        higher_is_better=hib,
        ideal=ideal,
        params={"profile": PROFILE, "quantize": QUANTIZE, **(extra or {})},
        protocols=NO_REFERENCE,
        reference_impl=ref,
        description=desc,
    )


VIFB_ONLY_PROFILE = ParamSpec(
    "vifb",
    "str",
    ("cddfuse", "vifb"),
    "vifb only: the CDDFuse evaluator does not compute this metric, so profile='cddfuse' is refused",
)
VIFB_ONLY = {"profile": VIFB_ONLY_PROFILE}
VIFB_MATLAB = "VIFB (Zhang et al. 2020) metrics/"

SSIM_FUSION_RANGE = ParamSpec(
    "profile",
    "str",
    None,
    "'profile' = 2 for cddfuse (scikit-image < 0.20 float quirk), 255 for vifb; or a number",
)

PS = frozenset({"pansharpening"})
PS_MHIF = frozenset({"pansharpening", "mhif"})
TOOLBOX = "MATLAB Pansharpening Toolbox (Vivone et al. 2021) via DLPan-Toolbox"


def metric_specs() -> list[MetricSpec]:
    """All built-in metric specs (also used by docs and tests)."""
    return [
        # -- pansharpening reduced resolution (+ MHIF where the definition is shared) --
        _rr(
            "sam",
            "pansharpening:SAM",
            tasks=PS_MHIF,
            hib=False,
            ideal=0.0,
            params={},
            ref=f"{TOOLBOX} SAM.m",
            desc="mean spectral angle in degrees, zero vectors excluded",
        ),
        _rr(
            "ergas",
            "pansharpening:ERGAS",
            tasks=PS_MHIF,
            hib=False,
            ideal=0.0,
            params={"ratio": RATIO},
            ref=f"{TOOLBOX} ERGAS.m",
            desc="(100/ratio) sqrt(mean_b MSE_b / mu_b^2), reference means",
        ),
        _rr(
            "psnr",
            "pansharpening:PSNR",
            tasks=PS_MHIF,
            hib=True,
            ideal=None,
            params={"data_range": DATA_RANGE},
            ref="Deng-group MATLAB analysis_ref (MHIF) and DLPan analysis_accu",
            desc="band-wise 10 log10(range^2/MSE), mean over bands (a perfect fusion gives +inf)",
        ),
        _rr(
            "ssim",
            "mhif:SSIM",
            tasks=PS_MHIF,
            hib=True,
            ideal=1.0,
            params={"data_range": DATA_RANGE},
            ref="Wang et al. ssim_index.m as used by the Deng-group MHIF package",
            desc="band-wise Gaussian-window SSIM on data rescaled to 0-255, mean over bands",
        ),
        _rr(
            "q2n",
            "pansharpening:Q2n",
            tasks=PS,
            hib=True,
            ideal=1.0,
            params={"block": BLOCK_Q, "shift": SHIFT_Q},
            ref=f"{TOOLBOX} q2n.m / onions_quality.m",
            desc="hypercomplex quality index Q4/Q8 on uint16-quantised DN, 32-px blocks",
        ),
        _rr(
            "q-avg",
            "pansharpening:QAvg",
            tasks=PS,
            hib=True,
            ideal=1.0,
            params={"block": WINDOW_Q},
            ref=f"{TOOLBOX} Q.m / img_qi.m",
            desc="band-wise UIQI, 32x32 sliding window, mean over bands",
        ),
        _rr(
            "scc",
            "pansharpening:SCC",
            tasks=PS,
            hib=True,
            ideal=1.0,
            params={},
            ref=f"{TOOLBOX} SCC.m",
            desc="uncentred correlation of Sobel gradient magnitudes",
        ),
        # -- pansharpening full resolution --
        _fr(
            "d-lambda",
            "DLambda",
            hib=False,
            ideal=0.0,
            params={"p": P_EXP},
            ref=f"{TOOLBOX} D_lambda.m",
            desc="QNR spectral distortion (band-pair UIQI, S-blocks)",
        ),
        _fr(
            "d-s",
            "DS",
            hib=False,
            ideal=0.0,
            params={"ratio": RATIO, "q": Q_EXP},
            ref=f"{TOOLBOX} D_s.m",
            desc="QNR spatial distortion (band-PAN UIQI vs imresize+interp23tap PAN)",
        ),
        _fr(
            "qnr",
            "QNR",
            hib=True,
            ideal=1.0,
            params={
                "ratio": RATIO,
                "p": P_EXP,
                "q": Q_EXP,
                "alpha": ParamSpec(1.0, "float", None, "exponent of (1 - D_lambda)"),
                "beta": ParamSpec(1.0, "float", None, "exponent of (1 - D_s)"),
            },
            ref=f"{TOOLBOX} QNR.m",
            desc="(1 - D_lambda)^alpha (1 - D_s)^beta",
        ),
        _fr(
            "d-lambda-k",
            "DLambdaK",
            hib=False,
            ideal=0.0,
            params={"ratio": RATIO, "sensor": SENSOR},
            ref=f"{TOOLBOX} D_lambda_K.m0",
            desc="Khan's spectral distortion 1 - Q2n(lms, MTF(fused))",
        ),
        _fr(
            "hqnr",
            "HQNR",
            hib=True,
            ideal=1.0,
            params={"ratio": RATIO, "sensor": SENSOR, "q": Q_EXP},
            ref=f"{TOOLBOX} HQNR.m0",
            desc="(1 - D_lambda^K)(1 - D_s), what Deng's group reports",
        ),
        # -- IVF / MIF --
        _fusion(
            "en",
            "EN",
            ref="CDDFuse Evaluator.EN / VIFB metricsEntropy.m",
            desc="entropy (bits) of the 256-bin grey histogram of the fused image",
        ),
        _fusion("sd", "SD", ref="CDDFuse Evaluator.SD / VIFB metricsVariance.m", desc="population standard deviation"),
        _fusion(
            "sf",
            "SF",
            ref="CDDFuse Evaluator.SF / VIFB metricsSpatial_frequency.m",
            desc="spatial frequency (profile-specific normalisation)",
        ),
        _fusion("ag", "AG", ref="CDDFuse Evaluator.AG / VIFB metricsAvg_gradient.m", desc="average gradient"),
        _fusion(
            "mi",
            "MI",
            ref="CDDFuse Evaluator.MI (scikit-learn) / VIFB metricsMutinf.m",
            desc="MI(F,A) + MI(F,B) in nats",
        ),
        _fusion("scd", "SCD", ref="CDDFuse Evaluator.SCD", desc="sum of the correlations of differences"),
        _fusion(
            "vif",
            "VIF",
            ref="CDDFuse Evaluator.VIFF (vifp_mscale)",
            desc="VIFp(A,F) + VIFp(B,F), pixel-domain multi-scale",
        ),
        _fusion(
            "qabf", "Qabf", ref="CDDFuse Evaluator.Qabf / VIFB metricsQabf.m", desc="Xydeas-Petrovic edge preservation"
        ),
        _fusion(
            "ssim-fusion",
            "SSIMFusion",
            extra={"data_range": SSIM_FUSION_RANGE},
            ref="CDDFuse Evaluator.SSIM (skimage defaults) / VIFB metricsSsim.m",
            desc="SSIM(F,A) + SSIM(F,B)",
        ),
        _fusion(
            "psnr-fusion",
            "PSNRFusion",
            ref="CDDFuse Evaluator.PSNR / VIFB metricsPsnr.m",
            desc="PSNR of F against both sources (profile-specific definitions)",
        ),
        _fusion(
            "rmse",
            "RMSE",
            hib=False,
            ideal=0.0,
            ref="VIFB metricsRmse.m",
            desc="VIFB's quirky RMSE: mean over sources of ||X - F||_2 / (H W) (both profiles)",
        ),
        _fusion("cc", "CC", ref="CDDFuse Evaluator.CC", desc="(r(A,F) + r(B,F)) / 2"),
        # version 2: Kumar's per_extn_im_fn border is a mirror (without the edge), not the circular
        # wrap of version 1 (the helper's name, per_extn_im_fn, says "periodic"; Kumar's code mirrors)
        _fusion(
            "nabf",
            "Nabf",
            hib=False,
            ideal=0.0,
            version=NABF_VERSION,
            ref="Kumar's objective_fusion_perform_fn.m / analysis_nabf.m (NABF, modified), per_extn_im_fn border",
            desc="fusion artefacts where the fused gradient exceeds both sources",
        ),
        # VIFB's remaining four (the CDDFuse evaluator has none of them: profile 'vifb' only)
        _fusion(
            "ce",
            "CE",
            hib=False,
            ideal=0.0,
            extra=VIFB_ONLY,
            module="vifb",
            ref=f"{VIFB_MATLAB}metricsCross_entropy.m (Bulanon et al. 2009)",
            desc="(CE(A,F) + CE(B,F))/2, CE(X,F) = sum p_X log2(p_X/p_F) over levels both images use",
        ),
        _fusion(
            "ei",
            "EI",
            extra=VIFB_ONLY,
            module="vifb",
            ref=f"{VIFB_MATLAB}metricsEdge_intensity.m",
            desc="mean Sobel gradient magnitude of F, replicated borders",
        ),
        _fusion(
            "qcb",
            "QCB",
            extra=VIFB_ONLY,
            module="vifb",
            ref=f"{VIFB_MATLAB}metricsQcb.m (Chen & Blum 2009; Z. Liu's metricChenBlum.m)",
            desc="Chen-Blum contrast preservation: CSF DoG filtering, local contrast, saliency weights",
        ),
        _fusion(
            "qcv",
            "QCV",
            hib=False,
            extra=VIFB_ONLY,
            module="vifb",
            ref=f"{VIFB_MATLAB}metricsQcv.m (Chen & Varshney 2007; Z. Liu's metricChen.m)",
            desc="Chen-Varshney: CSF-filtered source-fused differences, 16x16 regions weighted by sum g^5",
        ),
    ]


@hookimpl
def fusionbench_register_metrics() -> list[MetricSpec]:
    return metric_specs()
