"""The allowed range of every user-facing number, declared once.

The dataclasses' own checks (`Rider`, `ProblemSpec`, `CostSpec`, `SolverSpec`), the experiment-config schema
(pydantic field constraints in `toolkit/study/config/schema.py`) and the generated key reference
(docs/config.md) all read these tables, so a range changes in one place only. Keys are the field names of
the dataclass (and of the config key) that the range bounds. No imports from the rest of the toolkit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def num_text(value: float) -> str:
    """Shortest exact text of a number: 200.0 -> '200', 87.5 -> '87.5'."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@dataclass(frozen=True)
class Range:
    """lo <= x <= hi (strict where lo_open / hi_open; None: unbounded) in `unit` ('-' for a ratio)."""

    lo: float | None
    hi: float | None
    unit: str = "-"
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, x: float) -> bool:
        """True inside the range (NaN is never inside)."""
        ok_lo = self.lo is None or (x > self.lo if self.lo_open else x >= self.lo)
        ok_hi = self.hi is None or (x < self.hi if self.hi_open else x <= self.hi)
        return bool(ok_lo and ok_hi)

    def text(self) -> str:
        """'1.2 to 2.3 m', '> 0 and <= 5', '>= 1'."""
        u = f" {self.unit}" if self.unit not in ("-", "") else ""
        if self.lo is None and self.hi is None:
            return ""
        if self.lo is not None and self.hi is not None and not self.lo_open and not self.hi_open:
            return f"{num_text(self.lo)} to {num_text(self.hi)}{u}"
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {num_text(self.lo)}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {num_text(self.hi)}")
        return " and ".join(parts) + u

    def constraints(self) -> dict[str, Any]:
        """The bounds as pydantic Field keyword arguments (ge/gt/le/lt)."""
        out: dict[str, Any] = {}
        if self.lo is not None:
            out["gt" if self.lo_open else "ge"] = self.lo
        if self.hi is not None:
            out["lt" if self.hi_open else "le"] = self.hi
        return out

    def check(self, key: str, x: Any, what: str = "") -> None:
        """Raise ValueError 'key: x (allowed: range)' when x is outside the range (None is not checked)."""
        if x is not None and not self.contains(x):
            raise ValueError(f"{key}: {x} (allowed: {what or self.text()})")


_DEG = "deg"
ANKLE_DEG = Range(-40.0, 30.0, _DEG)  # the anatomical ankle range (dorsiflexion +)

#: toolkit.model.anthropometry.Rider
RIDER: dict[str, Range] = {
    "height_m": Range(1.2, 2.3, "m"),
    "mass_kg": Range(30.0, 150.0, "kg"),
    "vo2max_L_min": Range(1.0, 8.0, "L/min"),
    "gross_efficiency": Range(0.10, 0.30),
    "lactate_threshold_pct_vo2max": Range(40.0, 95.0, "% VO2max"),
    "map_W": Range(50.0, 800.0, "W"),
    "strength_scale": Range(0.0, 5.0, lo_open=True),
    "passive_strain_scale": Range(0.2, 5.0),
    "muscle_force_scale": Range(0.0, 5.0, lo_open=True),
    "type1_pct_vastus_lateralis": Range(5.0, 95.0, "%"),
}

#: toolkit.model.bikefit.BikeFit
FIT: dict[str, Range] = {
    "saddle_height_m": Range(0.4, 1.3, "m"),
    "knee_flexion_at_bdc_deg": Range(10.0, 60.0, _DEG),
    "ankle_at_bdc_deg": ANKLE_DEG,
    "inseam_fraction": Range(0.7, 1.1),
    "inseam_m": Range(0.55, 1.1, "m"),
    "seat_tube_angle_deg": Range(10.0, 90.0, _DEG),
    "setback_m": Range(-0.2, 1.0, "m"),
    "crank_length_m": Range(0.10, 0.22, "m"),
    "trunk_angle_deg": Range(0.0, 150.0, _DEG),
    "cleat_offset_m": Range(-0.15, 0.10, "m"),
}

#: toolkit.ocp.problem.ProblemSpec
PROBLEM: dict[str, Range] = {
    "power_W": Range(0.0, 1500.0, "W", lo_open=True),
    "cadence_rpm": Range(20.0, 200.0, "rpm"),
    "fixed_ankle_deg": ANKLE_DEG,
    "heel_drop_deg": Range(0.0, 45.0, _DEG),
    "heel_drop_window_deg": Range(0.0, 360.0, _DEG),   # [start, end], start < end
    "heel_drop_ramp_deg": Range(0.0, 90.0, _DEG),
    "ankle_range_deg": ANKLE_DEG,                      # [low, high], low <= high
    "ankle_range_width_deg": Range(0.0, 70.0, _DEG),
    "ankle_stop_stiffness_Nm_per_rad": Range(1e2, 1e6, "N m/rad"),
    "brace_stiffness_Nm_per_rad": Range(0.0, 1e5, "N m/rad"),
    "brace_neutral_deg": ANKLE_DEG,
    "brace_damping_Nms_per_rad": Range(0.0, 100.0, "N m s/rad"),
    "flywheel_inertia_kgm2": Range(0.01, 1000.0, "kg m^2"),
    "activation_floor": Range(0.0, 0.1),
    # prescribed_sole_deg samples: [crank_angle_deg, sole_angle_deg]
    "prescribed_crank_deg": Range(0.0, 360.0, _DEG),
    "prescribed_sole_deg": Range(-60.0, 60.0, _DEG),
}

#: toolkit.ocp.problem.CostSpec
COST: dict[str, Range] = {
    "metabolic_weight": Range(0.0, 1000.0),
    "weights": Range(0.0, 1000.0),
    "excitation_rate_weight": Range(0.0, 1000.0),
    "sole_accel_weight": Range(0.0, 1000.0),
}
ACTIVATION_EXPONENTS = (2, 3)

#: toolkit.ocp.problem.SolverSpec (nodes must also be even)
SOLVER: dict[str, Range] = {
    "nodes": Range(8, 400, ""),
    "tol": Range(0.0, 1e-2, lo_open=True),
    "constr_viol_tol": Range(0.0, 1e-2, lo_open=True),
    "max_iter": Range(1, 100000, ""),
    "max_cpu_time_s": Range(0.0, 86400.0, "s", lo_open=True),
    "print_level": Range(0, 12, ""),
    "multistart": Range(1, 100, ""),
}

#: Intensity levels given in percent (pct_vo2max, pct_lt, pct_map): 0 < value <= MAX_PCT.
MAX_PCT = 200.0
