"""The heel-drop study (claims A and E of shared/reference/studies.md): "drop your heel to engage your glutes".

The study is defined in studies/heel_drop/study.toml; its experiment files (all 200 W, 90 rpm):

- `study_heel_drop.toml`: the default fit (one frozen saddle height): free, fixed, and heel drops 5-15 deg in the
  relative mode (below the rider's own free pattern over the downstroke and across the bottom, 20-200 deg) and
  the shift mode (the whole free profile lowered, Cannon et al. 2007). Drop 0 in these modes is the free problem
  (the free optimum satisfies the bound), so the free point stands for it.
- `study_heel_drop_saddle.toml`: a saddle-height sweep (+-7.5, +-15 mm) crossed with drops 0 (free), 5, 10 deg
  (relative); `study_heel_drop_comp_*.toml`: fit-compensated saddles, one heel drop each
  (`compensated_saddle_height`: lowered until the knee flexion at BDC of the solved motion equals the free
  ankle's at the default fit; scripts/heel_drop_compensated_saddles.py prints the heights).
- `study_heel_drop_absolute.toml`: SENSITIVITY, the old definition (sole angle <= -d to the horizontal over
  crank 60-120 deg).
- `study_heel_drop_window.toml`, `..._one_head.toml`, `..._exponent2.toml`: robustness of the sign of the
  changes to the window (45-180 deg), the force set (pedaling_model) and the cost exponent (2).

The solve loop (`solve`) solves each fit's free ankle once (several starts) and uses it as the reference
profile of that fit's relative and shift drops; each heel drop is solved from the configured number of cold
starts plus a warm start from the free solution, and the spread of the shares over the starts within 0.5 % of
the best cost is stored in extras.json. Every solve goes through `run`'s per-point solve
(`executors.solve_point`, with `starts.best_of_starts` as its start strategy). Evaluation and tables
(toolkit.study.metrics.heel_drop) use the stored files only.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from ...ocp.problem import ProblemSpec
from ..base import knee_at_bdc_deg
from ..config import Point
from .starts import best_of_starts, start_spread

__all__ = ["free_spec", "solve", "compensated_saddle_height"]


def free_spec(spec: ProblemSpec) -> ProblemSpec:
    """The free-ankle problem of a point (the heel-drop and fixed settings back to their defaults), as the
    experiment runner writes a free point."""
    d = ProblemSpec()
    return replace(spec, condition="free", heel_drop_deg=d.heel_drop_deg, heel_drop_mode=d.heel_drop_mode,
                   heel_drop_window_deg=d.heel_drop_window_deg, heel_drop_ramp_deg=d.heel_drop_ramp_deg,
                   heel_drop_reference_deg=(), fixed_ankle_deg=d.fixed_ankle_deg, prescribed_sole_deg=())


def solve(points: Sequence[Point], solver, progress=None, exp=None) -> tuple[dict[str, Any], dict]:
    """Solve a heel-drop experiment's points: the free ankle once per fit (reused as the reference profile of
    the fit's relative and shift drops and as a warm start), every point from several starts. Returns
    (key -> Solution, info) with info = {"multistart": {experiment/key: spread}, "largest_feasible_drop": [...]}."""
    from ...ocp.feasibility import largest_heel_drop_deg
    from ...ocp.heel_drop import sole_upper_bound
    from ...ocp.solve import with_reference
    from ..executors import PointTask, point_setup, solve_point

    ename = exp.name if exp is not None else "?"
    frees: dict[str, Any] = {}
    sols: dict[str, Any] = {}
    spread: dict[str, dict] = {}
    reach: dict[str, dict] = {}

    def setup_of(p):  # the Setup solve_point uses (one cache per solver)
        return point_setup(p.rider, p.fit, solver)

    def solve_one(p, spec, guess=None):  # run's per-point solve, with this study's start strategy
        return solve_point(PointTask(p.key, p.rider, p.fit, spec), guess, solver=solver,
                           starts=best_of_starts).as_solution(spec)

    def free_of(p):
        k = repr((p.rider, p.fit, free_spec(p.spec)))
        if k not in frees:
            # cold starts, plus a warm start from the last free solution (another saddle) when there is one
            last = next((s for s in reversed(list(frees.values())) if s.success), None)
            frees[k] = solve_one(p, free_spec(p.spec), last)
        return frees[k]

    for i, p in enumerate(points):
        su, spec = setup_of(p), p.spec
        if spec.condition == "free":
            sol = free_of(p)
        elif spec.condition == "heel_drop":
            ref = free_of(p)
            if spec.heel_drop_mode != "absolute" and ref.success:
                spec = with_reference(spec, ref)
            sol = solve_one(p, spec, ref if ref.success else None)
            rk = repr((p.rider, p.fit, spec.heel_drop_mode, spec.heel_drop_window_deg))
            if rk not in reach and (spec.heel_drop_mode == "absolute" or ref.success):
                tr, _, _ = solver._get(spec, p.rider.muscle_curves)  # the structure the point was solved with
                on = np.isfinite(sole_upper_bound(tr.theta, spec))
                reach[rk] = {"experiment": ename, "fit": p.fit_name, "saddle_height_m": round(su.saddle_height_m, 6),
                             "mode": spec.heel_drop_mode, "window_deg": list(spec.heel_drop_window_deg),
                             "largest_deg": round(float(largest_heel_drop_deg(solver.model, su, tr.theta[on], spec)),
                                                  2)}
        else:
            sol = solve_one(p, spec)
        sols[p.key] = sol
        if sol.success:
            spread[f"{ename}/{p.key}"] = start_spread(sol)
        if progress is not None:
            progress(i + 1, len(points), p, sol)
    return sols, {"multistart": spread, "largest_feasible_drop": list(reach.values())}


# ----------------------------------------------------------------------------------------------------------
# Fit compensation (run once by scripts/heel_drop_compensated_saddles.py; the heights live in the
# study_heel_drop_comp_*.toml files)
# ----------------------------------------------------------------------------------------------------------

def compensated_saddle_height(solver, rider, base_fit, spec: ProblemSpec, target_knee_bdc_deg: float,
                              tol_deg: float = 0.02, max_iter: int = 12) -> tuple[float | None, str]:
    """Saddle height (m) at which the *solved* heel-drop motion (spec: a heel_drop spec without a reference; the
    free reference is re-solved at each trial height, as the rider's own pattern at that saddle) has the knee
    flexion at BDC of the free ankle at the base fit (secant on the height, warm-started). Returns (height,
    message); height None when a trial height makes the drop infeasible or a solve fails."""
    from ...model.leg import make_setup

    h0 = make_setup(solver.model, rider, base_fit).saddle_height_m
    guess = None

    def knee(h):
        nonlocal guess
        fit = replace(base_fit, saddle_rule="absolute", saddle_height_m=h, knee_flexion_at_bdc_deg=None,
                      ankle_at_bdc_deg=None)
        sol = solver.solve(make_setup(solver.model, rider, fit), spec, guess=guess)
        if not sol.success:
            return None, sol.stats.message or sol.stats.status
        guess = sol
        return knee_at_bdc_deg(sol) - target_knee_bdc_deg, ""

    a, (fa, msg) = h0, knee(h0)
    if fa is None:
        return None, msg
    b = h0 - 0.005
    fb, msg = knee(b)
    for _ in range(max_iter):
        if fb is None:
            return None, msg
        if abs(fb) < tol_deg:
            return b, f"knee at BDC within {tol_deg} deg of the target"
        c = b - fb * (b - a) / (fb - fa) if fb != fa else b - 0.002
        a, fa = b, fb
        b = c
        fb, msg = knee(b)
    return (b, "not converged") if fb is not None and abs(fb) < 0.5 else (None, "not converged")
