"""Hill-type muscle-tendon units: De Groote et al. (2016) curves, activation dynamics, rigid or compliant tendon.

All functions take and return casadi expressions (SX/MX/DM) or floats; no state. Normalized quantities:
fibre length / l_opt, fibre velocity / (v_max * l_opt) with lengthening positive, forces / F_max.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

import casadi as ca
import numpy as np

from .anthropometry import Rider
from .energetics import rider_slow_twitch_fractions
from .parameters import data_text, model_parameters, read_csv_rows

SLACK_WIDTH_M = 1e-3
MUSCLE_NAMES = ("GMAX", "ILIO", "HAMS", "BFSH", "RF", "VAS", "GAS", "SOL", "TA")


@lru_cache(maxsize=None)
def curve_constants() -> dict:
    """The Hill-curve constants of data/muscle_curves.toml (read-only)."""
    return tomllib.loads(data_text("muscle_curves.toml"))


def active_force_length(l_norm):
    """Normalized active force at normalized fibre length (peak 1 near l_norm = 1)."""
    f = 0
    for b1, b2, b3, b4 in curve_constants()["active_force_length"]:
        f = f + b1 * ca.exp(-0.5 * (l_norm - b2) ** 2 / (b3 + b4 * l_norm) ** 2)
    return f


def force_velocity(v_norm):
    """Normalized force-velocity multiplier (about 1 at zero velocity, 0 at v = -1)."""
    d1, d2, d3, d4 = curve_constants()["force_velocity"]
    x = d2 * v_norm + d3
    return d1 * ca.log(x + ca.sqrt(x * x + 1)) + d4


def passive_force_length(l_norm, strain_at_one):
    """Normalized passive fibre force; equals 1 at l_norm = 1 + strain_at_one, ~0 below optimal length."""
    c = curve_constants()
    kpe, w = c["passive_kpe"], c["passive_ramp_width"]
    x = l_norm - 1
    ramp = 0.5 * (x + ca.sqrt(x * x + w * w))
    return (ca.exp(kpe * ramp / strain_at_one) - 1) / (np.exp(kpe) - 1)


def tendon_force_length(lt_norm):
    """Normalized tendon force at tendon length / slack length."""
    t = curve_constants()["tendon"]
    return t["c1"] * ca.exp(t["kT"] * (lt_norm - t["c2"])) - t["c3"]


def tendon_length_from_force(ft_norm):
    """Inverse of tendon_force_length (normalized tendon length)."""
    t = curve_constants()["tendon"]
    return ca.log((ft_norm + t["c3"]) / t["c1"]) / t["kT"] + t["c2"]


def activation_rate(e, a, tau_act, tau_deact):
    """De Groote et al. 2016 first-order activation dynamics da/dt, smooth switch between time constants."""
    b = curve_constants()["activation_smoothing"]
    f = 0.5 + 0.5 * ca.tanh(b * (e - a))
    return (e - a) * (f / (tau_act * (0.5 + 1.5 * a)) + (1 - f) * (0.5 + 1.5 * a) / tau_deact)


@dataclass(frozen=True)
class MuscleParameters:
    """Per-muscle parameter arrays in MUSCLE_NAMES order (SI units), after the rider's scaling."""

    names: tuple[str, ...]
    max_force: np.ndarray
    optimal_fiber_length: np.ndarray
    tendon_slack_length: np.ndarray
    pennation: np.ndarray
    max_velocity: np.ndarray  # optimal fibre lengths per s
    tau_act: np.ndarray
    tau_deact: np.ndarray
    passive_strain: np.ndarray
    specific_tension: np.ndarray
    density: np.ndarray
    max_force_set: str
    # Slow-twitch (type I) fibre fraction per unit for the energetics models, after the rider's shift.
    slow_twitch_fraction: np.ndarray | None = None

    @property
    def mass(self) -> np.ndarray:
        """Muscle mass (kg) = volume x density (the energetics models' m)."""
        return self.volume * self.density

    def as_vector(self) -> np.ndarray:
        """Flattened parameter vector for casadi functions (order: PARAM_FIELDS, muscle-major within field)."""
        return np.concatenate([getattr(self, f) for f in PARAM_FIELDS])

    @property
    def volume(self) -> np.ndarray:
        """Muscle volume (m^3) = PCSA x l_opt, PCSA = F_max / specific tension."""
        return self.max_force / self.specific_tension * self.optimal_fiber_length


PARAM_FIELDS = ("max_force", "optimal_fiber_length", "tendon_slack_length", "pennation", "max_velocity",
                "passive_strain")


FORCE_SET_COLUMNS = {"complete_groups": "complete_group_max_isometric_force_N",
                     "group_totals": "group_max_isometric_force_N", "pedaling_model": "max_isometric_force_N"}


def strength_factor(rider: Rider) -> float:
    """Multiplier of the force set's maximal forces for this rider's size (data/model_parameters.toml
    [strength_scaling]): body mass over the force set's reference subject's mass, or 1."""
    if rider.strength_scaling == "none":
        return 1.0
    ref = model_parameters()["strength_scaling"]["reference_body_mass_kg"][rider.max_force_set]
    return rider.mass_kg / ref


def muscle_parameters(rider: Rider, geometry_scale: float) -> MuscleParameters:
    """Muscle parameters for a rider: lengths scale with the geometry, forces with the chosen force set."""
    rows = {r["name"]: r for r in read_csv_rows("muscles.csv")}
    unknown = set(rider.muscle_force_scale) - set(MUSCLE_NAMES)
    if unknown:
        raise ValueError(f"rider.muscle_force_scale: unknown muscles {sorted(unknown)} (allowed: {', '.join(MUSCLE_NAMES)})")

    def col(key: str) -> np.ndarray:
        return np.array([float(rows[n][key]) for n in MUSCLE_NAMES])

    force_key = FORCE_SET_COLUMNS[rider.max_force_set]
    per_muscle = np.array([rider.muscle_force_scale.get(n, 1.0) for n in MUSCLE_NAMES])
    lai = rider.muscle_architecture == "lai2017"
    uhlrich = rider.passive_curves == "uhlrich2022"
    return MuscleParameters(
        names=MUSCLE_NAMES,
        max_force=col(force_key) * strength_factor(rider) * rider.strength_scale * per_muscle,
        optimal_fiber_length=col("lai_optimal_fiber_length_m" if lai else "optimal_fiber_length_m") * geometry_scale,
        tendon_slack_length=col("lai_tendon_slack_length_m" if lai else "tendon_slack_length_m") * geometry_scale,
        pennation=col("pennation_angle_rad"),
        max_velocity=col("max_contraction_velocity"),
        tau_act=col("activation_time_constant_s"),
        tau_deact=col("deactivation_time_constant_s"),
        passive_strain=col("uhlrich_passive_strain_at_one" if uhlrich else "passive_strain_at_one") * rider.passive_strain_scale,
        specific_tension=col("specific_tension_Pa"),
        density=col("density_kg_m3"),
        max_force_set=rider.max_force_set,
        slow_twitch_fraction=rider_slow_twitch_fractions(rider.type1_pct_vastus_lateralis),
    )


def rigid_tendon_state(l_mtu, v_mtu, lopt, lts, alpha0):
    """Fibre length, velocity (m, m/s) and cos(pennation) for a rigid tendon, constant-thickness pennation."""
    h = lopt * ca.sin(alpha0)
    # When the unit is shorter than its tendon slack length (GAS with a flexed knee and dorsiflexed ankle), a
    # rigid tendon goes slack: the fibre projection is smoothly clamped at ~0 so it can neither push nor
    # flip its pennation (smooth max with a 1 mm width).
    x = l_mtu - lts
    along = 0.5 * (x + ca.sqrt(x * x + SLACK_WIDTH_M**2))
    lm = ca.sqrt(along * along + h * h)
    cos_a = along / lm
    vm = v_mtu * cos_a
    return lm, vm, cos_a


def rigid_tendon_force(a, l_mtu, v_mtu, fmax, lopt, lts, alpha0, vmax, e0):
    """Tendon force (N) of a rigid-tendon unit and its parts: returns (force, active, passive, lm, vm, cos_a),
    active and passive as normalized fibre forces."""
    lm, vm, cos_a = rigid_tendon_state(l_mtu, v_mtu, lopt, lts, alpha0)
    ln = lm / lopt
    vn = vm / (vmax * lopt)
    active = a * active_force_length(ln) * force_velocity(vn)
    passive = passive_force_length(ln, e0)
    return fmax * (active + passive) * cos_a, active, passive, lm, vm, cos_a


def compliant_tendon_force(a, ft, dft, l_mtu, v_mtu, fmax, lopt, lts, alpha0, vmax, e0):
    """Compliant tendon in De Groote et al. (2016)'s implicit form: normalized tendon force ft is a state and
    its rate dft (1/s) a control; tendon length follows from ft, the fibre from the rest of the unit, and
    `equilibrium` (fibre force along the tendon minus tendon force, normalized) must vanish.

    Returns (force, active, passive, lm, vm, cos_a, equilibrium)."""
    t = curve_constants()["tendon"]
    lt = lts * tendon_length_from_force(ft)
    vt = lts * dft / (t["kT"] * (ft + t["c3"]))
    h = lopt * ca.sin(alpha0)
    x = l_mtu - lt
    along = 0.5 * (x + ca.sqrt(x * x + SLACK_WIDTH_M**2))
    lm = ca.sqrt(along * along + h * h)
    cos_a = along / lm
    vm = (v_mtu - vt) * cos_a
    ln = lm / lopt
    active = a * active_force_length(ln) * force_velocity(vm / (vmax * lopt))
    passive = passive_force_length(ln, e0)
    return fmax * ft, active, passive, lm, vm, cos_a, (active + passive) * cos_a - ft
