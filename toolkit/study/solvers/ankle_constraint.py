"""The constrained ankle as a continuum (issue 16): from the free ankle to an immobilized one, through orthosis
stops of shrinking range (`range_limited`, a width around the rider's own free-ankle mean angle) and an orthosis
spring of growing stiffness (`braced`, neutral at the fixed condition's angle, so its stiff end meets `fixed`).

Study: studies/ankle_constraint/ (every constant in its experiment files: widths, stiffnesses, work rates,
starts). Solve loop (`solve`): per rider, fit, work rate and cadence, `free` and `fixed` from several starts;
each sweep a chain from free to fixed (widths descending, stiffnesses ascending), every point warm-started from
its neighbour; the first, middle and last point of each chain also from `solver.multistart` cold starts (a stiff
device cold start is reached by continuation in the stiffness from that start). The spread of the shares over
starts within 0.5 % of the best cost goes to extras.json. Metrics and the page (toolkit.study.metrics.ankle_constraint)
use the stored files only.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence


from ...ocp.problem import ProblemSpec
from ..config import Point
from .starts import best_of_starts, start_spread

def _sweep_value(p: Point) -> float:
    """A chain's coordinate: the range width (deg) of a range-limited point, the stiffness of a braced one."""
    s = p.spec
    return float((s.ankle_range_width_deg or 0.0) if s.condition == "range_limited" else s.brace_stiffness_Nm_per_rad)


class _StartSolver:
    """A PedalingSolver whose cold start `start=i` of a stiff device is reached by continuation in the device
    stiffness from that start (the solver's own continuation always begins from start 0)."""

    def __init__(self, solver):
        self._s = solver

    def __getattr__(self, name):
        return getattr(self._s, name)

    def solve(self, setup, spec: ProblemSpec, guess=None, start: int | None = None):
        from ...ocp.solve import CONTINUATION_START_NMRAD, stiff_device

        if guess is not None or start is None or not stiff_device(spec):
            return self._s.solve(setup, spec, guess=guess, start=start)
        key = "ankle_stop_stiffness_Nm_per_rad" if spec.condition == "range_limited" else "brace_stiffness_Nm_per_rad"
        one = replace(spec, solver=replace(spec.solver, multistart=1))
        k, step = CONTINUATION_START_NMRAD, None
        step = self._s.solve(setup, replace(one, **{key: k}), start=start)
        while step.success and k * 10 < getattr(spec, key):
            k *= 10
            step = self._s.solve(setup, replace(one, **{key: k}), guess=step)
        if not step.success:
            return step if step.stats.status == "Infeasible_Request" else self._s.solve(setup, spec, start=start)
        return self._s.solve(setup, spec, guess=step)


def _chain_step(solver, setup, spec: ProblemSpec, guess=None):
    """A chain point between the multistart positions: warm-started from its neighbour (start 0 without one);
    a failed warm start is retried from the cold starts (`best_of_starts`)."""
    sol = solver.solve(setup, spec, guess=guess) if guess is not None else solver.solve(setup, spec, start=0)
    if not sol.success and sol.stats.status != "Infeasible_Request" and guess is not None:
        sol = best_of_starts(solver, setup, spec)  # the warm start failed: cold starts instead
    return sol


def multistart_positions(n: int) -> set[int]:
    """The chain positions solved from several starts: the first, the middle and the last."""
    return {0, n // 2, n - 1} if n else set()


def _better(sol, solver, setup, spec: ProblemSpec, neighbour):
    """The backward pass of a chain: `sol` or the solve warm-started from its stiffer/narrower neighbour,
    whichever has the lower cost (a chain can settle in a worse basin going one way); the loser is kept among the
    starts (for the spread over starts)."""
    if not neighbour.success or sol.stats.status == "Infeasible_Request":
        return sol
    cand = solver.solve(setup, spec, guess=neighbour)
    if not cand.success:
        return sol
    if not sol.success:
        return cand
    n = sol.stats.starts + 1
    if cand.stats.objective < sol.stats.objective:
        return replace(cand, stats=replace(cand.stats, starts=n),
                       start_solutions=[replace(sol, start_solutions=[]), *sol.start_solutions])
    return replace(sol, stats=replace(sol.stats, starts=n), start_solutions=[*sol.start_solutions, cand])


def solve(points: Sequence[Point], solver, progress=None, exp=None) -> tuple[dict[str, Any], dict]:
    """Solve the sweep: per (rider, fit, power, cadence) the free and fixed ends from several starts, then each
    constraint kind as a chain from free to fixed, warm-started from the neighbour (several starts at the chain's
    ends and middle), then back from fixed to free, each point also warm-started from its constrained neighbour
(the lower cost is kept). Returns (key -> Solution, {"multistart": {experiment/key: spread}, "chains": [...]})."""
    from ...ocp.solve import with_reference
    from ..executors import PointTask, point_setup, solve_point

    ss = _StartSolver(solver)

    def solve_one(p, spec, guess=None, starts=best_of_starts):  # run's per-point solve, this study's starts
        return solve_point(PointTask(p.key, p.rider, p.fit, spec), guess, solver=ss, starts=starts).as_solution(spec)

    ename = exp.name if exp is not None else "?"
    groups: dict[tuple, list[Point]] = {}
    for p in points:
        groups.setdefault((repr(p.rider), p.fit_name, repr(p.fit), p.spec.power_W, p.spec.cadence_rpm), []).append(p)
    sols: dict[str, Any] = {}
    spread: dict[str, dict] = {}
    chains: list[dict] = []
    done = 0

    def record(p, sol):
        nonlocal done
        sols[p.key] = sol
        if sol.success and sol.stats.starts > 1:
            spread[f"{ename}/{p.key}"] = start_spread(sol)
        done += 1
        if progress is not None:
            progress(done, len(points), p, sol)

    for gpts in groups.values():
        su = point_setup(gpts[0].rider, gpts[0].fit, ss)
        by = {p.spec.condition: p for p in gpts if p.spec.condition in ("free", "fixed")}
        free = None
        if "free" in by:
            free = solve_one(by["free"], by["free"].spec)
            record(by["free"], free)
        else:  # the free reference is needed for the widths and the chains' first guess
            free = solve_one(gpts[0], replace(gpts[0].spec, condition="free"))
        if "fixed" in by:
            record(by["fixed"], solve_one(by["fixed"], by["fixed"].spec))
        for kind in ("range_limited", "braced"):
            chain = sorted((p for p in gpts if p.spec.condition == kind), key=_sweep_value,
                           reverse=(kind == "range_limited"))
            if not chain:
                continue
            multi = multistart_positions(len(chain))
            guess = free if free.success else None
            specs, got = [], []
            for i, p in enumerate(chain):  # forward: free -> fixed
                spec = p.spec
                if kind == "range_limited" and spec.ankle_range_width_deg is not None and free.success:
                    spec = with_reference(spec, free)
                specs.append(spec)
                sol = solve_one(p, spec, guess, best_of_starts if i in multi else _chain_step)
                got.append(sol)
                if sol.success:
                    guess = sol
            for i in range(len(chain) - 2, -1, -1):  # backward: fixed -> free, keep the lower cost
                got[i] = _better(got[i], ss, su, specs[i], got[i + 1])
            for p, sol in zip(chain, got):
                record(p, sol)
            chains.append({"experiment": ename, "kind": kind, "power_W": gpts[0].spec.power_W,
                           "order": [p.condition_label for p in chain],
                           "multistart": [chain[i].condition_label for i in sorted(multi)]})
    return sols, {"multistart": spread, "chains": chains}
