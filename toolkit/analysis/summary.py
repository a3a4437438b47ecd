"""The per-solution summary that `solve --json` prints, and the spread of the shares over near-optimal starts.

`solution_summary(sol)` returns exactly the `solve --json` fields (README "Command line"); values are plain
Python numbers, dicts and lists so `json.dumps` works. A failed solve keeps every key (data fields None) and adds
`message`, `max_violation` and `worst_constraints`.

`multistart_spread(sol)`: optima can be non-unique, so a multi-start solve (spec.solver.multistart = K) keeps the
other successful starts in `sol.start_solutions`. The spread of a quantity is max - min over every solution whose
cost is within `rel_tol` (default 0.5 %) of the best cost, the best included; 0 when there is one such solution.
"""
from __future__ import annotations

from typing import Sequence

import math
from typing import Callable

import numpy as np

from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES
from .limits import limits_summary
from .metabolic import metabolic_summary
from .pedal import index_of_effectiveness, resultant_force
from .power import cycle_summary, external_moment_work

ACTIONS = {"hip": ("hip_extension", "hip_flexion"), "knee": ("knee_extension", "knee_flexion"),
           "ankle": ("ankle_plantarflexion", "ankle_dorsiflexion")}
ACTION_KEYS = tuple(k for j in JOINTS for k in ACTIONS[j])
NEAR_OPTIMAL_REL_TOL = 0.005

SUMMARY_KEYS = ("success", "status", "condition", "power_W", "cadence_rpm", "mean_crank_power_W", "joint_work_share",
                "energy_balance_residual", "iterations", "solve_time_s", "nodes", "index_of_effectiveness",
                "peak_pedal_force_N", "sole_angle_range_deg", "peak_joint_moment_Nm", "joint_work_share_by_action",
                "net_joint_work_share", "muscle_positive_work_J", "cost", "multistart_spread_pp",
                "metabolic_power_W", "gross_efficiency", "joint_range_limits", "heel_drop_bound_active_deg",
                "external_moment_work_J")


def _finite(x):
    return float(x) if x is not None and math.isfinite(float(x)) else None


def peak_joint_moments(sol) -> dict[str, float]:
    """Largest magnitude (N m) of the net joint moment in each direction over the cycle (node values): extension =
    negative moment (flexion-positive convention), flexion = positive; ankle plantarflexion = negative. 0 when the
    moment never points that way."""
    M = sol["moment"]
    out = {}
    for i, j in enumerate(JOINTS):
        ext, flx = ACTIONS[j]
        out[ext] = float(max(0.0, -M[i].min()))
        out[flx] = float(max(0.0, M[i].max()))
    return out


def work_share_by_action(cs) -> dict[str, float]:
    """Positive work of each action over the total positive joint work (sums to 1)."""
    total = cs.total_positive_joint_work_J
    out = {}
    for j in JOINTS:
        ext, flx = ACTIONS[j]
        out[ext] = cs.extension_work_J[j] / total
        out[flx] = cs.flexion_work_J[j] / total
    return out


def net_work_share(cs) -> dict[str, float]:
    """Net work of each joint over the sum of the three net works (= the crank work of one leg, up to the energy
    balance residual)."""
    total = sum(cs.net_work_J[j] for j in JOINTS)
    return {j: cs.net_work_J[j] / total for j in JOINTS}


def near_optimal_solutions(sol, rel_tol: float = NEAR_OPTIMAL_REL_TOL) -> list:
    """The solution and its other successful starts whose cost is within rel_tol of the best cost."""
    sols = [s for s in [sol, *getattr(sol, "start_solutions", [])] if s.success]
    if not sols:
        return []
    best = min(s.stats.objective for s in sols)
    return [s for s in sols if s.stats.objective <= best + rel_tol * abs(best)]


def multistart_spread(sol, quantity: Callable | None = None, rel_tol: float = NEAR_OPTIMAL_REL_TOL) -> dict[str, float]:
    """Spread (max - min) of each entry of `quantity(solution) -> dict[str, float]` over the near-optimal
    solutions. Default quantity: the joint shares of positive work in percentage points."""
    if quantity is None:
        def quantity(s):
            return {j: 100.0 * v for j, v in cycle_summary(s).joint_work_share.items()}
    sols = near_optimal_solutions(sol, rel_tol)
    if not sols:
        return {}
    vals = [quantity(s) for s in sols]
    return {k: float(max(v[k] for v in vals) - min(v[k] for v in vals)) for k in vals[0]}


def solution_summary(sol) -> dict:
    """The `solve --json` fields of a solution (see the module docstring and README)."""
    st, spec = sol.stats, sol.spec
    out = {"success": bool(st.success), "status": str(st.status), "condition": spec.condition,
           "power_W": float(spec.power_W), "cadence_rpm": float(spec.cadence_rpm), "mean_crank_power_W": None,
           "joint_work_share": {j: None for j in JOINTS}, "energy_balance_residual": None,
           "iterations": int(st.iterations), "solve_time_s": float(st.solve_time_s), "nodes": int(spec.solver.nodes),
           "index_of_effectiveness": None, "peak_pedal_force_N": None, "sole_angle_range_deg": None,
           "peak_joint_moment_Nm": {k: None for k in ACTION_KEYS},
           "joint_work_share_by_action": {k: None for k in ACTION_KEYS},
           "net_joint_work_share": {j: None for j in JOINTS},
           "muscle_positive_work_J": {m: None for m in MUSCLE_NAMES}, "cost": _finite(st.objective),
           "multistart_spread_pp": {j: None for j in JOINTS}, "metabolic_power_W": None, "gross_efficiency": None,
           "joint_range_limits": None, "heel_drop_bound_active_deg": None, "external_moment_work_J": None}
    if not st.success:
        out["message"] = st.message
        if sol.setup.get("largest_heel_drop_deg") is not None:
            out["largest_heel_drop_deg"] = _finite(sol.setup["largest_heel_drop_deg"])
        out["max_violation"] = _finite(st.max_violation)
        out["worst_constraints"] = [[n, float(v)] for n, v in st.worst_constraints]
        return out
    cs = cycle_summary(sol)
    sole = np.degrees(sol["phi"])
    out.update(
        mean_crank_power_W=float(cs.mean_crank_power_W),
        joint_work_share={j: float(v) for j, v in cs.joint_work_share.items()},
        energy_balance_residual=float(cs.energy_balance_residual),
        index_of_effectiveness=float(index_of_effectiveness(sol)),
        peak_pedal_force_N=float(resultant_force(sol).max()),
        sole_angle_range_deg=[float(sole.min()), float(sole.max())],
        peak_joint_moment_Nm=peak_joint_moments(sol),
        joint_work_share_by_action={k: float(v) for k, v in work_share_by_action(cs).items()},
        net_joint_work_share={k: float(v) for k, v in net_work_share(cs).items()},
        muscle_positive_work_J={k: float(v) for k, v in cs.muscle_positive_work_J.items()},
        multistart_spread_pp=multistart_spread(sol),
    )
    ms = metabolic_summary(sol)
    out.update(metabolic_power_W=_finite(ms["metabolic_power_W"]), gross_efficiency=_finite(ms["gross_efficiency"]))
    out.update(limits_summary(sol))
    out["external_moment_work_J"] = external_moment_work(sol)
    return out


REGIME_MIN_JUMP_PP = 2.0     # a share step below this is never a regime switch
REGIME_MEDIAN_FACTOR = 3.0   # ... and it must exceed this multiple of the chain's median step


def regime_switches(series: Sequence[dict[str, float]]) -> list[str]:
    """Flags for a chain of neighbouring points (ascending power or cadence), each a {joint: share fraction}:
    the text 'hip +6.1 pp' at a point whose share jumps from its predecessor by more than
    max(REGIME_MIN_JUMP_PP, REGIME_MEDIAN_FACTOR x the chain's median step), else ''. A jump like that between
    neighbours usually means the optimum moved to another regime (or another local optimum): check it."""
    flags = [""] * len(series)
    if len(series) < 3:
        return flags
    for j in JOINTS:
        v = np.array([100.0 * s[j] for s in series])
        steps = np.abs(np.diff(v))
        limit = max(REGIME_MIN_JUMP_PP, REGIME_MEDIAN_FACTOR * float(np.median(steps)))
        for i, st in enumerate(steps, start=1):
            if st > limit:
                flags[i] = (flags[i] + "; " if flags[i] else "") + f"{j} {v[i] - v[i - 1]:+.1f} pp"
    return flags
