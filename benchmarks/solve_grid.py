"""Benchmark: wall time and iterations per solve over the issue's grid, cold and warm-started.

    python benchmarks/solve_grid.py [--nodes 40] [--markdown]

Grid: every ankle condition (free, fixed, heel_drop 5 deg, prescribed) at 60-400 W and 90 rpm; free ankle at
200 W at 60-120 rpm; heel drop 5-20 deg at 200 W. Cold = default kinematic guess; warm = guess from the
neighbouring point of the same chain (previous power / cadence / drop). Build time (casadi + IPOPT setup,
once per structure) is reported separately.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

from toolkit.analysis.power import cycle_summary
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import LegModel, make_setup
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.solve import PedalingSolver

POWERS = (60, 100, 150, 200, 250, 300, 350, 400)
CADENCES = (60, 75, 90, 105, 120)
DROPS = (5, 10, 15, 20)
PRESCRIBED = tuple((a, 20 + 12 * math.cos(math.radians(a - 290))) for a in range(0, 361, 30))


def chains(nodes: int) -> dict[str, list[ProblemSpec]]:
    sv = SolverSpec(nodes=nodes)
    out = {}
    for cond in ("free", "fixed", "heel_drop", "prescribed"):
        kw = {"heel_drop_deg": 5.0} if cond == "heel_drop" else {}
        if cond == "prescribed":
            kw["prescribed_sole_deg"] = PRESCRIBED
        out[f"{cond} vs power"] = [ProblemSpec(condition=cond, power_W=p, solver=sv, **kw) for p in POWERS]
    out["free vs cadence"] = [ProblemSpec(power_W=200, cadence_rpm=c, solver=sv) for c in CADENCES]
    out["heel drop vs depth"] = [ProblemSpec(condition="heel_drop", heel_drop_deg=d, power_W=200, solver=sv) for d in DROPS]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=40)
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = LegModel()
    setup = make_setup(model, Rider(), BikeFit())
    solver = PedalingSolver(model)
    print(f"model + setup: {time.perf_counter() - t0:.2f} s")
    rows, cold_t, warm_t = [], [], []
    for name, specs in chains(args.nodes).items():
        prev = None
        for spec in specs:
            cold = solver.solve(setup, spec)
            warm = solver.solve(setup, spec, guess=prev) if prev is not None else None
            label = {"free vs cadence": f"{spec.cadence_rpm:g} rpm", "heel drop vs depth": f"{spec.heel_drop_deg:g} deg"}.get(name, f"{spec.power_W:g} W")
            sh = cycle_summary(cold).joint_work_share if cold.success else None
            if cold.success:
                cold_t.append(cold.stats.solve_time_s)
            if warm is not None and warm.success:
                warm_t.append(warm.stats.solve_time_s)
            rows.append((name, label, cold, warm, sh))
            if cold.success:
                prev = cold
    print(f"\n| chain | point | cold status | cold it | cold s | warm it | warm s | hip/knee/ankle % |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label, cold, warm, sh in rows:
        w_it = f"{warm.stats.iterations}" if warm is not None else "-"
        w_s = f"{warm.stats.solve_time_s:.2f}" if warm is not None else "-"
        if warm is not None and not warm.success:
            w_it += f" ({warm.stats.status})"
        shares = "/".join(f"{100 * sh[j]:.0f}" for j in ("hip", "knee", "ankle")) if sh else cold.stats.message[:60]
        print(f"| {name} | {label} | {cold.stats.status} | {cold.stats.iterations} | {cold.stats.solve_time_s:.2f} "
              f"| {w_it} | {w_s} | {shares} |")
    builds = {k: v[2] for k, v in solver._cache.items()}
    print(f"\nbuild time per structure (s): " + ", ".join(f"{k[0]}: {v:.2f}" for k, v in builds.items()))
    if cold_t:
        print(f"cold solves: n={len(cold_t)} median {statistics.median(cold_t):.2f} s, max {max(cold_t):.2f} s")
    if warm_t:
        print(f"warm solves: n={len(warm_t)} median {statistics.median(warm_t):.2f} s, max {max(warm_t):.2f} s")


if __name__ == "__main__":
    main()
