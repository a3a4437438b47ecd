"""Bike fit: where the hip sits relative to the bottom bracket, crank length, trunk (pelvis) angle, cleat.

Conventions (DESIGN): x forward, y up, origin at the bottom bracket. Saddle height is measured from the
bottom-bracket centre to the saddle top along the seat tube (or a given setback). The hip joint centre is
vertically above the saddle top by a rider-scaled offset (data/model_parameters.toml [saddle]).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .parameters import model_parameters

SADDLE_RULES = ("knee_bdc", "absolute", "inseam_fraction")


@dataclass(frozen=True)
class BikeFit:
    """Bike fit. Angles in degrees, lengths in m (user-facing edge).

    saddle_rule: 'knee_bdc' (default: saddle set so the knee flexion at BDC is knee_flexion_at_bdc_deg with
    the ankle at ankle_at_bdc_deg), 'absolute' (saddle_height_m), or 'inseam_fraction'
    (saddle height = inseam_fraction x inseam_m; inseam from stature when not given).
    setback_m, when given, places the saddle top that far behind the BB and overrides seat_tube_angle_deg.
    trunk_angle_deg: trunk above horizontal (45 = hoods, 90 = upright, >90 = reclined, recumbent).
    cleat_offset_m: pedal spindle forward (+) of the first metatarsal head along the sole.
    """

    saddle_rule: str = "knee_bdc"
    saddle_height_m: float | None = None
    knee_flexion_at_bdc_deg: float | None = None
    ankle_at_bdc_deg: float | None = None
    inseam_fraction: float | None = None
    inseam_m: float | None = None
    seat_tube_angle_deg: float | None = None
    setback_m: float | None = None
    crank_length_m: float | None = None
    trunk_angle_deg: float | None = None
    cleat_offset_m: float = 0.0

    def __post_init__(self) -> None:
        if self.saddle_rule not in SADDLE_RULES:
            raise ValueError(f"fit.saddle_rule: {self.saddle_rule!r} (allowed: {', '.join(SADDLE_RULES)})")
        if self.saddle_rule == "absolute" and self.saddle_height_m is None:
            raise ValueError("fit.saddle_height_m: required when saddle_rule = 'absolute'")

    def with_defaults(self) -> "BikeFit":
        """A copy with every unset field filled from data/model_parameters.toml."""
        mp = model_parameters()
        rule = mp["saddle_rule"]
        return replace(
            self,
            knee_flexion_at_bdc_deg=_or(self.knee_flexion_at_bdc_deg, rule["knee_flexion_at_bdc_deg"]),
            ankle_at_bdc_deg=_or(self.ankle_at_bdc_deg, rule["ankle_at_bdc_deg"]),
            inseam_fraction=_or(self.inseam_fraction, mp["saddle"]["lemond_fraction"]),
            seat_tube_angle_deg=_or(self.seat_tube_angle_deg, rule["seat_tube_angle_deg"]),
            crank_length_m=_or(self.crank_length_m, mp["crank"]["length_m"]),
            trunk_angle_deg=_or(self.trunk_angle_deg, mp["pelvis"]["reference_trunk_angle_deg"]),
        )


def _or(value, default):
    return default if value is None else value


def pelvis_tilt_rad(trunk_angle_deg: float) -> float:
    """Anterior pelvis tilt (rad) for a trunk angle: the reference tilt plus the coupled trunk lean."""
    pel = model_parameters()["pelvis"]
    tilt = pel["reference_anterior_tilt_deg"] + pel["lumbar_coupling"] * (pel["reference_trunk_angle_deg"] - trunk_angle_deg)
    return math.radians(tilt)


def seat_direction(fit: BikeFit) -> tuple[float, float]:
    """Unit vector from the BB up the seat tube (toward the saddle)."""
    sta = math.radians(fit.seat_tube_angle_deg)
    return (-math.cos(sta), math.sin(sta))


def hip_position(fit: BikeFit, saddle_height_m: float, hip_above_saddle_m: float) -> tuple[float, float]:
    """Hip joint centre (m) for a saddle height (BB centre to saddle top)."""
    if fit.setback_m is not None:
        if saddle_height_m <= fit.setback_m:
            raise ValueError(f"fit.setback_m: {fit.setback_m} must be smaller than the saddle height {saddle_height_m:.3f} m")
        sx, sy = -fit.setback_m, math.sqrt(saddle_height_m**2 - fit.setback_m**2)
    else:
        ux, uy = seat_direction(fit)
        sx, sy = saddle_height_m * ux, saddle_height_m * uy
    return (sx, sy + hip_above_saddle_m)
