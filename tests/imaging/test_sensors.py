"""Sensor table (toolbox MTF.m constants) and the toolbox's case-sensitive fallback."""

from __future__ import annotations

import pytest

from fusionbench.sensors import SENSORS, get_sensor


def test_table_values() -> None:
    wv3 = get_sensor("WV3")
    assert wv3.ms_gnyq == (0.325, 0.355, 0.360, 0.350, 0.365, 0.360, 0.335, 0.315)
    assert (wv3.bands, wv3.max_dn, wv3.L, wv3.pan_gnyq, wv3.ratio) == (8, 2047.0, 11, 0.14, 4)
    assert get_sensor("WV2").ms_gnyq[-1] == 0.27 and get_sensor("QB").ms_gnyq == (0.34, 0.32, 0.30, 0.22)
    gf2 = get_sensor("GF2")
    assert gf2.max_dn == 1023.0 and gf2.ms_gnyq == (0.3,) * 4 and gf2.pan_gnyq is None
    assert set(SENSORS) == {"WV3", "WV2", "QB", "GF2", "IKONOS", "GeoEye1", "WV4"}


def test_sensor_is_frozen() -> None:
    with pytest.raises(AttributeError):
        get_sensor("QB").bands = 5  # type: ignore[misc]


def test_case_sensitive_fallback_warns() -> None:
    with pytest.warns(UserWarning, match="case-sensitive"):
        s = get_sensor("wv3", bands=8)
    assert not s.known and s.ms_gnyq == (0.3,) * 8 and s.pan_gnyq == 0.15
    with pytest.raises(KeyError, match="did you mean 'WV3'"):
        get_sensor("wv3", strict=True)
    with pytest.raises(ValueError, match="bands="):
        get_sensor("Pleiades")
    assert get_sensor("Pleiades", bands=4).ms_gnyq == (0.3,) * 4
    with pytest.raises(ValueError, match="has 8 bands"):
        get_sensor("WV3", bands=4)
