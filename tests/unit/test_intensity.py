"""Intensity conversion (toolkit.study.intensity) against hand computation."""
from __future__ import annotations

import math

import pytest

from toolkit.model.anthropometry import Rider
from toolkit.study import intensity as it
from toolkit.study.config import rider_profiles


def test_rule_by_hand():
    r = Rider(vo2max_L_min=4.8, gross_efficiency=0.21, lactate_threshold_pct_vo2max=75.0, map_W=400.0)
    # 80 % of 4.8 L/min = 3.84 L/min; x 20.9 kJ/L = 80.256 kJ/min = 1337.6 W metabolic; x 0.21 = 280.896 W
    assert it.power_from_intensity(r, "pct_vo2max", 80) == pytest.approx(280.896, rel=1e-12)
    assert it.vo2max_power_W(r) == pytest.approx(4.8 * 20.9 * 1000 / 60 * 0.21, rel=1e-12)
    # LT power: 0.75 x 4.8 = 3.6 L/min -> 3.6 x 20.9 x 1000/60 x 0.21 = 263.34 W; 90 % of it = 237.006 W
    assert it.lt_power_W(r) == pytest.approx(263.34, rel=1e-12)
    assert it.power_from_intensity(r, "pct_lt", 90) == pytest.approx(237.006, rel=1e-12)
    assert it.power_from_intensity(r, "pct_map", 75) == pytest.approx(300.0, rel=1e-12)
    assert it.power_from_intensity(r, "W", 123.5) == 123.5


def test_constants_are_stated():
    assert it.ENERGY_EQUIVALENT_KJ_PER_L == 20.9
    # Lusk 1924 table at RQ 0.96: 4.998 kcal/L
    assert 4.998 * 4.184 == pytest.approx(it.ENERGY_EQUIVALENT_KJ_PER_L, abs=0.02)
    assert "20.9" in it.__doc__ and "Lusk" in it.__doc__


@pytest.mark.parametrize("unit", ["W", "pct_vo2max", "pct_lt", "pct_map"])
def test_monotonic(unit):
    r = Rider(map_W=380.0)
    values = [10, 30, 50, 70, 80, 90, 100, 120]
    powers = [it.power_from_intensity(r, unit, v) for v in values]
    assert all(b > a for a, b in zip(powers, powers[1:]))
    assert all(p > 0 for p in powers)


def test_high_lt_vs_low_lt():
    prof = rider_profiles()
    hi, lo = prof["high_lt"], prof["low_lt"]
    assert 80.0 <= hi.lactate_threshold_pct_vo2max <= 81.5
    assert 65.8 <= lo.lactate_threshold_pct_vo2max <= 70.0
    assert hi.vo2max_L_min == pytest.approx(lo.vo2max_L_min)
    assert it.power_from_intensity(hi, "pct_lt", 100) > it.power_from_intensity(lo, "pct_lt", 100)
    # same % VO2max -> same power (similar VO2max and efficiency)
    assert it.power_from_intensity(hi, "pct_vo2max", 90) == pytest.approx(it.power_from_intensity(lo, "pct_vo2max", 90))


def test_reference_profile_is_default_rider():
    ref = rider_profiles()["reference"]
    d = Rider()
    for f in ("height_m", "mass_kg", "sex", "vo2max_L_min", "gross_efficiency", "lactate_threshold_pct_vo2max"):
        assert getattr(ref, f) == getattr(d, f), f


def test_inverse():
    r = Rider()
    p = it.power_from_intensity(r, "pct_vo2max", 73.0)
    assert it.vo2_fraction_from_power(r, p) == pytest.approx(0.73)


def test_errors():
    r = Rider()
    with pytest.raises(ValueError, match="map_W"):
        it.power_from_intensity(r, "pct_map", 80)
    with pytest.raises(ValueError, match="intensity.unit"):
        it.power_from_intensity(r, "kW", 1)
    with pytest.raises(ValueError):
        it.power_from_intensity(r, "W", math.nan)
    with pytest.raises(ValueError):
        it.intensity_label("watts", 1)


@pytest.mark.parametrize("unit,value,label,key", [
    ("W", 200.0, "200 W", "P=200W"),
    ("W", 187.5, "187.5 W", "P=187.5W"),
    ("pct_vo2max", 80, "80% VO2max", "I=80pct_vo2max"),
    ("pct_lt", 100, "100% LT", "I=100pct_lt"),
    ("pct_map", 92.5, "92.5% MAP", "I=92.5pct_map"),
])
def test_labels(unit, value, label, key):
    assert it.intensity_label(unit, value) == label
    assert it.intensity_key(unit, value) == key
