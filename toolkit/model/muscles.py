"""Hill-type muscle-tendon units: De Groote et al. (2016) curves, activation dynamics, rigid or compliant tendon.

All functions take and return casadi expressions (SX/MX/DM) or floats; no state. Normalized quantities:
fibre length / l_opt, fibre velocity / (v_max * l_opt) with lengthening positive, forces / F_max.

Two curve sets (`curves`, the rider's muscle_curves): 'toolkit' (default) and 'opensim', exactly OpenSim 4.6's
DeGrooteFregly2016Muscle curves with the parameters the .osim export writes (data/muscle_curves.toml [opensim];
docs/opensim.md). Both are smooth.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

import casadi as ca
import numpy as np

from .anthropometry import MUSCLE_CURVES, Rider
from .energetics import rider_slow_twitch_fractions
from .parameters import data_text, model_parameters, read_csv_rows

SLACK_WIDTH_M = 1e-3
OPENSIM_SLACK_WIDTH_M = 0.5e-3  # softplus width of the slack clamp with curves='opensim' (fibre_projection)
MUSCLE_NAMES = ("GMAX", "ILIO", "HAMS", "BFSH", "RF", "VAS", "GAS", "SOL", "TA")


@lru_cache(maxsize=None)
def curve_constants() -> dict:
    """The Hill-curve constants of data/muscle_curves.toml (read-only)."""
    return tomllib.loads(data_text("muscle_curves.toml"))


def curve_set(curves: str = "toolkit") -> dict:
    """The constants of one curve set: 'toolkit' (the file's top level) or 'opensim' (its [opensim] table)."""
    if curves == "toolkit":
        return curve_constants()
    if curves == "opensim":
        return curve_constants()["opensim"]
    raise ValueError(f"muscle curves: {curves!r} (allowed: {', '.join(MUSCLE_CURVES)})")


def active_force_length(l_norm, curves: str = "toolkit"):
    """Normalized active force at normalized fibre length (peak 1 near l_norm = 1)."""
    c = curve_set(curves)
    if curves == "opensim":
        # OpenSim scales the curve's width about l = 1 (active_force_width_scale; 1 in the export).
        l_norm = (l_norm - 1.0) / c["active_force_width_scale"] + 1.0
    f = 0
    for b1, b2, b3, b4 in c["active_force_length"]:
        f = f + b1 * ca.exp(-0.5 * (l_norm - b2) ** 2 / (b3 + b4 * l_norm) ** 2)
    return f


def force_velocity(v_norm, curves: str = "toolkit"):
    """Normalized force-velocity multiplier (about 1 at zero velocity, 0 at v = -1)."""
    d1, d2, d3, d4 = curve_set(curves)["force_velocity"]
    x = d2 * v_norm + d3
    return d1 * ca.log(x + ca.sqrt(x * x + 1)) + d4


def passive_force_length(l_norm, strain_at_one, curves: str = "toolkit"):
    """Normalized passive fibre force; equals 1 at l_norm = 1 + strain_at_one. 'toolkit': ~0 below optimal
    length (smooth ramp); 'opensim': OpenSim's curve, zero at l_norm = 0.2 (about 1-2 % of F_max at l_norm = 1)."""
    c = curve_set(curves)
    kpe = c["passive_kpe"]
    if curves == "opensim":
        offset = ca.exp(kpe * (c["passive_min_norm_fiber_length"] - 1.0) / strain_at_one)
        return (ca.exp(kpe * (l_norm - 1.0) / strain_at_one) - offset) / (np.exp(kpe) - offset)
    w = c["passive_ramp_width"]
    x = l_norm - 1
    ramp = 0.5 * (x + ca.sqrt(x * x + w * w))
    return (ca.exp(kpe * ramp / strain_at_one) - 1) / (np.exp(kpe) - 1)


def tendon_constants(curves: str = "toolkit") -> tuple[float, float, float, float]:
    """(c1, c2, c3, kT) of the tendon curve c1 exp(kT (lT/lTs - c2)) - c3; OpenSim's kT follows from
    tendon_strain_at_one_norm_force."""
    t = curve_set(curves)["tendon"]
    if curves == "opensim":
        kt = float(np.log((1.0 + t["c3"]) / t["c1"]) / (1.0 + t["strain_at_one"] - t["c2"]))
        return t["c1"], t["c2"], t["c3"], kt
    return t["c1"], t["c2"], t["c3"], t["kT"]


def tendon_force_length(lt_norm, curves: str = "toolkit"):
    """Normalized tendon force at tendon length / slack length."""
    c1, c2, c3, kt = tendon_constants(curves)
    return c1 * ca.exp(kt * (lt_norm - c2)) - c3


def tendon_length_from_force(ft_norm, curves: str = "toolkit"):
    """Inverse of tendon_force_length (normalized tendon length)."""
    c1, c2, c3, kt = tendon_constants(curves)
    return ca.log((ft_norm + c3) / c1) / kt + c2


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


def fibre_projection(x, curves: str = "toolkit"):
    """The fibre's projection on the tendon (m) from x = l_mtu - l_tendon: a smooth max(x, 0), so a unit shorter
    than its tendon (GAS with a flexed knee and dorsiflexed ankle: the tendon goes slack) can neither push nor
    flip its pennation. 'toolkit': 0.5 (x + sqrt(x^2 + w^2)), w = 1 mm (it exceeds x by ~w^2 / 4x when taut).
    'opensim': OpenSim 4.6 takes x as is (negative when slack: cos(pennation) < 0 and the fibre pushes); the NLP
    needs a smooth unit that cannot push, so we keep a clamp but make it w softplus(x / w), w = 0.5 mm (the same
    peak curvature), which exceeds x by w exp(-x / w): < 1e-12 m once x > 10 mm, so the unit is OpenSim's to
    round-off wherever it is taut."""
    if curves == "opensim":
        w = OPENSIM_SLACK_WIDTH_M
        z = x / w
        return w * (ca.fmax(z, 0) + ca.log1p(ca.exp(-ca.fabs(z))))  # overflow-free softplus
    return 0.5 * (x + ca.sqrt(x * x + SLACK_WIDTH_M**2))


def rigid_tendon_state(l_mtu, v_mtu, lopt, lts, alpha0, curves: str = "toolkit"):
    """Fibre length, velocity (m, m/s) and cos(pennation) for a rigid tendon, constant-thickness pennation;
    the fibre projection is clamped smoothly at ~0 when the tendon goes slack (fibre_projection)."""
    h = lopt * ca.sin(alpha0)
    along = fibre_projection(l_mtu - lts, curves)
    lm = ca.sqrt(along * along + h * h)
    cos_a = along / lm
    vm = v_mtu * cos_a
    return lm, vm, cos_a


def rigid_tendon_force(a, l_mtu, v_mtu, fmax, lopt, lts, alpha0, vmax, e0, curves: str = "toolkit"):
    """Tendon force (N) of a rigid-tendon unit and its parts: returns (force, active, passive, lm, vm, cos_a),
    active and passive as normalized fibre forces.

    curves='opensim' takes OpenSim's three curves; the slack clamp is kept, as a softplus that equals OpenSim's
    fibre projection to round-off once the unit is 10 mm longer than its tendon (fibre_projection). Near slack
    (GAS with a flexed knee and dorsiflexed ankle) the fibre shortens towards its width h = l_opt sin(alpha_0),
    which can be below OpenSim's l_min = 0.2 l_opt; OpenSim's passive curve is then slightly negative (at most
    0.15 % of F_max, at l = 0) and is used as is: along the tendon it is multiplied by cos(pennation) ~ 0."""
    lm, vm, cos_a = rigid_tendon_state(l_mtu, v_mtu, lopt, lts, alpha0, curves)
    ln = lm / lopt
    vn = vm / (vmax * lopt)
    active = a * active_force_length(ln, curves) * force_velocity(vn, curves)
    passive = passive_force_length(ln, e0, curves)
    return fmax * (active + passive) * cos_a, active, passive, lm, vm, cos_a


def compliant_tendon_force(a, ft, dft, l_mtu, v_mtu, fmax, lopt, lts, alpha0, vmax, e0, curves: str = "toolkit"):
    """Compliant tendon in De Groote et al. (2016)'s implicit form: normalized tendon force ft is a state and
    its rate dft (1/s) a control; tendon length follows from ft, the fibre from the rest of the unit, and
    `equilibrium` (fibre force along the tendon minus tendon force, normalized) must vanish. curves='opensim'
    also takes OpenSim's tendon curve (kT from a 4.9 % strain at F_max) and the softplus clamp of
    fibre_projection.

    Returns (force, active, passive, lm, vm, cos_a, equilibrium)."""
    _, _, c3, kt = tendon_constants(curves)
    lt = lts * tendon_length_from_force(ft, curves)
    vt = lts * dft / (kt * (ft + c3))
    h = lopt * ca.sin(alpha0)
    along = fibre_projection(l_mtu - lt, curves)
    lm = ca.sqrt(along * along + h * h)
    cos_a = along / lm
    vm = (v_mtu - vt) * cos_a
    ln = lm / lopt
    active = a * active_force_length(ln, curves) * force_velocity(vm / (vmax * lopt), curves)
    passive = passive_force_length(ln, e0, curves)
    return fmax * ft, active, passive, lm, vm, cos_a, (active + passive) * cos_a - ft
