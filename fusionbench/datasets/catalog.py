"""The real benchmark datasets: what they are, where they go under the data root, how to get them.

This module is pure data (no numpy, h5py or torch) so the plugin can turn it into
:class:`~fusionbench.specs.DatasetSpec` objects at import time. One :class:`CatalogEntry` per
registered dataset; the readers take their file patterns from here, and ``docs/datasets.md`` and
``fusionbench datasets info`` describe the same layout, so the three cannot drift apart.

Expected layout under the data root (patterns are case-insensitive; see :mod:`.locate`)::

    <root>/pansharpening/<sensor>/test_<sensor>_multiExm1.h5            reduced resolution, 20 images
    <root>/pansharpening/<sensor>/test_<sensor>_OrigScale_multiExm1.h5  full resolution, 20 images
    <root>/pansharpening/<sensor>/train_<sensor>.h5, valid_<sensor>*.h5 training patches
    <root>/mhif/cave/test_cave(with_up)x4.h5 ...                        CAVE / Harvard HSI stacks
    <root>/ivf/<dataset>/{ir,vi}/...                                    IVF pairs (same file stems)
    <root>/mif/MRI_CT/{MRI,CT}/...                                      Harvard medical pairs

An unpacked PanCollection download also works as is: ``pancollection/**/<file name>`` is searched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PAIR_READER = "fusionbench.datasets.pairs"
PANCOLLECTION_READER = "fusionbench.datasets.pancollection"
HSI_READER = "fusionbench.datasets.hsi"


@dataclass(frozen=True)
class CatalogEntry:
    """One real dataset.

    ``files`` maps a split to file patterns (HDF5 readers); ``pair_dirs`` maps a split to candidate
    (folder A, folder B) patterns (image-pair readers). The first candidate that exists wins.
    """

    name: str
    task: str
    protocol: str
    reader: str  # module whose ``openers`` builds the dataset
    description: str
    how_to_get: str
    url: str = ""
    citation: str = ""
    license: str = ""
    sensor: str = "none"
    ratio: int | None = None
    bands: int | None = None
    max_value: float = 1.0
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pair_dirs: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    fields: tuple[str, str] = ("", "")  # pair readers: input field of folder A, of folder B
    colour_field: str | None = None  # pair readers: the field that may be colour (YCbCr split)
    expected_items: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, object] = field(default_factory=dict)
    train_from: str = ""  # dataset whose train split trains models for this one (full-res: its -rr twin)

    @property
    def factory_path(self) -> str:
        """The lazy factory string of the DatasetSpec, e.g. ``fusionbench.datasets.pairs:openers.tno``."""
        return f"{self.reader}:openers.{self.name}"

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.files or self.pair_dirs)

    def looked_for(self, split: str, root: str = "<root>") -> tuple[str, ...]:
        """The places searched for ``split`` under ``root``, for "where I looked" messages and docs."""
        if self.files:
            return tuple(f"{root}/{p}" for p in self.files[split])
        return tuple(f"{root}/{a}  +  {root}/{b}" for a, b in self.pair_dirs[split])


def _ro(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


# -- pansharpening (PanCollection) -------------------------------------------------------------
PANCOLLECTION_HOW = (
    "download the PanCollection test/training sets (H5) for {S} from the links in the README of "
    "https://github.com/liangjiandeng/PanCollection (Google Drive / Baidu) and put {files} in "
    "<root>/pansharpening/{s}/ (or unpack the download under <root>/pancollection/)."
)
PANCOLLECTION_CITE = (
    "X. Deng et al., Machine learning in pansharpening: a benchmark, from shallow to deep networks, "
    "IEEE GRSM 2022 (PanCollection)."
)
_PAN_SENSORS: dict[str, dict[str, object]] = {
    # sensor -> (max DN, bands, has training set); constants in fusionbench.sensors
    "wv3": {"S": "WV3", "max": 2047.0, "bands": 8, "train": True, "n_train": 9714},
    "qb": {"S": "QB", "max": 2047.0, "bands": 4, "train": True, "n_train": 17139},
    "gf2": {"S": "GF2", "max": 1023.0, "bands": 4, "train": True, "n_train": 19809},
    "wv2": {"S": "WV2", "max": 2047.0, "bands": 8, "train": False, "n_train": 0},
}


def _pan_patterns(stem: str, s: str) -> tuple[str, ...]:
    return (
        f"pansharpening/{s}/{stem}",
        f"pansharpening/**/{stem}",
        f"pancollection/**/{stem}",
    )


def _pancollection_entries() -> list[CatalogEntry]:
    out: list[CatalogEntry] = []
    for s, info in _PAN_SENSORS.items():
        S = str(info["S"])
        rr_files: dict[str, tuple[str, ...]] = {"test": _pan_patterns(f"test_{s}_multiExm1.h5", s)}
        rr_counts = {"test": 20}
        if info["train"]:
            rr_files["train"] = _pan_patterns(f"train_{s}.h5", s)
            rr_files["valid"] = _pan_patterns(f"valid_{s}*.h5", s)
        common = dict(
            task="pansharpening",
            reader=PANCOLLECTION_READER,
            url="https://github.com/liangjiandeng/PanCollection",
            citation=PANCOLLECTION_CITE,
            license="research use; see the PanCollection README (imagery © the satellite vendors)",
            sensor=S,
            ratio=4,
            bands=int(info["bands"]),  # type: ignore[arg-type]
            max_value=float(info["max"]),  # type: ignore[arg-type]
        )
        rr_names = ", ".join(f"test_{s}_multiExm1.h5" if k == "test" else f"{k}_{s}.h5" for k in rr_files)
        out.append(
            CatalogEntry(
                name=f"{s}-rr",
                protocol="reduced",
                description=(
                    f"PanCollection {S} reduced resolution (Wald protocol): 20 test images, PAN 256×256, "
                    f"MS 64×64×{info['bands']}, with gt"
                    + ("; training/validation patches 64×64" if info["train"] else "")
                ),
                how_to_get=PANCOLLECTION_HOW.format(S=S, s=s, files=rr_names),
                files=_ro(rr_files),
                expected_items=_ro(rr_counts),
                **common,  # type: ignore[arg-type]
            )
        )
        out.append(
            CatalogEntry(
                name=f"{s}-fr",
                protocol="full",
                description=f"PanCollection {S} full resolution: 20 images, PAN 512×512, MS 128×128×{info['bands']}, no gt",
                how_to_get=PANCOLLECTION_HOW.format(S=S, s=s, files=f"test_{s}_OrigScale_multiExm1.h5"),
                files=_ro({"test": _pan_patterns(f"test_{s}_OrigScale_multiExm1.h5", s)}),
                expected_items=_ro({"test": 20}),
                train_from=f"{s}-rr",
                **common,  # type: ignore[arg-type]
            )
        )
    return out


# -- MHIF (CAVE / Harvard) ---------------------------------------------------------------------
HSI_HOW = (
    "get the HDF5 files prepared by the Deng group (keys GT, LRHSI, RGB, HSI_up), e.g. via the links in "
    "https://github.com/shangqideng/PSRT or https://github.com/294coder/Dif-PAN, and put {files} in "
    "<root>/mhif/{folder}/ (the raw scenes: {raw})."
)
CAVE_RAW = "https://www.cs.columbia.edu/CAVE/databases/multispectral/"
HARVARD_RAW = "http://vision.seas.harvard.edu/hyperspec/"


def _hsi_patterns(folder: str, stem: str) -> tuple[str, ...]:
    return (f"mhif/{folder}/{stem}", f"mhif/**/{stem}")


def _hsi_entries() -> list[CatalogEntry]:
    out: list[CatalogEntry] = []
    for name, folder, ratio, files, raw, rgb_order, desc in (
        (
            "cave-x4",
            "cave",
            4,
            {
                "test": ("test_cave(with_up)x4.h5", "test_cave*x4*.h5"),
                "train": ("train_cave(with_up)x4.h5", "train_cave*x4*.h5"),
                "valid": ("validation_cave(with_up)x4.h5", "valid*_cave*x4*.h5"),
            },
            CAVE_RAW,
            "bgr",
            "CAVE 31-band HSI (400–700 nm), ×4: 11 test scenes (20 train), LR-HSI + RGB HR-MSI; values in [0, 1]",
        ),
        (
            "cave-x8",
            "cave",
            8,
            {
                "test": ("test_cave(with_up)x8_rgb.h5", "test_cave*x8*.h5"),
                "train": ("train_cave(with_up)x8_rgb.h5", "train_cave*x8*.h5"),
                "valid": ("validation_cave(with_up)x8_rgb.h5", "valid*_cave*x8*.h5"),
            },
            CAVE_RAW,
            "bgr",
            "CAVE 31-band HSI, ×8; values in [0, 1]",
        ),
        (
            "harvard-x4",
            "harvard",
            4,
            {
                "test": ("test_harvard(with_up)x4.h5", "test_harvard*x4*.h5"),
                "train": ("train_harvard(with_up)x4.h5", "train_harvard*x4*.h5"),
            },
            HARVARD_RAW,
            "rgb",
            "Harvard 31-band HSI (420–720 nm), ×4; values in [0, 1]",
        ),
    ):
        patterns = {
            split: tuple(p for stem in stems for p in _hsi_patterns(folder, stem)) for split, stems in files.items()
        }
        out.append(
            CatalogEntry(
                name=name,
                task="mhif",
                protocol="reduced",
                reader=HSI_READER,
                description=desc,
                how_to_get=HSI_HOW.format(files=files["test"][0], folder=folder, raw=raw),
                url=raw,
                citation="R. Dian, S. Li et al. / Deng group MHIF benchmark; scenes: CAVE (Yasuma et al. 2010) or Harvard (Chakrabarti & Zickler 2011)",
                license="research use (see the scene providers' terms)",
                sensor=folder,
                ratio=ratio,
                bands=31,
                max_value=1.0,
                files=_ro(patterns),
                expected_items=_ro({"test": 11} if folder == "cave" else {}),
                extra=_ro({"rgb_order": rgb_order}),
            )
        )
    return out


# -- IVF / MIF image pairs ---------------------------------------------------------------------
def _ivf(
    name: str,
    description: str,
    how: str,
    url: str,
    citation: str,
    license: str,
    pair_dirs: Mapping[str, tuple[tuple[str, str], ...]],
    expected: Mapping[str, int],
) -> CatalogEntry:
    return CatalogEntry(
        name=name,
        task="ivf",
        protocol="none",
        reader=PAIR_READER,
        description=description,
        how_to_get=how,
        url=url,
        citation=citation,
        license=license,
        sensor=name,
        max_value=255.0,
        pair_dirs=_ro(pair_dirs),
        fields=("ir", "vi"),
        colour_field="vi",
        expected_items=_ro(expected),
    )


def _ivf_entries() -> list[CatalogEntry]:
    return [
        _ivf(
            "msrs",
            "MSRS road scenes (day/night), 480×640, IR grey + colour VI; official split 1,083 train / 361 test",
            "clone or download https://github.com/Linfeng-Tang/MSRS and put its test/ and train/ folders "
            "(each with ir/ and vi/) in <root>/ivf/msrs/.",
            "https://github.com/Linfeng-Tang/MSRS",
            "L. Tang et al., PIAFusion, Information Fusion 2022",
            "see the MSRS repository",
            {
                "test": (("ivf/msrs/test/ir", "ivf/msrs/test/vi"), ("ivf/msrs/ir", "ivf/msrs/vi")),
                "train": (("ivf/msrs/train/ir", "ivf/msrs/train/vi"),),
            },
            {"test": 361, "train": 1083},
        ),
        _ivf(
            "tno",
            "TNO Image Fusion Dataset, grey IR/VI pairs of varied sizes (CDDFuse test set: 25 pairs)",
            "download the TNO Image Fusion Dataset (A. Toet, figshare 10.6084/m9.figshare.1008029) or the "
            "25-pair test set in test_img/TNO of https://github.com/Zhaozixiang1228/MMIF-CDDFuse, and put "
            "matching file names in <root>/ivf/tno/ir/ and <root>/ivf/tno/vi/.",
            "https://figshare.com/articles/dataset/TNO_Image_Fusion_Dataset/1008029",
            "A. Toet, The TNO multiband image data collection, Data in Brief 2017",
            "CC BY 4.0 (figshare) — verify",
            {"test": (("ivf/tno/ir", "ivf/tno/vi"),)},
            {"test": 25},
        ),
        _ivf(
            "roadscene",
            "RoadScene (FLIR video), IR grey + colour VI, ≈450–550 × 260–360 (CDDFuse test set: 50 pairs)",
            "download https://github.com/hanna-xu/RoadScene (folders cropinfrared/ and crop_HR_visible/) or the "
            "test_img/RoadScene set of MMIF-CDDFuse, and put it in <root>/ivf/roadscene/ (ir/ + vi/, or the "
            "original folder names).",
            "https://github.com/hanna-xu/RoadScene",
            "H. Xu et al., U2Fusion, IEEE TPAMI 2020",
            "see the RoadScene repository",
            {
                "test": (
                    ("ivf/roadscene/ir", "ivf/roadscene/vi"),
                    ("ivf/roadscene/cropinfrared", "ivf/roadscene/crop_HR_visible"),
                )
            },
            {"test": 50},
        ),
        _ivf(
            "m3fd",
            "M3FD fusion subset (TarDAL), 300 pairs 1024×768, colour VI",
            "download M3FD (fusion subset 'M3FD_Fusion', folders Ir/ and Vis/) from the links in "
            "https://github.com/JinyuanLiu-CV/TarDAL and put it in <root>/ivf/m3fd/.",
            "https://github.com/JinyuanLiu-CV/TarDAL",
            "J. Liu et al., TarDAL, CVPR 2022",
            "see the TarDAL repository",
            {
                "test": (
                    ("ivf/m3fd/ir", "ivf/m3fd/vi"),
                    ("ivf/m3fd/M3FD_Fusion/Ir", "ivf/m3fd/M3FD_Fusion/Vis"),
                    ("ivf/m3fd/Ir", "ivf/m3fd/Vis"),
                )
            },
            {"test": 300},
        ),
        _ivf(
            "llvip",
            "LLVIP low-light pedestrian pairs, 1280×1024 (12,025 train / 3,463 test), IR stored as 3-channel",
            "download LLVIP from https://github.com/bupt-ai-cz/LLVIP and put its infrared/ and visible/ folders "
            "(each with test/ and train/) in <root>/ivf/llvip/.",
            "https://github.com/bupt-ai-cz/LLVIP",
            "X. Jia et al., LLVIP, ICCV Workshops 2021",
            "LLVIP research licence",
            {
                "test": (("ivf/llvip/infrared/test", "ivf/llvip/visible/test"), ("ivf/llvip/ir", "ivf/llvip/vi")),
                "train": (("ivf/llvip/infrared/train", "ivf/llvip/visible/train"),),
            },
            {"test": 3463, "train": 12025},
        ),
        _ivf(
            "vifb",
            "VIFB visible–infrared fusion benchmark: 21 pairs, colour VI",
            "clone https://github.com/xingchenzhang/VIFB and put its input/ folder (IR/ and VI/) in <root>/ivf/vifb/.",
            "https://github.com/xingchenzhang/VIFB",
            "X. Zhang, P. Ye, G. Xiao, VIFB, CVPR Workshops 2020",
            "no licence file; cite VIFB and its sources",
            {"test": (("ivf/vifb/input/IR", "ivf/vifb/input/VI"), ("ivf/vifb/IR", "ivf/vifb/VI"))},
            {"test": 21},
        ),
    ]


def _mif_entries() -> list[CatalogEntry]:
    out: list[CatalogEntry] = []
    for other, n, colour in (("CT", 21, False), ("PET", 42, True), ("SPECT", 73, True)):
        folder = f"MRI_{other}"
        out.append(
            CatalogEntry(
                name=f"harvard-mri-{other.lower()}",
                task="mif",
                protocol="none",
                reader=PAIR_READER,
                description=(
                    f"Harvard Whole Brain Atlas MRI–{other} pairs, 256×256"
                    + (f"; {other} is pseudo-colour (fused as Y, CbCr kept)" if colour else "")
                    + f" (CDDFuse test set: {n} pairs)"
                ),
                how_to_get=(
                    f"take the {folder} test set from test_img/{folder} of https://github.com/Zhaozixiang1228/MMIF-CDDFuse "
                    f"(or build pairs from http://www.med.harvard.edu/AANLIB/) and put it in <root>/mif/{folder}/ "
                    f"with sub-folders MRI/ and {other}/ holding matching file names."
                ),
                url="http://www.med.harvard.edu/AANLIB/",
                citation="K. A. Johnson, J. A. Becker, The Whole Brain Atlas, Harvard Medical School",
                license="see the Whole Brain Atlas terms",
                sensor=folder.lower(),
                max_value=255.0,
                pair_dirs=_ro(
                    {
                        "test": (
                            (f"mif/{folder}/MRI", f"mif/{folder}/{other}"),
                            (f"mif/harvard/{folder}/MRI", f"mif/harvard/{folder}/{other}"),
                        )
                    }
                ),
                fields=("mri", "other"),
                colour_field="other",
                expected_items=_ro({"test": n}),
            )
        )
    return out


CATALOG: Mapping[str, CatalogEntry] = MappingProxyType(
    {e.name: e for e in (*_pancollection_entries(), *_hsi_entries(), *_ivf_entries(), *_mif_entries())}
)


def get_entry(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no catalog entry {name!r}; known: {', '.join(sorted(CATALOG))}") from None
