"""The heel-drop condition as a continuous function of crank angle (no casadi here).

Riders drop the heel relative to their own pattern, so the default is relative: the sole angle (toe-down +) is
held at least d below the same rider's free-ankle sole angle, with the drop faded in and out by smooth ramps:

    phi(theta) <= phi_free(theta) - d * w(theta)      wherever w(theta) > 0            ('relative')
    phi(theta) <= phi_free(theta) - d                 over the whole cycle             ('shift', Cannon et al. 2007)
    phi(theta) <= -d                                  at crank angles in the window    ('absolute', to horizontal)

w is 1 inside the window [start, end] (crank angle, deg, may wrap past 360) and falls to 0 over `ramp` deg on
each side with a half-cosine, so the bound is a continuous function of crank angle: refining the mesh samples
the same constraint more densely instead of changing which crank angles count. phi_free comes from a solve of
the free condition with the same rider, fit, power, cadence and cost (`ProblemSpec.heel_drop_reference_deg`),
interpolated with a periodic cubic spline.
"""
from __future__ import annotations

import math

import numpy as np

HEEL_DROP_MODES = ("relative", "shift", "absolute")


def window_weight(theta_rad: np.ndarray, window_deg: tuple[float, float], ramp_deg: float) -> np.ndarray:
    """Weight in [0, 1] of the drop at each crank angle: 1 inside the window, half-cosine ramps of width
    ramp_deg outside both edges, 0 elsewhere (periodic in 360 deg)."""
    start, end = window_deg
    length = (end - start) % 360.0 or 360.0
    x = (np.degrees(np.asarray(theta_rad, dtype=float)) - start) % 360.0  # deg after the window start
    w = np.zeros_like(x)
    w[x <= length + 1e-9] = 1.0
    if ramp_deg > 0 and length < 360.0:
        after = x - length                       # deg after the window end
        before = 360.0 - x                       # deg before the window start
        on_after = (after > 0) & (after < ramp_deg)
        on_before = (before > 0) & (before < ramp_deg) & ~on_after
        w[on_after] = 0.5 * (1 + np.cos(np.pi * after[on_after] / ramp_deg))
        w[on_before] = np.maximum(w[on_before], 0.5 * (1 + np.cos(np.pi * before[on_before] / ramp_deg)))
    return w


def drop_weight(theta_rad: np.ndarray, spec) -> np.ndarray:
    """Weight of the drop below the free profile at each crank angle: 1 over the whole cycle ('shift'), the window
    weight ('relative'); not defined for 'absolute' (no free profile)."""
    if spec.heel_drop_mode == "shift":
        return np.ones_like(np.asarray(theta_rad, dtype=float))
    return window_weight(theta_rad, spec.heel_drop_window_deg, spec.heel_drop_ramp_deg)


def reference_profile(samples_deg) -> "callable":
    """Periodic cubic spline phi_free(theta) (rad -> rad) through (crank_angle_deg, sole_angle_deg) samples."""
    from scipy.interpolate import CubicSpline

    s = np.array(samples_deg, dtype=float)
    order = np.argsort(s[:, 0] % 360.0)
    th, phi = np.radians(s[order, 0] % 360.0), np.radians(s[order, 1])
    th, phi = np.append(th, th[0] + 2 * math.pi), np.append(phi, phi[0])
    spline = CubicSpline(th, phi, bc_type="periodic")
    return lambda theta: spline(np.asarray(theta, dtype=float) % (2 * math.pi))


def sole_upper_bound(theta_rad: np.ndarray, spec) -> np.ndarray:
    """Upper bound of the sole angle (rad) at each crank angle for a heel_drop spec; +inf where unconstrained."""
    theta_rad = np.asarray(theta_rad, dtype=float)
    d = math.radians(spec.heel_drop_deg)
    if spec.heel_drop_mode == "absolute":
        lo, hi = np.radians(spec.heel_drop_window_deg)
        inside = (theta_rad >= lo - 1e-9) & (theta_rad <= hi + 1e-9)
        return np.where(inside, -d, np.inf)
    if not spec.heel_drop_reference_deg:
        raise ValueError("heel_drop_reference_deg: the free-ankle reference profile is needed for the "
                         f"'{spec.heel_drop_mode}' heel drop (the solver computes it from a free solve)")
    free = reference_profile(spec.heel_drop_reference_deg)(theta_rad)
    if spec.heel_drop_mode == "shift":
        return free - d
    w = window_weight(theta_rad, spec.heel_drop_window_deg, spec.heel_drop_ramp_deg)
    return np.where(w > 0, free - d * w, np.inf)

