"""Pansharpening sensor constants, as the MATLAB toolbox uses them.

``ms_gnyq`` are the per-band MTF gains at the MS Nyquist frequency (they set the Wald-protocol
and D_lambda^K filters), ``pan_gnyq`` the PAN's, ``max_dn`` the value range the released data is
stored in (``img_scale``), ``L`` the radiometric bits the scripts pass (only used when clipping).

Name lookup is case-sensitive, exactly like the toolbox: ``'WV3'`` has its own MTF values while
``'wv3'`` or ``'GF2'`` fall through to the generic default (GNyq 0.3 for every band, PAN 0.15).
:func:`get_sensor` reproduces that fall-through (so DN-for-DN parity with published numbers that
relied on it stays possible) but warns when the name only differs in case from a known sensor,
since that is almost always an accident.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

DEFAULT_GNYQ = 0.3
"""Toolbox default MS GNyq for any sensor string it does not know."""

DEFAULT_PAN_GNYQ = 0.15
"""Toolbox default PAN GNyq for any sensor string it does not know."""


@dataclass(frozen=True)
class Sensor:
    name: str
    bands: int
    max_dn: float
    L: int
    ms_gnyq: tuple[float, ...]
    pan_gnyq: float | None  # None: the toolbox has no PAN MTF for it (GF2 errors there)
    ratio: int = 4
    known: bool = True  # False for the generic fallback

    def __post_init__(self) -> None:
        if len(self.ms_gnyq) != self.bands:
            raise ValueError(f"{self.name}: {len(self.ms_gnyq)} GNyq values for {self.bands} bands")


SENSORS: dict[str, Sensor] = {
    s.name: s
    for s in (
        Sensor("WV3", 8, 2047.0, 11, (0.325, 0.355, 0.360, 0.350, 0.365, 0.360, 0.335, 0.315), 0.14),
        Sensor("WV2", 8, 2047.0, 11, (0.35,) * 7 + (0.27,), 0.11),
        Sensor("QB", 4, 2047.0, 11, (0.34, 0.32, 0.30, 0.22), 0.15),
        # GF2 has no toolbox entry: the 0.3 default applies to every band; the scripts set L=11
        # and the PanCollection data is stored /1023.
        Sensor("GF2", 4, 1023.0, 11, (DEFAULT_GNYQ,) * 4, None),
        Sensor("IKONOS", 4, 2047.0, 11, (0.26, 0.28, 0.29, 0.28), 0.17),
        Sensor("GeoEye1", 4, 2047.0, 11, (0.23,) * 4, 0.16),
        Sensor("WV4", 4, 2047.0, 11, (0.23,) * 4, 0.16),
    )
}


def get_sensor(name: str, bands: int | None = None, *, strict: bool = False) -> Sensor:
    """Constants for ``name``, looked up case-sensitively as the toolbox does.

    An unknown name returns the toolbox's generic fallback (``known=False``): GNyq 0.3 for each
    of ``bands`` bands (required then), PAN 0.15, ``max_dn`` 2047, L 11. ``strict=True`` raises
    ``KeyError`` instead. A name equal to a known sensor up to case (``'wv3'``) warns, because the
    toolbox silently uses the default there and numbers change.
    """
    if name in SENSORS:
        sensor = SENSORS[name]
        if bands is not None and bands != sensor.bands:
            raise ValueError(f"sensor {name} has {sensor.bands} bands, not {bands}")
        return sensor
    near = [k for k in SENSORS if k.lower() == str(name).lower()]
    if strict:
        hint = f" (did you mean {near[0]!r}? names are case-sensitive)" if near else ""
        raise KeyError(f"unknown sensor {name!r}{hint}; known: {', '.join(SENSORS)}")
    if near:
        warnings.warn(
            f"sensor {name!r} is not {near[0]!r}: names are case-sensitive, so the toolbox default "
            f"GNyq {DEFAULT_GNYQ} is used, not {near[0]}'s MTF values",
            stacklevel=2,
        )
    if bands is None:
        raise ValueError(f"sensor {name!r} is unknown: pass bands= to get the default constants")
    return Sensor(str(name), bands, 2047.0, 11, (DEFAULT_GNYQ,) * bands, DEFAULT_PAN_GNYQ, known=False)


__all__ = ["DEFAULT_GNYQ", "DEFAULT_PAN_GNYQ", "SENSORS", "Sensor", "get_sensor"]
