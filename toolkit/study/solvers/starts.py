"""Several starts per point: the best of a point's cold starts (and a warm start), and the spread of the answers
within a small margin of the best cost (optima can be non-unique; the spread is reported with the results)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ...analysis.engagement import muscle_engagement
from ...model.leg import JOINTS
from ...ocp.problem import ProblemSpec
from ...ocp.solution import Solution

__all__ = ["NEAR_BEST_PCT", "best_of_starts", "start_spread"]

NEAR_BEST_PCT = 0.5      # starts within this % of the best cost count as equally good answers


def best_of_starts(solver, setup, spec: ProblemSpec, guess=None):
    """spec.solver.multistart cold starts (each on its own, so a start whose kinematic guess cannot reach the pedal
    is skipped) plus, when given, a warm start from `guess`; the lowest-cost successful one, with the other
    successful starts in `start_solutions` and the number of starts tried in `stats.starts`."""
    from ...ocp.solve import describe_setup
    from ...ocp.solution import SolverStats

    cands, failed, errors = [], None, []
    k = max(1, spec.solver.multistart)
    for i in range(k):
        try:
            s = solver.solve(setup, spec, start=i)
        except ValueError as e:  # the kinematic guess of this start cannot be built
            errors.append(str(e))
            continue
        if s.stats.status == "Infeasible_Request":
            return s
        if s.success:
            cands.append(replace(s, start_solutions=[]))
        elif failed is None:
            failed = s
    if guess is not None:
        try:
            warm = solver.solve(setup, spec, guess=guess)
        except ValueError as e:
            errors.append(str(e))
        else:
            if warm.success:
                cands.append(warm)
            elif failed is None:
                failed = warm
    if not cands:
        if failed is not None:
            return failed
        stats = SolverStats(False, "Guess_Failed", 0, 0.0, 0.0, math.nan, math.inf, (), "; ".join(sorted(set(errors))))
        return Solution(spec, stats, describe_setup(setup), sealed=True)
    best = min(cands, key=lambda s: s.stats.objective)
    n = k + (guess is not None)
    return replace(best, stats=replace(best.stats, starts=n), start_solutions=[c for c in cands if c is not best])


def start_spread(sol, tol_pct: float = NEAR_BEST_PCT) -> dict:
    """Spread (max - min) of the joint shares (pp) and the GMAX fibre positive work (J) over the successful
    starts whose cost is within tol_pct % of the best."""
    from ...analysis.power import cycle_summary

    best = sol.stats.objective
    near = [sol] + [s for s in sol.start_solutions if s.stats.objective <= best + abs(best) * tol_pct / 100.0]
    sh = np.array([[100.0 * cycle_summary(s).joint_work_share[j] for j in JOINTS] for s in near])
    gw = np.array([muscle_engagement(s).fibre_positive_work_J for s in near])
    return {"starts": int(sol.stats.starts), "successful": 1 + len(sol.start_solutions), "near_best": len(near),
            "spread_pp": {j: round(float(np.ptp(sh[:, k])), 4) for k, j in enumerate(JOINTS)},
            "gmax_work_spread_J": round(float(np.ptp(gw)), 4)}
