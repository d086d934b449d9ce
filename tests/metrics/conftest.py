"""Fixtures for the metric tests: the real samples of ../shared/data as DN tensors.

``shared_data`` (skip when absent, fail with FUSIONBENCH_REQUIRE_SHARED_DATA=1) comes from the
repository's tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio
import torch

from fusionbench.imaging import interp23tap
from fusionbench.sensors import get_sensor
from fusionbench.specs import DataCard


@dataclass(frozen=True)
class RRSample:
    """A reduced-resolution sample in DN: ``gt``, EXP (23-tap upsampled ``lrms``) and ``pan``."""

    gt: torch.Tensor  # (1, C, H, W)
    exp: torch.Tensor
    pan: torch.Tensor  # (1, 1, H, W)
    card: DataCard


def _rr(path: Path, scale: float, card: DataCard) -> RRSample:
    d = sio.loadmat(path)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1) * scale))[None]  # noqa: E731
    gt, lrms = t(d["gt"]), t(d["lrms"])
    pan = torch.from_numpy(d["pan"] * scale)[None, None]
    return RRSample(gt, interp23tap(lrms, 4), pan, card)


@pytest.fixture(scope="session")
def wv3_rr(shared_data: Path) -> RRSample:
    s = get_sensor("WV3")
    card = DataCard(sensor="WV3", ratio=4, bands=8, max_value=2047.0, mtf_gnyq=s.ms_gnyq, pan_gnyq=s.pan_gnyq)
    return _rr(shared_data / "pansharpening" / "cdif_WV3_test_RR.mat", 2047.0, card)


@pytest.fixture(scope="session")
def pleiades_rr(shared_data: Path) -> RRSample:
    card = DataCard(sensor="Pleiades", ratio=4, bands=4, max_value=1023.0, mtf_gnyq=(0.3,) * 4)
    return _rr(shared_data / "pansharpening" / "cdif_Pleiades_test_RR.mat", 1023.0, card)


@dataclass(frozen=True)
class FRSample:
    ms: torch.Tensor  # (1, C, h, w) DN
    lms: torch.Tensor  # (1, C, H, W)
    pan: torch.Tensor  # (1, 1, H, W)
    card: DataCard

    @property
    def inputs(self) -> dict[str, torch.Tensor]:
        return {"ms": self.ms, "lms": self.lms, "pan": self.pan}


def _fr(path: Path, ms_key: str, sensor: str, crop: int | None = None) -> FRSample:
    d = sio.loadmat(path)
    ms = d[ms_key].astype(np.float64)
    pan = d["I_PAN"].astype(np.float64)
    if crop is not None:  # keep the tests quick: a corner of the scene
        ms, pan = ms[: crop // 4, : crop // 4], pan[:crop, :crop]
    s = get_sensor(sensor)
    ms_t = torch.from_numpy(np.ascontiguousarray(ms.transpose(2, 0, 1)))[None]
    card = DataCard(sensor=sensor, ratio=4, bands=s.bands, max_value=s.max_dn, mtf_gnyq=s.ms_gnyq, pan_gnyq=s.pan_gnyq)
    return FRSample(ms_t, interp23tap(ms_t, 4), torch.from_numpy(pan)[None, None], card)


@pytest.fixture(scope="session")
def wv3_fr(shared_data: Path) -> FRSample:
    return _fr(shared_data / "pansharpening" / "zpnn_WV3_example_FR.mat", "I_MS_LR", "WV3")


@pytest.fixture(scope="session")
def ikonos_fr(shared_data: Path) -> FRSample:
    return _fr(shared_data / "pansharpening" / "grip_imgIK_FR.mat", "I_MS", "IKONOS", crop=256)


@pytest.fixture(scope="session")
def wv2_fr(shared_data: Path) -> FRSample:
    return _fr(shared_data / "pansharpening" / "imgWV2_FR.mat", "I_MS", "WV2", crop=256)
