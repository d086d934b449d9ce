"""Hook implementations: import-light (no torch/numpy); factories are lazy import strings.

Each spec says in its description whether the method reproduces the MATLAB toolbox (the Pansharpening Toolbox (Vivone et al., IEEE GRSM 2021))
exactly or approximates it; ``docs/baselines.md`` has the details and parameters.
"""

from __future__ import annotations

from fusionbench import ModelSpec, ParamSpec, Requirements, hookimpl

_PKG = "fusionbench_classical"
_PANSHARPENING = frozenset({"pansharpening"})
_MHIF = frozenset({"mhif"})
_PAIRS = frozenset({"ivf", "mif"})
_DYADIC = Requirements(ratios=frozenset({2, 4, 8, 16}))  # interp23tap needs a power-of-two ratio

_TOOLBOX = "Vivone et al., A new benchmarking framework for pansharpening, IEEE GRSM 9(4), 2021"


def _spec(name: str, factory: str, tasks: frozenset[str], description: str, citation: str, **kwargs) -> ModelSpec:
    return ModelSpec(
        name=name,
        version=kwargs.pop("version", "1"),
        tasks=tasks,
        factory=f"{_PKG}.{factory}",
        description=description,
        citation=citation,
        license="Apache-2.0",
        **kwargs,
    )


def pansharpening_specs() -> list[ModelSpec]:
    ps = _PANSHARPENING
    return [
        _spec(
            "exp",
            "pansharpening:Expansion",
            ps,
            "[exact] EXP: the 23-tap upsampled MS (lms), no PAN injection",
            _TOOLBOX,
        ),
        _spec(
            "brovey",
            "cs:Brovey",
            ps,
            "[textbook] Brovey: lms x matched PAN / band-mean intensity",
            "Gillespie, Kahle, Walker, Remote Sens. Environ. 1987",
        ),
        _spec(
            "ihs",
            "cs:IHS",
            ps,
            "[textbook] generalised IHS: lms + (matched PAN - band-mean intensity)",
            "Tu et al., IEEE GRSL 2004",
        ),
        _spec(
            "pca",
            "cs:PCA",
            ps,
            "[textbook] PCA: first principal component replaced by the matched PAN",
            "Chavez, Sides, Anderson, PE&RS 1991",
        ),
        _spec(
            "bt-h",
            "cs:BTH",
            ps,
            "[exact] BT-H: Brovey with haze correction and regression intensity (BroveyRegHazeMin)",
            "Lolli et al., IEEE GRSL 2017",
        ),
        _spec(
            "gsa",
            "cs:GSA",
            ps,
            "[exact] adaptive Gram-Schmidt: LS intensity, covariance gains",
            "Aiazzi, Baronti, Selva, IEEE TGRS 2007",
            version="2",
        ),  # 2: the toolbox's undilated wavelet low-pass
        _spec(
            "c-gsa",
            "cgsa:CGSA",
            ps,
            "[approx: seeded k-means] context GSA: per-cluster injection gains on a k-means segmentation",
            "Restaino et al., IEEE TIP 2017",
            params={
                "clusters": ParamSpec(5, "int", help="k-means clusters (toolbox: 5)"),
                "seed": ParamSpec(0, "int", help="k-means++ seed (MATLAB kmeans is unseeded)"),
            },
        ),
        _spec(
            "bdsd-pc",
            "bdsd:BDSDPC",
            ps,
            "[exact up to solver] BDSD with physical constraints: sign-constrained LS at reduced scale",
            "Vivone, IEEE TGRS 2019",
            params={
                "missing_pan_gnyq": ParamSpec(
                    "default",
                    "str",
                    ("default", "error"),
                    "sensor without PAN MTF (GF2): default = GNyq 0.15, error = toolbox",
                )
            },
        ),
        _spec(
            "mtf-glp",
            "mra:MTFGLP",
            ps,
            "[approx] MTF-GLP: unit-gain injection of PAN minus its MTF-matched low-pass",
            "Aiazzi et al., PE&RS 2006",
            requires=_DYADIC,
        ),
        _spec(
            "mtf-glp-fs",
            "mra:MTFGLPFS",
            ps,
            "[exact] MTF-GLP with full-scale regression injection gains",
            "Vivone, Restaino, Chanussot, IEEE TIP 2018",
            requires=_DYADIC,
        ),
        _spec(
            "mtf-glp-hpm",
            "mra:MTFGLPHPM",
            ps,
            "[approx] MTF-GLP with high-pass modulation on the equalized PAN",
            "Aiazzi et al., IEEE TGRS 2003 / Vivone et al. 2015",
            requires=_DYADIC,
        ),
        _spec(
            "mtf-glp-hpm-r",
            "mra:MTFGLPHPMR",
            ps,
            "[exact] MTF-GLP-HPM with regression-based offset",
            "Vivone, Restaino, Chanussot, IEEE GRSL 2018",
            requires=_DYADIC,
        ),
        _spec(
            "awlp",
            "mra:AWLP",
            ps,
            "[exact] additive wavelet luminance proportional (toolbox B3-spline wavelet low-pass)",
            "Otazu et al., IEEE TGRS 2005",
            version="2",
        ),  # 2: the toolbox's undilated wavelet low-pass
        _spec(
            "pracs",
            "pracs:PRACS",
            ps,
            "[approx] partial replacement adaptive CS",
            "Choi, Yu, Kim, IEEE TGRS 2011",
            params={"beta": ParamSpec(0.95, "float", help="injection scale (toolbox: 0.95 for 11-bit data)")},
        ),
    ]


def mhif_specs() -> list[ModelSpec]:
    return [
        _spec(
            "glp-hs",
            "mhif:GLPHS",
            _MHIF,
            "hypersharpening GLP: per-HS-band synthetic PAN regressed from the MSI, MTF-GLP detail injection",
            "Selva et al., IEEE JSTSP 2015",
            params={
                "gnyq": ParamSpec(
                    0.3, "float", help="MTF gain at Nyquist of the HS degradation (0.3 = toolbox default)"
                )
            },
        ),
        _spec(
            "cnmf",
            "mhif:CNMF",
            _MHIF,
            "coupled NMF: alternating unmixing of LR-HSI and HR-MSI with estimated spectral response",
            "Yokoya, Yairi, Iwasaki, IEEE TGRS 2012",
            params={
                "endmembers": ParamSpec(12, "int", help="number of endmembers"),
                "outer": ParamSpec(3, "int", help="outer (coupling) iterations"),
                "inner": ParamSpec(100, "int", help="multiplicative updates per unmixing step"),
                "gnyq": ParamSpec(0.3, "float", help="MTF gain at Nyquist of the HS degradation"),
            },
        ),
    ]


def pair_specs() -> list[ModelSpec]:
    return [
        _spec("average", "ivf:Average", _PAIRS, "pixelwise mean of the two sources", "textbook"),
        _spec("max-abs", "ivf:MaxAbs", _PAIRS, "pixelwise source value of larger magnitude", "textbook"),
        _spec(
            "dwt",
            "ivf:DWT",
            _PAIRS,
            "DWT fusion: mean approximation, max-abs details (PyWavelets)",
            "Li, Manjunath, Mitra, Graph. Models Image Process. 1995",
            params={
                "wavelet": ParamSpec("db2", "str", help="PyWavelets wavelet name"),
                "levels": ParamSpec(3, "int", help="decomposition levels (capped by the image size)"),
            },
        ),
        _spec(
            "laplacian-pyramid",
            "ivf:LaplacianPyramid",
            _PAIRS,
            "Laplacian pyramid fusion: mean top Gaussian level, max-abs Laplacian levels",
            "Burt, Adelson, IEEE Trans. Commun. 1983 / Toet 1989",
            params={"levels": ParamSpec(4, "int", help="pyramid levels (capped by the image size)")},
        ),
        _spec(
            "gff",
            "gff:GFF",
            _PAIRS,
            "[exact] guided filtering fusion (VIFB GFF.m constants)",
            "Li, Kang, Hu, IEEE TIP 2013",
            params={
                "r1": ParamSpec(45, "int", help="base-layer guided filter radius"),
                "eps1": ParamSpec(0.3, "float", help="base-layer guided filter regularisation"),
                "r2": ParamSpec(7, "int", help="detail-layer guided filter radius"),
                "eps2": ParamSpec(1e-6, "float", help="detail-layer guided filter regularisation"),
            },
        ),
    ]


@hookimpl
def fusionbench_register_models():
    return pansharpening_specs() + mhif_specs() + pair_specs()


@hookimpl
def fusionbench_register_reported():
    """The published numbers in reported.csv (each row names the table it was copied from)."""
    from pathlib import Path

    from fusionbench.results.reported import read_reported_csv

    return read_reported_csv(Path(__file__).with_name("reported.csv"))
