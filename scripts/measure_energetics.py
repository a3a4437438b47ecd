"""Metabolic power and efficiency of the default rider and fit at 120/200/300 W, 90 rpm, free ankle: each energetics
model, with the default effort cost and with the metabolic cost; high- vs low-LT riders; delta efficiency.

    PYTHONPATH=. python scripts/measure_energetics.py [--nodes 40] [--json out.json]

Prints markdown tables (the numbers quoted in docs/energetics.md).
"""
from __future__ import annotations

import argparse
import json
import time

from toolkit.analysis.metabolic import delta_efficiency, metabolic_summary
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.energetics import MODELS, rider_slow_twitch_fractions
from toolkit.model.leg import LegModel, make_setup
from toolkit.ocp.problem import CostSpec, ProblemSpec, SolverSpec
from toolkit.ocp.solve import PedalingSolver
from toolkit.study.config import rider_profiles

POWERS = (120.0, 200.0, 300.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=40)
    ap.add_argument("--json", default=None)
    ap.add_argument("--activation-floor", type=float, default=None,
                    help="ProblemSpec.activation_floor (default: the problem default, 0.01)")
    ap.add_argument("--effort-only", action="store_true", help="only the effort-cost table")
    args = ap.parse_args()
    model = LegModel()
    solver = PedalingSolver(model)
    setup = make_setup(model, Rider(), BikeFit())
    out: dict = {"nodes": args.nodes, "effort": {}, "metabolic": {}, "riders": {}}
    extra = {} if args.activation_floor is None else {"activation_floor": args.activation_floor}

    def solve(spec, st=setup, guess=None):
        t0 = time.perf_counter()
        sol = solver.solve(st, spec, guess=guess)
        if not sol.success:
            raise RuntimeError(sol.stats.summary())
        return sol, time.perf_counter() - t0

    # Default effort cost: one solution per power, every model evaluated on it.
    effort = {}
    prev = None
    for P in POWERS:
        effort[P], dt = solve(ProblemSpec(power_W=P, solver=SolverSpec(nodes=args.nodes), **extra), guess=prev)
        prev = effort[P]
    print(f"## Effort cost (activation squared), {args.nodes} nodes, default Rider (reference fibre composition)"
          f"{'' if not extra else f', activation floor {args.activation_floor}'}\n")
    print("| model | " + " | ".join(f"{P:.0f} W: P_met (W), GE" for P in POWERS) + " | delta efficiency |")
    print("|---|" + "---|" * (len(POWERS) + 1))
    for m in MODELS:
        row = [metabolic_summary(effort[P], m) for P in POWERS]
        de = delta_efficiency([effort[P] for P in POWERS], m)
        out["effort"][m] = {"metabolic_power_W": [r["metabolic_power_W"] for r in row],
                            "gross_efficiency": [r["gross_efficiency"] for r in row], "delta_efficiency": de,
                            "by_muscle_200W": row[1]["metabolic_power_by_muscle_W"]}
        print(f"| {m} | " + " | ".join(f"{r['metabolic_power_W']:.0f}, {100 * r['gross_efficiency']:.1f} %"
                                       for r in row) + f" | {100 * de:.1f} % |")

    print("\nDelta efficiency (120-300 W, effort cost), high- vs low-LT fibre types: "
          + "; ".join(f"{m} {100 * delta_efficiency([effort[P] for P in POWERS], m, rider_slow_twitch_fractions(66.7)):.1f}"
                      f" vs {100 * delta_efficiency([effort[P] for P in POWERS], m, rider_slow_twitch_fractions(46.9)):.1f} %"
                      for m in MODELS))
    if args.effort_only:
        return
    print(f"\n## Metabolic cost (cost.kind = 'metabolic', the same model solved and reported)\n")
    print("| model | " + " | ".join(f"{P:.0f} W: P_met (W), GE" for P in POWERS)
          + " | delta efficiency | solve time (s) | max |a_met - a_effort| at 200 W |")
    print("|---|" + "---|" * (len(POWERS) + 3))
    for m in MODELS:
        sols, times = {}, []
        prev = None
        for P in POWERS:
            sols[P], dt = solve(ProblemSpec(power_W=P, solver=SolverSpec(nodes=args.nodes),
                                            cost=CostSpec(kind="metabolic", metabolic_model=m), **extra),
                                 guess=prev or effort[P])
            prev = sols[P]
            times.append(dt)
        row = [metabolic_summary(sols[P]) for P in POWERS]
        de = delta_efficiency([sols[P] for P in POWERS])
        da = float(abs(sols[200.0]["activation"] - effort[200.0]["activation"]).max())
        out["metabolic"][m] = {"metabolic_power_W": [r["metabolic_power_W"] for r in row],
                               "gross_efficiency": [r["gross_efficiency"] for r in row], "delta_efficiency": de,
                               "solve_time_s": times, "max_activation_difference_200W": da}
        print(f"| {m} | " + " | ".join(f"{r['metabolic_power_W']:.0f}, {100 * r['gross_efficiency']:.1f} %"
                                       for r in row)
              + f" | {100 * de:.1f} % | {', '.join(f'{t:.1f}' for t in times)} | {da:.2f} |")

    # High- vs low-LT riders (Coyle et al. 1988 compositions), 200 W.
    prof = rider_profiles()
    print("\n## High- vs low-LT rider (Coyle et al. 1988 fibre types), 200 W, 90 rpm\n")
    print("| model | effort cost: HLT, LLT P_met (W) | difference | metabolic cost: HLT, LLT P_met (W) | difference |")
    print("|---|---|---|---|---|")
    for m in MODELS:
        hl = {}
        for name in ("high_lt", "low_lt"):
            r = prof[name]
            st = make_setup(model, r, BikeFit())
            # effort cost: same trajectory for both riders; evaluate with the rider's fractions
            e = metabolic_summary(effort[200.0], m, slow_twitch=rider_slow_twitch_fractions(r.type1_pct_vastus_lateralis))
            sol, _ = solve(ProblemSpec(power_W=200.0, solver=SolverSpec(nodes=args.nodes),
                                       cost=CostSpec(kind="metabolic", metabolic_model=m), **extra), st=st,
                                guess=effort[200.0])
            hl[name] = (e["metabolic_power_W"], metabolic_summary(sol)["metabolic_power_W"], e["gross_efficiency"],
                        metabolic_summary(sol)["gross_efficiency"])
        out["riders"][m] = hl
        h, l_ = hl["high_lt"], hl["low_lt"]
        print(f"| {m} | {h[0]:.0f}, {l_[0]:.0f} (GE {100 * h[2]:.1f}, {100 * l_[2]:.1f} %) | {h[0] - l_[0]:+.0f} W "
              f"({100 * (h[0] - l_[0]) / l_[0]:+.1f} %) | {h[1]:.0f}, {l_[1]:.0f} (GE {100 * h[3]:.1f}, "
              f"{100 * l_[3]:.1f} %) | {h[1] - l_[1]:+.0f} W ({100 * (h[1] - l_[1]) / l_[1]:+.1f} %) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
