"""Muscle energetics as smooth casadi expressions: heat and work rates per muscle, whole-body metabolic power.

Models (the config key ``cost.metabolic_model``; constants and sources in data/energetics.toml, explained in
docs/energetics.md):

- ``umberger2003``: Umberger, Gerritsen & Martin (2003): activation/maintenance heat S A^0.6 h_AM, shortening
  heat S A^2 [f_ST min(100, alpha_ST s) + alpha_FT (1 - f_ST) s], lengthening heat S A 4 alpha_ST v, both heats
  scaled by F_iso (and AM by 0.4 + 0.6 F_iso) above optimal length, work -F_CE v including negative work.
- ``umberger2010``: the 2010 variant (lengthening heat 0.3 alpha_ST; only shortening work counted).
- ``uchida2016``: Umberger 2003 with f_ST replaced by the recruited slow fraction (orderly recruitment by
  excitation) and the shortening heat raised so that a muscle's total rate is never negative.
- ``bhargava2004``: activation and maintenance heats of slow and fast fibres recruited by excitation,
  shortening/lengthening heat -alpha v with a force-dependent alpha, shortening work, total >= 0.

Every model: a muscle's heat rate is floored at 1 W/kg; whole body = both legs + basal 1.2 W/kg x body mass.

Notation: u excitation, a activation, l~ = l_M / l_opt, v~ = v_M / l_opt (l_opt/s, lengthening +), F_iso the
active force-length factor, `active`/`passive` the normalized active/passive fibre forces of the Hill model
(F_CE = F_max * active), muscle mass m = F_max / sigma * rho * l_opt, f_ST the slow-twitch fraction.

Smoothness: every kink of the published piecewise definitions is replaced by the smooth ramp
r_w(x) = (x + sqrt(x^2 + w^2)) / 2 (|r_w(x) - max(x, 0)| <= w/2), and the switch at l~ = 1 by
(1 + tanh((l~ - 1)/w)) / 2, with the widths of data/energetics.toml [smoothing]; the expressions are C-infinity
so IPOPT can use exact Hessians. Identities used so that smoothing adds no error where none is needed:
r_w(x) - r_w(-x) = x exactly (so the work including negative work is exactly -F_CE v), and the Uchida
recruited fraction f_ST sin(pi u/2) / [f_ST sin(pi u/2) + (1 - f_ST)(1 - cos(pi u/2))] is written as
f_ST / [f_ST + (1 - f_ST) tan(pi u/4)] (equal for u > 0, and = 1 at u = 0, the published limit).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache

import casadi as ca
import numpy as np

from .parameters import data_text

MODELS = ("umberger2003", "umberger2010", "uchida2016", "bhargava2004")
DEFAULT_MODEL = "umberger2010"
MUSCLE_ORDER = ("GMAX", "ILIO", "HAMS", "BFSH", "RF", "VAS", "GAS", "SOL", "TA")  # = muscles.MUSCLE_NAMES
OUTPUTS = ("activation_maintenance", "shortening", "work", "heat", "total")


@lru_cache(maxsize=None)
def constants() -> dict:
    """Contents of data/energetics.toml (treat as read-only)."""
    return tomllib.loads(data_text("energetics.toml"))


def check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"cost.metabolic_model: {model!r} (allowed: {', '.join(MODELS)})")


# ------------------------------------------------------------------------------------------ fibre type

def unit_slow_twitch_fractions() -> np.ndarray:
    """Reference slow-twitch fraction of each lumped unit (MUSCLE_ORDER): force-weighted mean of its members'
    per-muscle fractions (data/energetics.toml [slow_twitch])."""
    st = constants()["slow_twitch"]
    out = []
    for name in MUSCLE_ORDER:
        members = st[name]["members"]
        f = np.array([m[1] for m in members], dtype=float)
        x = np.array([m[2] for m in members], dtype=float)
        out.append(float((f * x).sum() / f.sum()))
    return np.array(out)


def rider_slow_twitch_fractions(type1_pct_vastus_lateralis: float | None) -> np.ndarray:
    """Slow-twitch fractions for a rider: the reference composition shifted by the difference between the rider's
    measured vastus lateralis type I percentage and the reference vastus lateralis fraction, clipped to
    [0.05, 0.95]; None = the reference composition (no shift)."""
    base = unit_slow_twitch_fractions()
    if type1_pct_vastus_lateralis is None:
        return base
    rs = constants()["rider_shift"]
    shift = float(type1_pct_vastus_lateralis) / 100.0 - rs["reference_vastus_lateralis"]
    return np.clip(base + shift, rs["shift_clip_low"], rs["shift_clip_high"])


def muscle_mass(max_force, optimal_fiber_length, specific_tension, density):
    """Muscle mass (kg) = F_max / sigma * rho * l_opt (PCSA x l_opt x density)."""
    return max_force / specific_tension * density * optimal_fiber_length


def basal_power_W(body_mass_kg):
    """Basal metabolic rate (W): coefficient x body mass^exponent (1.2 W/kg, exponent 1)."""
    c = constants()["common"]
    return c["basal_coefficient"] * body_mass_kg ** c["basal_exponent"]


# ------------------------------------------------------------------------------------------ smooth helpers

def ramp(x, w):
    """Smooth max(x, 0): (x + sqrt(x^2 + w^2)) / 2; |ramp - max(x, 0)| <= w/2, ramp(x) - ramp(-x) = x."""
    return 0.5 * (x + ca.sqrt(x * x + w * w))


def step(x, w):
    """Smooth Heaviside step (1 + tanh(x / w)) / 2."""
    return 0.5 + 0.5 * ca.tanh(x / w)


def recruited_slow_fraction(u, f_st):
    """Uchida et al. 2016 orderly recruitment: slow fraction of the recruited fibres at excitation u."""
    return f_st / (f_st + (1 - f_st) * ca.tan(ca.pi * u / 4))


def bhargava_length_factor(l_norm, w):
    """Smoothed OpenSim default maintenance-rate length dependence (piecewise linear, flat outside its points)."""
    pts = constants()["bhargava"]["maintenance_length_curve"]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    slopes = [0.0] + [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)] + [0.0]
    out = ys[0]
    for i, x in enumerate(xs):
        d = slopes[i + 1] - slopes[i]
        if d != 0.0:
            out = out + d * ramp(l_norm - x, w)
    return out


# ------------------------------------------------------------------------------------------ rates

def muscle_rates(model: str, u, a, fiber_length, fiber_velocity, f_iso, active, passive, max_force,
                 optimal_fiber_length, max_velocity, mass, slow_twitch, widths: dict | None = None) -> dict:
    """Per-muscle energy rates (W) as casadi expressions (elementwise over muscles).

    u, a: excitation and activation; fiber_length (m), fiber_velocity (m/s, lengthening +); f_iso: active
    force-length factor at the fibre length; active, passive: normalized active (a fl fv) and passive fibre
    forces; max_force (N), optimal_fiber_length (m), max_velocity (l_opt/s), mass (kg), slow_twitch (0-1).
    widths: overrides of data/energetics.toml [smoothing] (tests use tiny widths to recover the exact model).

    Returns {'activation_maintenance', 'shortening' (shortening + lengthening heat, after the total >= 0 clamp),
    'work' (mechanical work rate counted by the model), 'heat' (after the 1 W/kg floor), 'total' = heat + work}.
    """
    check_model(model)
    C = constants()
    w = dict(C["smoothing"])
    w.update(widths or {})
    var = C["models"][model]
    S = C["common"]["aerobic_factor"]
    lopt, fmax = optimal_fiber_length, max_force
    l_norm = fiber_length / lopt
    f_ce = fmax * active  # contractile (active) fibre force, N
    if var["family"] == "umberger":
        U = C["umberger"]
        A = u + 0.5 * ramp(a - u, w["activation_width"])
        f = recruited_slow_fraction(u, slow_twitch) if var["recruitment"] else slow_twitch
        above = step(l_norm - 1, w["length_width"])
        h_am = U["am_fast"] * (1 - f) + U["am_base"]
        am = S * A ** U["am_exponent"] * h_am * (1 - above * (1 - U["am_long_fixed"]) * (1 - f_iso))
        v = fiber_velocity / lopt
        s = ramp(-v, w["velocity_width"])  # shortening speed (l_opt/s)
        ln = ramp(v, w["velocity_width"])  # lengthening speed
        a_st = U["shortening_slow"] / (max_velocity / U["slow_velocity_ratio"])
        a_ft = U["shortening_fast"] / max_velocity
        cap = U["max_slow_shortening_rate"]
        slow = cap - ramp(cap - a_st * s, w["slow_cap_width"])  # min(100, alpha_ST s)
        sh = S * A ** U["shortening_exponent"] * (f * slow + a_ft * (1 - f) * s)
        lh = S * A * var["lengthening_factor"] * a_st * ln
        sl = (sh + lh) * (1 - above * (1 - f_iso))
        work = f_ce * lopt * (s - ln) / mass if var["negative_work"] else f_ce * lopt * s / mass
        am_W, sl_W, work_W = am * mass, sl * mass, work * mass
    else:
        B = C["bhargava"]
        u_st = slow_twitch * ca.sin(ca.pi * u / 2)
        u_ft = (1 - slow_twitch) * (1 - ca.cos(ca.pi * u / 2))
        act_heat = B["decay_function"] * (B["activation_slow"] * u_st + B["activation_fast"] * u_ft)
        maint = bhargava_length_factor(l_norm, w["maintenance_curve_width"]) * (
            B["maintenance_slow"] * u_st + B["maintenance_fast"] * u_ft)
        am_W = mass * (act_heat + maint)
        wv = w["bhargava_velocity_width_m_s"]
        s = ramp(-fiber_velocity, wv)
        ln = ramp(fiber_velocity, wv)
        f_iso_N = a * f_iso * fmax
        f_fib = fmax * (active + passive)
        sl_W = (B["shortening_isometric"] * f_iso_N + B["shortening_force"] * f_fib) * s \
            - B["lengthening_force"] * f_fib * ln
        work_W = f_ce * (s - ln) if var["negative_work"] else f_ce * s
    if var["forbid_negative_total"]:
        e = (am_W + sl_W + work_W) / mass
        sl_W = sl_W + mass * ramp(-e, w["total_floor_width"])
    floor = C["common"]["minimum_heat_rate_W_per_kg"]
    heat = (am_W + sl_W) / mass
    heat_W = mass * (floor + ramp(heat - floor, w["heat_floor_width"]))
    return {"activation_maintenance": am_W, "shortening": sl_W, "work": work_W, "heat": heat_W,
            "total": heat_W + work_W}


@lru_cache(maxsize=None)
def rates_function(model: str, n: int = len(MUSCLE_ORDER), widths: tuple = ()) -> ca.Function:
    """casadi Function of muscle_rates for n muscles:
    (u, a, fiber_length, fiber_velocity, f_iso, active, passive, max_force, optimal_fiber_length, max_velocity,
    mass, slow_twitch) -> (activation_maintenance, shortening, work, heat, total), each n x 1 (W).
    widths: tuple of (name, width) pairs overriding the smoothing widths."""
    names = ("u", "a", "fiber_length", "fiber_velocity", "f_iso", "active", "passive", "max_force",
             "optimal_fiber_length", "max_velocity", "mass", "slow_twitch")
    syms = [ca.SX.sym(nm, n) for nm in names]
    r = muscle_rates(model, *syms, widths=dict(widths))
    return ca.Function(f"energetics_{model}", syms, [r[k] for k in OUTPUTS], list(names), list(OUTPUTS))
