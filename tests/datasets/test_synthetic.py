"""Embedded synthetic datasets: deterministic, clearly named, shaped like the real ones, rankable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from fusionbench.components.datasets import all_specs
from fusionbench.datasets.simulate import resimulation_error
from fusionbench.datasets.synthetic import SyntheticDataset, openers
from fusionbench.datasets.synthetic_catalog import SYNTHETIC


def _open(name: str, **kw: object) -> SyntheticDataset:
    return openers.__getattr__(name)(root=None, **kw)


def test_names_and_flags_cannot_be_mistaken_for_real_data() -> None:
    specs = {s.name: s for s in all_specs()}
    for name in SYNTHETIC:
        assert name.startswith("synthetic-") and specs[name].synthetic
        assert "SYNTHETIC" in specs[name].description
        assert specs[name].card.extra["synthetic"] is True
    assert not any(s.synthetic for n, s in specs.items() if not n.startswith("synthetic-"))


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_test_split_is_valid_and_small(name: str) -> None:
    ds = _open(name)
    items = list(ds.items("test"))  # every item passes the task validation
    assert 4 <= len(items) <= 6
    first = items[0]
    if ds.task == "pansharpening":
        pan = first.inputs["pan"]
        assert pan.shape[-1] == (128 if ds.protocol == "reduced" else 256) and pan.shape[-1] % 32 == 0
        assert first.inputs["ms"].shape == (ds.card.bands, pan.shape[-2] // 4, pan.shape[-1] // 4)
        assert (first.reference is not None) == (ds.protocol == "reduced")
        assert 0 <= pan.min() and pan.max() <= ds.card.max_value
    if ds.task == "mhif":
        assert first.reference.shape == (31, 128, 128) and 0 <= first.reference.min() and first.reference.max() <= 1


def test_deterministic_and_order_independent() -> None:
    a, b = _open("synthetic-qb-rr"), _open("synthetic-qb-rr")
    late = b.get("train", 17)
    first = a.get("train", 0)
    np.testing.assert_array_equal(a.get("train", 17).inputs["pan"], late.inputs["pan"])
    assert not np.array_equal(first.inputs["pan"], late.inputs["pan"])
    assert a.content_sha256("train") == b.content_sha256("train") != a.content_sha256("test")
    c = _open("synthetic-qb-rr", seed=1)
    assert c.content_sha256("test") != a.content_sha256("test")
    assert not np.array_equal(c.get("test", 0).inputs["pan"], a.get("test", 0).inputs["pan"])


def test_cached_items_are_copies() -> None:
    ds = _open("synthetic-ivf")
    item = ds.get("test", 0)
    item.inputs["ir"][:] = -1
    assert ds.get("test", 0).inputs["ir"].min() >= 0


def test_reduced_ms_is_the_sensor_wald_degradation_of_gt() -> None:
    ds = _open("synthetic-wv3-rr")
    item = ds.get("test", 0)
    assert resimulation_error(item.reference, item.inputs["ms"], ds.card.mtf_gnyq, 4) < 1e-9
    assert ds.card.mtf_gnyq[0] == 0.325 and ds.card.max_value == 2047


def test_pickle_round_trip() -> None:
    ds = _open("synthetic-mif", modality="pet")
    clone = pickle.loads(pickle.dumps(ds))
    assert clone.card == ds.card and clone.content_sha256() == ds.content_sha256()
    np.testing.assert_array_equal(clone.get("test", 2).inputs["other"], ds.get("test", 2).inputs["other"])


def test_colour_options() -> None:
    grey = _open("synthetic-ivf", colour=False).get("test", 0)
    colour = _open("synthetic-ivf").get("test", 0)
    assert "vi_cbcr" not in grey.extras and colour.extras["vi_cbcr"].shape == (2, 128, 160)
    mixed = _open("synthetic-mif")
    kinds = [mixed.get("test", i).extras["other_modality"] for i in range(3)]
    assert kinds == ["CT", "PET", "SPECT"]
    assert "other_cbcr" not in mixed.get("test", 0).extras and "other_cbcr" in mixed.get("test", 1).extras
    with pytest.raises(ValueError, match="modality"):
        _open("synthetic-mif", modality="xray")
    with pytest.raises(TypeError, match="no option"):
        _open("synthetic-ivf", modality="ct")


def test_ivf_content_is_complementary() -> None:
    for item in _open("synthetic-ivf").items():
        ir, vi = item.inputs["ir"][0], item.inputs["vi"][0]
        assert abs(np.corrcoef(ir.ravel(), vi.ravel())[0, 1]) < 0.9
        hot = ir > np.percentile(ir, 99)
        assert ir[hot].mean() - ir.mean() > vi[hot].mean() - vi.mean()  # targets stand out in IR
        detail = lambda x: np.abs(np.diff(x, axis=1)).mean()  # noqa: E731
        assert detail(vi) > detail(ir)  # texture lives in the visible image


def _rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(((x - y) ** 2).mean()))


@pytest.mark.parametrize("name", ["synthetic-wv3-rr", "synthetic-qb-rr"])
def test_methods_can_be_ranked(name: str) -> None:
    """Detail injection from PAN (a GS-like regression) beats plain interpolation on every image."""
    for item in _open(name).items():
        lms, pan, gt = item.inputs["lms"], item.inputs["pan"][0], item.reference
        design = np.c_[lms.reshape(len(lms), -1).T, np.ones(pan.size)]
        intensity = (design @ np.linalg.lstsq(design, pan.ravel(), rcond=None)[0]).reshape(pan.shape)
        gains = np.array([np.cov(b.ravel(), intensity.ravel())[0, 1] / intensity.var() for b in lms])
        fused = lms + gains[:, None, None] * (pan - intensity)
        assert _rmse(fused, gt) < 0.9 * _rmse(lms, gt)
