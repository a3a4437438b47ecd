"""The heel-drop study (claims A and E of shared/reference/studies.md): "drop your heel to engage your glutes".

Points (experiment files, all 200 W, 90 rpm; registered in `reproduce.STUDIES`):

- `study_heel_drop.toml`: the default fit (one frozen saddle height): free, fixed, and heel drops 5-15 deg in the
  relative mode (below the rider's own free pattern over the downstroke and across the bottom, 20-200 deg) and
  the shift mode (the whole free profile lowered, Cannon et al. 2007). Drop 0 in these modes is the free problem
  (the free optimum satisfies the bound), so the free point stands for it.
- `study_heel_drop_saddle.toml`: a saddle-height sweep (+-7.5, +-15 mm) crossed with drops 0 (free), 5, 10 deg
  (relative), and fit-compensated saddles (`compensated_saddle_height`: lowered until the knee flexion at BDC
  of the solved motion equals the free ankle's at the default fit).
- `study_heel_drop_absolute.toml`: SENSITIVITY, the old definition (sole angle <= -d to the horizontal over
  crank 60-120 deg).
- `study_heel_drop_window.toml`, `..._one_head.toml`, `..._exponent2.toml`: robustness of the sign of the
  changes to the window (45-180 deg), the force set (pedaling_model) and the cost exponent (2).

The solve loop (`solve_heel`) solves each fit's free ankle once (several starts) and uses it as the reference
profile of that fit's relative and shift drops; each heel drop is solved from the configured number of cold
starts plus a warm start from the free solution, and the spread of the shares over the starts within 0.5 % of
the best cost is stored in extras.json. Every solve goes through `run`'s per-point solve
(`executors.solve_point`, with `best_of_starts` as its start strategy). Evaluation and tables (`heel_report`)
use the stored files only.
"""
from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from ..analysis.engagement import muscle_engagement
from ..model.leg import JOINTS
from ..ocp.problem import ProblemSpec
from ..ocp.solution import Solution
from .base import Variant, experiments_dir, knee_at_bdc_deg
from .config import Point, load_experiment
from .intensity import _num

MAIN = "study_heel_drop"
SADDLE = "study_heel_drop_saddle"
ABSOLUTE = "study_heel_drop_absolute"
WINDOW = "study_heel_drop_window"
ONE_HEAD = "study_heel_drop_one_head"
EXP2 = "study_heel_drop_exponent2"
BASE_FIT = "default"
SWEEP_PREFIX = "saddle_"
COMP_PREFIX = "comp_"
NEAR_BEST_PCT = 0.5      # starts within this % of the best cost count as equally good answers
SWEEP_DROPS = (5.0, 10.0)

_QUICK = ("solver.multistart=1",)
VARIANTS = (
    Variant("study_heel_drop.toml", "same saddle: relative and shift heel drops",
            quick=_QUICK + ("conditions.ankle=[\"free\", \"heel_drop\"]", "conditions.heel_drop_mode=[\"relative\"]",
                            "conditions.heel_drop_deg=[10, 40]")),
    Variant("study_heel_drop_saddle.toml", "saddle sweep x drop; fit-compensated saddles",
            quick=_QUICK + ("conditions.ankle=[\"free\"]",)),
    Variant("study_heel_drop_absolute.toml", "SENSITIVITY: absolute heel drop (old definition)",
            quick=_QUICK + ("conditions.heel_drop_deg=[5]",)),
    Variant("study_heel_drop_window.toml", "robustness: window 45-180 deg",
            quick=_QUICK + ("conditions.heel_drop_deg=[10]",)),
    Variant("study_heel_drop_one_head.toml", "robustness: one-head force set (pedaling_model)",
            quick=_QUICK + ("conditions.heel_drop_mode=[\"relative\"]", "conditions.heel_drop_deg=[10]")),
    Variant("study_heel_drop_exponent2.toml", "robustness: squared-activation cost",
            quick=_QUICK + ("conditions.heel_drop_mode=[\"relative\"]", "conditions.heel_drop_deg=[10]")),
)
SELECT_DOC = ("every point of the same-saddle, absolute, window, force-set and exponent files; in the saddle file "
              "each `saddle_*` fit with the free ankle and relative drops 5 and 10 deg, each `comp_<condition>` fit "
              "with its own condition only")


def condition_label(mode: str, drop: float) -> str:
    """The experiment runner's label of a heel-drop condition: heel_drop{d} (relative), heel_drop_{mode}{d}."""
    return ("heel_drop" if mode == "relative" else f"heel_drop_{mode}") + _num(drop)


def parse_condition_label(label: str) -> tuple[str, float]:
    """(mode, drop) of a heel-drop condition label: 'heel_drop10' -> ('relative', 10.0), 'heel_drop_shift5' ->
    ('shift', 5.0)."""
    rest = label[len("heel_drop"):]
    if rest.startswith("_"):
        mode = rest[1:].rstrip("0123456789.")
        return mode, float(rest[1 + len(mode):])
    return "relative", float(rest)


def select(p: Point) -> bool:
    """Saddle sweep: free and relative 5/10 deg; compensated fits: their own condition only; else every point."""
    if p.fit_name.startswith(COMP_PREFIX):
        return p.condition_label == p.fit_name[len(COMP_PREFIX):]
    if p.fit_name.startswith(SWEEP_PREFIX):
        return p.spec.condition == "free" or (
            p.spec.condition == "heel_drop" and p.spec.heel_drop_mode == "relative"
            and any(math.isclose(p.spec.heel_drop_deg, d) for d in SWEEP_DROPS))
    return True


# ----------------------------------------------------------------------------------------------------------
# Solving
# ----------------------------------------------------------------------------------------------------------

def free_spec(spec: ProblemSpec) -> ProblemSpec:
    """The free-ankle problem of a point (the heel-drop and fixed settings back to their defaults), as the
    experiment runner writes a free point."""
    d = ProblemSpec()
    return replace(spec, condition="free", heel_drop_deg=d.heel_drop_deg, heel_drop_mode=d.heel_drop_mode,
                   heel_drop_window_deg=d.heel_drop_window_deg, heel_drop_ramp_deg=d.heel_drop_ramp_deg,
                   heel_drop_reference_deg=(), fixed_ankle_deg=d.fixed_ankle_deg, prescribed_sole_deg=())


def best_of_starts(solver, setup, spec: ProblemSpec, guess=None):
    """spec.solver.multistart cold starts (each on its own, so a start whose kinematic guess cannot reach the pedal
    is skipped) plus, when given, a warm start from `guess`; the lowest-cost successful one, with the other
    successful starts in `start_solutions` and the number of starts tried in `stats.starts`."""
    from ..ocp.solve import describe_setup
    from ..ocp.solution import SolverStats

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
    from ..analysis.power import cycle_summary

    best = sol.stats.objective
    near = [sol] + [s for s in sol.start_solutions if s.stats.objective <= best + abs(best) * tol_pct / 100.0]
    sh = np.array([[100.0 * cycle_summary(s).joint_work_share[j] for j in JOINTS] for s in near])
    gw = np.array([muscle_engagement(s).fibre_positive_work_J for s in near])
    return {"starts": int(sol.stats.starts), "successful": 1 + len(sol.start_solutions), "near_best": len(near),
            "spread_pp": {j: round(float(np.ptp(sh[:, k])), 4) for k, j in enumerate(JOINTS)},
            "gmax_work_spread_J": round(float(np.ptp(gw)), 4)}


def solve_heel(points: Sequence[Point], solver, progress=None, exp=None) -> tuple[dict[str, Any], dict]:
    """Solve a heel-drop experiment's points: the free ankle once per fit (reused as the reference profile of
    the fit's relative and shift drops and as a warm start), every point from several starts. Returns
    (key -> Solution, info) with info = {"multistart": {experiment/key: spread}, "largest_feasible_drop": [...]}."""
    from ..ocp.feasibility import largest_heel_drop_deg
    from ..ocp.heel_drop import sole_upper_bound
    from ..ocp.solve import with_reference
    from .executors import PointTask, point_setup, solve_point

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
                tr, _, _ = solver._get(spec)
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
# Fit compensation (run once; the heights live in experiments/study_heel_drop_saddle.toml)
# ----------------------------------------------------------------------------------------------------------

def compensated_saddle_height(solver, rider, base_fit, spec: ProblemSpec, target_knee_bdc_deg: float,
                              tol_deg: float = 0.02, max_iter: int = 12) -> tuple[float | None, str]:
    """Saddle height (m) at which the *solved* heel-drop motion (spec: a heel_drop spec without a reference; the
    free reference is re-solved at each trial height, as the rider's own pattern at that saddle) has the knee
    flexion at BDC of the free ankle at the base fit (secant on the height, warm-started). Returns (height,
    message); height None when a trial height makes the drop infeasible or a solve fails."""
    from ..model.leg import make_setup

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


COMPENSATED = (("relative", 5.0), ("relative", 10.0), ("shift", 10.0))


def compensation_main(cases=COMPENSATED) -> int:
    """Print the fit-compensated saddle heights for the current model (paste into study_heel_drop_saddle.toml)."""
    from ..model.leg import make_setup
    from ..ocp.solve import PedalingSolver

    exp = load_experiment(experiments_dir() / f"{MAIN}.toml")
    rider, base = exp.riders[0], dict(exp.fits)[BASE_FIT]
    solver = PedalingSolver()
    kw = dict(power_W=exp.intensity.values[0], cadence_rpm=exp.intensity.cadence_rpm[0], cost=exp.cost,
              solver=replace(exp.solver, multistart=1), heel_drop_window_deg=exp.conditions.heel_drop_window_deg,
              heel_drop_ramp_deg=exp.conditions.heel_drop_ramp_deg)
    free = solver.solve(make_setup(solver.model, rider, base), ProblemSpec(condition="free", **kw))
    target = knee_at_bdc_deg(free)
    print(f"# target: knee flexion at BDC of the free ankle at the default fit = {target:.3f} deg")
    for mode, d in cases:
        spec = ProblemSpec(condition="heel_drop", heel_drop_deg=d, heel_drop_mode=mode, **kw)
        h, msg = compensated_saddle_height(solver, rider, base, spec, target)
        print(f"# {condition_label(mode, d)}: " + (f"saddle_height_m = {h:.5f}" if h is not None else "none")
              + f" ({msg})", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    if "--compensation" in sys.argv[1:]:
        raise SystemExit(compensation_main())
