"""Diagnostics of the model check: computed evidence for WHY rows disagree (no reference numbers here).

1. Where the negative upstroke pedal force comes from: the leg's own weight and inertia vs the joint moments
   (toolkit.analysis.pedal.pedal_force_sources). A rider who lifts the recovering leg makes the joint-moment part
   positive; a model that lets the other leg lift it leaves the weight-and-inertia part uncompensated.
2. What the measured foot posture costs the model: the Park et al. (2022) condition solved with its measured
   pedal angle prescribed (as the model-foot line: pedal angle + the 13 deg offset Park et al. use) beside the
   free solution at the same condition. A large extra effort means the model's optimum disagrees with the
   posture riders choose, i.e. something that sets human foot posture is missing from the model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.pedal import index_of_effectiveness, pedal_force_sources
from ..analysis.power import cycle_summary
from .reference import load_park2022
from .conditions import PARK, conditions

UPSTROKE_KEYS = ("120W_60rpm_free", "200W_90rpm_free", "300W_90rpm_free")


@dataclass
class Diagnostics:
    upstroke: dict          # condition -> {"joint_moments": Ns, "inertia_gravity": Ns, "total": Ns}
    posture: dict | None    # {"free_cost", "prescribed_cost", "cost_ratio", shares, ie, status}


def upstroke_sources(solutions: dict, model) -> dict:
    """Negative tangential impulse over 180-360 deg (N s, one leg) split into its two sources."""
    out = {}
    for key in UPSTROKE_KEYS:
        sol = solutions.get(key)
        if sol is not None and sol.success:
            out[key] = pedal_force_sources(sol, model).upstroke_negative_impulse_Ns
    return out


def measured_posture_cost(solver, setup, solutions: dict, nodes: int) -> dict | None:
    """Solve the Park condition with the measured foot posture prescribed; compare with the free solution."""
    from ..ocp.problem import ProblemSpec, SolverSpec

    free = solutions.get(PARK)
    if free is None or not free.success:
        return None
    park = load_park2022()
    power, cadence, _ = conditions()[PARK]
    step = max(1, len(park.crank_angle_deg) // 36)
    samples = tuple((float(c), float(f)) for c, f in zip(park.crank_angle_deg[::step], park.foot_line_angle[::step])
                    if c < 360.0)
    spec = ProblemSpec(condition="prescribed", power_W=power, cadence_rpm=cadence, prescribed_sole_deg=samples,
                       solver=SolverSpec(nodes=nodes))
    pres = solver.solve(setup, spec, guess=free)
    row = {"status": pres.stats.status, "free_cost": float(free.stats.objective)}
    if pres.success:
        row.update(prescribed_cost=float(pres.stats.objective),
                   cost_ratio=float(pres.stats.objective / free.stats.objective),
                   free_shares=cycle_summary(free).joint_work_share,
                   prescribed_shares=cycle_summary(pres).joint_work_share,
                   free_ie=index_of_effectiveness(free), prescribed_ie=index_of_effectiveness(pres),
                   free_sole_range_deg=[float(np.degrees(free["phi"]).min()), float(np.degrees(free["phi"]).max())],
                   prescribed_sole_range_deg=[float(np.degrees(pres["phi"]).min()),
                                              float(np.degrees(pres["phi"]).max())])
    return row


def diagnostics_lines(d: Diagnostics) -> list[str]:
    """Markdown of the diagnostics section (every number computed from the solutions above)."""
    lines = ["## Diagnostics: why some rows disagree", "",
             "Negative tangential impulse in the upstroke (180-360 deg, N s, one leg), split into what the leg's own "
             "weight and inertia produce and what the joint moments add (their sum is the pedal force):", "",
             "| condition | weight + inertia | joint moments | total |", "|---|---|---|---|"]
    for k, v in d.upstroke.items():
        lines.append(f"| {k} | {v['inertia_gravity']:.2f} | {v['joint_moments']:.2f} | {v['total']:.2f} |")
    frac = [v["inertia_gravity"] / v["total"] for v in d.upstroke.values() if v["total"] < 0]
    if frac:
        lines += ["", f"The leg's weight and inertia make {100 * min(frac):.0f}-{100 * max(frac):.0f} % of the negative "
                  "upstroke impulse: the model's joint moments do not lift the recovering leg (hip-flexor work is "
                  "small), so the other leg lifts it through the crank. This lowers the index of effectiveness."]
    p = d.posture
    lines += ["", "Measured foot posture: the Park et al. (2022) condition solved with the measured pedal angle "
              "prescribed (model-foot line = pedal angle + 13 deg), beside the free solution:", ""]
    if p is None:
        lines += ["Not available (the free Park condition did not solve)."]
    elif "cost_ratio" not in p:
        lines += [f"The prescribed solve did not succeed ({p['status']})."]
    else:
        sh = lambda s: "/".join(f"{100 * s[j]:.1f}" for j in ("hip", "knee", "ankle"))
        lines += ["| ankle | effort cost | hip/knee/ankle share % | index of effectiveness | sole angle range (deg) |",
                  "|---|---|---|---|---|",
                  f"| free (model's choice) | {p['free_cost']:.4g} | {sh(p['free_shares'])} | {p['free_ie']:.2f} | "
                  f"{p['free_sole_range_deg'][0]:.0f} to {p['free_sole_range_deg'][1]:.0f} |",
                  f"| measured posture prescribed | {p['prescribed_cost']:.4g} | {sh(p['prescribed_shares'])} | "
                  f"{p['prescribed_ie']:.2f} | {p['prescribed_sole_range_deg'][0]:.0f} to "
                  f"{p['prescribed_sole_range_deg'][1]:.0f} |", "",
                  f"Following the measured posture costs the model {100 * (p['cost_ratio'] - 1):.0f} % more effort. "
                  "A model whose effort optimum were the riders' posture would pay nothing; the larger this number, "
                  "the more the model's criterion disagrees with the posture riders choose, i.e. the more of what "
                  "sets human foot posture (ankle passive structures, the cost riders minimize, foot-shoe "
                  "compliance) is missing. The sole-angle rows above compare the two postures directly."]
    return lines + [""]
