"""Where a solution sits on a limit: joints at their range limits and the heel-drop bound, as crank-angle intervals.

A prediction that rests on a joint limit or on an imposed bound says more about the limit than about the rider;
every solution therefore reports which limits are active and over which crank angles (deg, 0 = TDC).
"""
from __future__ import annotations

import math

import numpy as np

from ..model.leg import JOINTS, joint_ranges_rad
from ..ocp.conditions import condition_for

LIMIT_TOL_DEG = 0.5  # a joint within this of its range limit counts as "on the limit"
BOUND_TOL_DEG = 0.05  # the sole angle within this of the heel-drop bound counts as "on the bound"


def _intervals(theta_rad: np.ndarray, active: np.ndarray) -> list[list[float]]:
    """Crank-angle intervals [start_deg, end_deg] of consecutive active nodes (periodic; a run that wraps
    past 360 deg is reported once, with end < start)."""
    n = len(active)
    if not active.any():
        return []
    deg = np.degrees(theta_rad)
    if active.all():
        return [[0.0, 360.0]]
    start = int(np.argmin(active))  # an inactive node: runs cannot wrap through it
    out, run = [], None
    for i in range(1, n + 1):
        k = (start + i) % n
        if active[k] and run is None:
            run = [float(deg[k]), float(deg[k])]
        elif active[k]:
            run[1] = float(deg[k])
        elif run is not None:
            out.append(run)
            run = None
    if run is not None:
        out.append(run)
    return out


def joint_range_limits(sol, tol_deg: float = LIMIT_TOL_DEG) -> dict[str, list[dict]]:
    """Per joint, the intervals where it is within tol_deg of its lower or upper range limit:
    {joint: [{"limit": "lower"|"upper", "limit_deg": x, "crank_angle_deg": [start, end]}, ...]}."""
    lim = joint_ranges_rad()
    q, th = sol["q"], sol["theta"]
    tol = math.radians(tol_deg)
    out: dict[str, list[dict]] = {}
    for j, name in enumerate(JOINTS):
        for side, k, test in (("lower", 0, q[j] <= lim[j, 0] + tol), ("upper", 1, q[j] >= lim[j, 1] - tol)):
            for iv in _intervals(th, test):
                out.setdefault(name, []).append(
                    {"limit": side, "limit_deg": float(math.degrees(lim[j, k])), "crank_angle_deg": iv})
    return out


def heel_drop_bound_active(sol, tol_deg: float = BOUND_TOL_DEG) -> list[list[float]]:
    """Crank-angle intervals where the sole angle sits on its condition's bound, the heel-drop bound ([] for
    conditions without one)."""
    ub = condition_for(sol.spec).sole_upper_bound(sol["theta"], sol.spec)
    if ub is None:
        return []
    return _intervals(sol["theta"], np.isfinite(ub) & (sol["phi"] >= ub - math.radians(tol_deg)))


def limits_summary(sol) -> dict:
    """{"joint_range_limits": ..., "heel_drop_bound_active_deg": ...} for summaries and tables."""
    return {"joint_range_limits": joint_range_limits(sol), "heel_drop_bound_active_deg": heel_drop_bound_active(sol)}
