"""Intensity levels: convert a work rate given relative to a rider's physiology into crank power (W).

The rule (stated once here; docs/config.md repeats it):

    metabolic power (W) = VO2 (L/min) x E_O2 (kJ/L) x 1000 / 60
    crank power (W)     = metabolic power x gross_efficiency

with E_O2 = 20.9 kJ per litre of O2, the energy equivalent of oxygen at a respiratory exchange ratio of
about 0.96 (Lusk 1924 non-protein RQ table: 4.998 kcal/L at RQ 0.96 = 20.91 kJ/L; the same value follows
from the linear form 3.815 + 1.232 RER kcal/L). Over RER 0.85-1.0 E_O2 spans about 20.3-21.1 kJ/L, so the
constant is a stated assumption worth about +/-3 % in power. Gross efficiency is the rider's
(trained cyclists 19-23 %; shared/reference/studies.md "Riders and intensity").

Units (the `[intensity] unit` key of an experiment):

- ``W``          crank power in watts, used as given;
- ``pct_vo2max`` VO2 = value/100 x vo2max_L_min, converted with the rule above;
- ``pct_lt``     percent of the power at the lactate threshold, i.e. VO2 = value/100 x
                 lactate_threshold_pct_vo2max/100 x vo2max_L_min, converted with the rule above;
- ``pct_map``    percent of the rider's maximal aerobic power ``map_W`` (measured, e.g. ramp-test peak).

Example: a rider with VO2max 4.8 L/min and 21 % gross efficiency produces 4.8 x 20.9 x 1000/60 x 0.21
= 351.1 W at 100 % VO2max and 280.9 W at 80 % VO2max.
"""
from __future__ import annotations

import math

from ..model.anthropometry import Rider

#: Energy equivalent of oxygen (kJ per litre O2) at RER ~0.96: Lusk G (1924) J Biol Chem 59:41-42,
#: non-protein RQ table, 4.998 kcal/L at RQ 0.96 (x 4.184 kJ/kcal = 20.91 kJ/L).
ENERGY_EQUIVALENT_KJ_PER_L = 20.9
#: The RER the constant above stands for.
ENERGY_EQUIVALENT_RER = 0.96

#: Intensity units, each with the label suffix used in tables and plots.
INTENSITY_UNITS: dict[str, str] = {
    "W": "W",
    "pct_vo2max": "% VO2max",
    "pct_lt": "% LT",
    "pct_map": "% MAP",
}

#: Which rider figures each unit needs (besides the value itself).
UNIT_REQUIRES: dict[str, tuple[str, ...]] = {
    "W": (),
    "pct_vo2max": ("vo2max_L_min", "gross_efficiency"),
    "pct_lt": ("vo2max_L_min", "gross_efficiency", "lactate_threshold_pct_vo2max"),
    "pct_map": ("map_W",),
}


def metabolic_power_W(vo2_L_min: float) -> float:
    """Metabolic power (W) of an oxygen uptake (L/min) at the stated energy equivalent."""
    return vo2_L_min * ENERGY_EQUIVALENT_KJ_PER_L * 1000.0 / 60.0


def power_at_vo2_W(rider: Rider, vo2_L_min: float) -> float:
    """Crank power (W) the rider produces at an oxygen uptake (L/min), at the rider's gross efficiency."""
    return metabolic_power_W(vo2_L_min) * rider.gross_efficiency


def vo2max_power_W(rider: Rider) -> float:
    """Crank power (W) at 100 % VO2max by the rule above (not the same as a measured MAP)."""
    return power_at_vo2_W(rider, rider.vo2max_L_min)


def lt_power_W(rider: Rider) -> float:
    """Crank power (W) at the rider's lactate threshold."""
    return power_at_vo2_W(rider, rider.lactate_threshold_pct_vo2max / 100.0 * rider.vo2max_L_min)


def power_from_intensity(rider: Rider, unit: str, value: float) -> float:
    """Crank power (W) for an intensity `value` in `unit` (one of INTENSITY_UNITS) for `rider`.

    Raises ValueError for an unknown unit, a non-finite value, or a rider lacking the figure the unit
    needs (map_W for pct_map).
    """
    if unit not in INTENSITY_UNITS:
        raise ValueError(f"intensity.unit: {unit!r} (allowed: {', '.join(INTENSITY_UNITS)})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"intensity value: {value} (allowed: a finite number)")
    if unit == "W":
        return value
    if unit == "pct_vo2max":
        return power_at_vo2_W(rider, value / 100.0 * rider.vo2max_L_min)
    if unit == "pct_lt":
        return value / 100.0 * lt_power_W(rider)
    if rider.map_W is None:
        raise ValueError(f"rider.map_W: not given for rider {rider.name!r} (allowed: a maximal aerobic power in W, "
                         "required for unit 'pct_map')")
    return value / 100.0 * rider.map_W


def vo2_fraction_from_power(rider: Rider, power_W: float) -> float:
    """Inverse of the rule: the fraction of VO2max (0-1) at which the rider produces power_W."""
    return power_W / vo2max_power_W(rider)


def _num(value: float) -> str:
    """Shortest exact text of a number: 200.0 -> '200', 87.5 -> '87.5'."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def intensity_label(unit: str, value: float) -> str:
    """Human label of an intensity level: ('W', 200) -> '200 W', ('pct_vo2max', 80) -> '80% VO2max'."""
    if unit not in INTENSITY_UNITS:
        raise ValueError(f"intensity.unit: {unit!r} (allowed: {', '.join(INTENSITY_UNITS)})")
    if unit == "W":
        return f"{_num(value)} W"
    return f"{_num(value)}{INTENSITY_UNITS[unit]}"


def intensity_key(unit: str, value: float) -> str:
    """Path-safe key fragment: ('W', 200) -> 'P=200W', ('pct_vo2max', 80) -> 'I=80pct_vo2max'."""
    if unit not in INTENSITY_UNITS:
        raise ValueError(f"intensity.unit: {unit!r} (allowed: {', '.join(INTENSITY_UNITS)})")
    if unit == "W":
        return f"P={_num(value)}W"
    return f"I={_num(value)}{unit}"
