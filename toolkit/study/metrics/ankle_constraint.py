"""Quantities of the ankle-constraint study (solve loop: toolkit/study/solvers/ankle_constraint.py; page:
toolkit/study/pages/ankle_constraint.py), from the stored files only.

Per point (`point_metrics`): shares, powers, muscle work and activation, excursions, the device's work. The
published comparisons read off the curve's immobilized end (`values`): the Japanese 250 W study (fixed vs free
ankle: hip power rose slightly, knee power fell, hip angular velocity rose, knee extension velocity fell; none
significant), from the `fixed` point and from the stiffest brace. `direction_table` and `exceptions` say whether
"constraining the ankle favors the hip and disfavors the knee" holds at every point of both sweeps.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ...analysis.engagement import activation_integral_s, fibre_positive_work_J
from ...analysis.power import cycle_summary, external_moment_work
from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Record, StudyData
from ..config.experiment import BRACE_STIFFNESS_LABEL, RANGE_WIDTH_LABEL

SWEEPS = ("range_limited", "braced")


def sweep_x(label: str) -> tuple[str, float] | None:
    """(sweep kind, x) of a condition label: 'range_limited_w20' -> ('range_limited', 20.0), 'braced_k300' ->
    ('braced', 300.0); None for other conditions."""
    if label.startswith(RANGE_WIDTH_LABEL):
        return "range_limited", float(label[len(RANGE_WIDTH_LABEL):])
    if label.startswith(BRACE_STIFFNESS_LABEL):
        return "braced", float(label[len(BRACE_STIFFNESS_LABEL):])
    return None


def point_metrics(sol, muscles: Sequence[str]) -> dict[str, float]:
    """Everything the page plots and tabulates for one solution: joint shares (% of positive joint work), mean
    positive joint power (W, both legs), the activation integral (s) and fibre positive work (J, one leg) of
    `muscles`, the range (max - min) of each joint angle (deg), peak hip and knee extension angular velocity (deg/s),
    the device's positive and negative work (J per cycle, one leg: `external_moment_work`) and peak moment (N m),
    how far the ankle leaves a range-limited range (deg: the stops yield), and the cost."""
    cs = cycle_summary(sol)
    q = np.degrees(np.asarray(sol["q"]))
    qd = np.degrees(np.asarray(sol["qdot"]))
    dev = external_moment_work(sol)
    m: dict[str, float] = {}
    for k, j in enumerate(JOINTS):
        m[f"{j}_share_pct"] = 100.0 * cs.joint_work_share[j]
        m[f"{j}_power_W"] = 2.0 * cs.positive_work_J[j] / sol.period_s
        m[f"{j}_excursion_deg"] = float(np.ptp(q[k]))
    for mu in muscles:
        m[f"{mu}_activation_integral_s"] = activation_integral_s(sol, mu)
        m[f"{mu}_fibre_work_J"] = fibre_positive_work_J(sol, mu)
    m["hip_ext_velocity_deg_s"] = float(np.max(-qd[0]))
    m["knee_ext_velocity_deg_s"] = float(np.max(-qd[1]))
    m["device_positive_J"] = dev["positive_J"]
    m["device_negative_J"] = dev["negative_J"]
    m["device_net_J"] = dev["net_J"]
    m["device_peak_moment_Nm"] = float(np.max(np.abs(sol["orthosis_moment"])))
    lo, hi = sol.spec.ankle_range_deg
    m["outside_range_deg"] = (max(0.0, lo - float(q[2].min()), float(q[2].max()) - hi)
                              if sol.spec.condition == "range_limited" else 0.0)
    m["ankle_mean_deg"] = float(np.sum(q[2] * sol.node_dt) / np.sum(sol.node_dt))
    m["cost"] = float(sol.stats.objective)
    return m


def metrics_of(r: Record, muscles: Sequence[str] = ("GMAX", "VAS")) -> dict[str, float]:
    if not hasattr(r, "_ankle_metrics"):
        r._ankle_metrics = point_metrics(r.sol, muscles)  # type: ignore[attr-defined]
    return r._ankle_metrics  # type: ignore[attr-defined]


def main_experiment(data: StudyData) -> str:
    return data.study.experiment_name("main")


def mesh_experiment(data: StudyData) -> str:
    return data.study.experiment_name("mesh")


def tolerance(data: StudyData, key: str) -> float:
    return float(data.study.param("tolerances")[key])


def powers(data: StudyData) -> list[float]:
    return sorted({float(x.labels.get("power_W")) for x in [*data.records, *data.failures]})


def point_at(data: StudyData, power: float, label: str, exp: str | None = None):
    return data.one(exp or main_experiment(data), power_W=power, condition_label=label)


def curve(data: StudyData, kind: str, power: float, exp: str | None = None
          ) -> list[tuple[float, Record | None, object | None]]:
    """(x, record or None, failure or None) of one sweep at one power, free -> fixed order."""
    exp = exp or main_experiment(data)
    out = []
    for x in [*data.records, *data.failures]:
        if x.experiment != exp or not math.isclose(float(x.labels.get("power_W")), power):
            continue
        sx = sweep_x(str(x.labels.get("condition_label", "")))
        if sx is None or sx[0] != kind:
            continue
        out.append((sx[1], x if isinstance(x, Record) else None, None if isinstance(x, Record) else x))
    return sorted(out, key=lambda t: t[0], reverse=(kind == "range_limited"))


# ----------------------------------------------------------------------------------------------------------
# Published comparisons (Japanese 250 W study)
# ----------------------------------------------------------------------------------------------------------

JJE = (("jje_hip_power_change_pct", "hip_power_W"), ("jje_knee_power_change_pct", "knee_power_W"),
       ("jje_hip_angular_velocity_change_pct", "hip_ext_velocity_deg_s"),
       ("jje_knee_extension_velocity_change_pct", "knee_ext_velocity_deg_s"))


def _jje_why(free: dict, end: dict, key: str) -> str:
    p = {j: (free[f"{j}_power_W"], end[f"{j}_power_W"]) for j in JOINTS}
    tot = (sum(a for a, _ in p.values()), sum(b for _, b in p.values()))
    unknown = ("the study's cadence, fixed angle and subjects' technique are not known (the model's are assumed)")
    if key.endswith("velocity_deg_s"):
        ex = (free["ankle_excursion_deg"], end["ankle_excursion_deg"])
        return (f"the ankle's excursion goes {ex[0]:.0f} -> {ex[1]:.0f} deg, so the leg becomes a one-degree-of-"
                f"freedom linkage whose joint velocities the crank sets (knee range {free['knee_excursion_deg']:.0f} -> "
                f"{end['knee_excursion_deg']:.0f} deg, hip range {free['hip_excursion_deg']:.0f} -> "
                f"{end['hip_excursion_deg']:.0f} deg)"
                + ("; with the foot held the knee sweeps a larger range in the same time"
                   if end["knee_excursion_deg"] > free["knee_excursion_deg"] else "") + f"; {unknown}")
    up = [j for j in ("hip", "knee") if p[j][1] > p[j][0]]
    return ("mean positive power, both legs: " + ", ".join(f"{j} {a:.0f} -> {b:.0f} W" for j, (a, b) in p.items())
            + f" (total {tot[0]:.0f} -> {tot[1]:.0f} W); the ankle's positive work is taken over by "
            + (" and ".join(up) if up else "neither hip nor knee") + f"; {unknown}; why the optimum shares it this "
            "way is not established")


def values(data: StudyData) -> list[C.ModelValue]:
    pw = float(data.study.param("jje_power_W"))
    free = point_at(data, pw, "free")
    fx = point_at(data, pw, "fixed")
    q0 = f"{fx.sol.spec.fixed_ankle_deg:g} deg" if fx is not None else "?"
    where = f"{pw:g} W" + (f", {free.sol.spec.cadence_rpm:g} rpm" if free is not None else "")
    ends = [(r, lab) for r, lab in ((fx, f"fixed ankle ({q0}) vs free, {where}"),
                                    (stiffest(data, pw), f"stiffest brace vs free, {where}"))]
    out = []
    for r, lab in ends:
        if r is not None and r.labels.get("condition") == "braced":
            lab = f"brace {sweep_x(r.labels['condition_label'])[1]:g} N m/rad vs free, {where}"
        for q, key in JJE:
            if free is None or r is None:
                out.append(C.ModelValue(data.name, q, lab, None, missing="point not solved"))
                continue
            a, b = metrics_of(free)[key], metrics_of(r)[key]
            out.append(C.ModelValue(data.name, q, lab, C.relative_change_pct(a, b), detail=f"{key}: {a:.1f} -> {b:.1f}",
                                    why=_jje_why(metrics_of(free), metrics_of(r), key),
                                    headline=r.labels.get("condition") == "fixed"))
    return out


def stiffest(data: StudyData, power: float) -> Record | None:
    pts = [r for x, r, _ in curve(data, "braced", power) if r is not None]
    return pts[-1] if pts else None


# ----------------------------------------------------------------------------------------------------------
# Does constraining the ankle favor the hip and disfavor the knee?
# ----------------------------------------------------------------------------------------------------------

def constrains(free: Record, r: Record, device_tol_Nm: float) -> bool:
    """The device acts: it exerts more than device_tol_Nm at some node (the fixed ankle always). Not the ankle
    motion: the free problem has near-equal optima with different ankle motions (spread over starts)."""
    return r.sol.spec.condition == "fixed" or metrics_of(r)["device_peak_moment_Nm"] > device_tol_Nm


def not_passive(r: Record, passive_tol: float) -> bool:
    """The device's net work over the cycle exceeds passive_tol of the total positive joint work: a stop or a
    spring cannot do that; on a 40-node mesh a 1e5 N m/rad stop can (a discretization artifact, gone at 80)."""
    return abs(metrics_of(r)["device_net_J"]) > passive_tol * r.summary.total_positive_joint_work_J


def point_name(r: Record) -> str:
    sx = sweep_x(str(r.labels.get("condition_label", "")))
    what = "fixed" if sx is None else (f"width {sx[1]:g} deg" if sx[0] == "range_limited" else f"k {sx[1]:g} N m/rad")
    return f"{what} at {float(r.labels['power_W']):g} W"


def exceptions(data: StudyData) -> dict[str, list[str]]:
    """The constraining points where the hip share does not rise / the knee share falls (beyond the sign
    tolerance), the stops that yield, and the devices that are not passive on the mesh."""
    sign_pp, dev, passive, over = (tolerance(data, k) for k in ("sign_pp", "device_Nm", "passive_fraction",
                                                           "override_deg"))
    out = {"hip_not_up": [], "knee_down": [], "overridden": [], "not_passive": []}
    for pw in powers(data):
        free = point_at(data, pw, "free")
        if free is None:
            continue
        f = metrics_of(free)
        pts = [r for k in SWEEPS for _, r, _ in curve(data, k, pw) if r is not None] + [
            r for r in (point_at(data, pw, "fixed"),) if r is not None]
        for r in pts:
            if not constrains(free, r, dev):
                continue
            m = metrics_of(r)
            if m["hip_share_pct"] - f["hip_share_pct"] <= sign_pp:
                out["hip_not_up"].append(point_name(r))
            if m["knee_share_pct"] - f["knee_share_pct"] < -sign_pp:
                out["knee_down"].append(point_name(r))
            if not_passive(r, passive):
                out["not_passive"].append(f"{point_name(r)} ({m['device_net_J']:+.2f} J net per cycle, "
                                          f"{100 * m['device_net_J'] / r.summary.total_positive_joint_work_J:.1f} % "
                                          "of the positive joint work)")
            if m["outside_range_deg"] > over:
                out["overridden"].append(f"{point_name(r)} (ankle {m['outside_range_deg']:.1f} deg outside the range, "
                                         f"peak stop moment {m['device_peak_moment_Nm']:.0f} N m)")
    return out


def direction_table(data: StudyData) -> tuple[list[str], list[list[str]], dict]:
    """Per sweep and power: the range of the hip and knee changes vs free (shares, pp; mean positive power, %)
    over the constrained points (fixed included), and at how many points the hip gains and the knee loses."""
    head = ["sweep", "power", "points", "hip share change (pp)", "knee share change (pp)", "hip power change (%)",
            "knee power change (%)", "hip/knee power ratio change (%)", "hip share up", "knee share down", "hip power up",
            "knee power down", "hip/knee ratio up"]
    rows, tally = [], {"hip_share_up": [0, 0], "knee_share_down": [0, 0], "hip_power_up": [0, 0],
                       "knee_power_down": [0, 0], "ratio_up": [0, 0]}
    MAIN, MESH = main_experiment(data), mesh_experiment(data)
    nodes = {e.name: e.solver.nodes for e in data.experiments}
    sign_pp, sign_pct, dev = (tolerance(data, k) for k in ("sign_pp", "sign_pct", "device_Nm"))
    for exp, kind in [(MAIN, k) for k in SWEEPS] + [(MESH, "range_limited")]:
        for pw in powers(data):
            free = point_at(data, pw, "free", exp)
            if free is None:
                continue
            pts = [r for _, r, _ in curve(data, kind, pw, exp) if r is not None]
            fixed = point_at(data, pw, "fixed", exp)
            pts = pts + ([fixed] if fixed is not None else [])
            f = metrics_of(free)
            ch = [{"hs": metrics_of(r)["hip_share_pct"] - f["hip_share_pct"],
                   "ks": metrics_of(r)["knee_share_pct"] - f["knee_share_pct"],
                   "hp": C.relative_change_pct(f["hip_power_W"], metrics_of(r)["hip_power_W"]),
                   "kp": C.relative_change_pct(f["knee_power_W"], metrics_of(r)["knee_power_W"]),
                   "rk": C.relative_change_pct(f["hip_power_W"] / f["knee_power_W"],
                                               metrics_of(r)["hip_power_W"] / metrics_of(r)["knee_power_W"])} for r in pts]
            # points that constrain at all: the ankle motion differs from free by more than 0.5 deg somewhere
            act = [c for c, r in zip(ch, pts) if constrains(free, r, dev)]
            if not ch:
                continue
            n = len(act)
            counts = {"hip_share_up": sum(c["hs"] > sign_pp for c in act),
                      "knee_share_down": sum(c["ks"] < -sign_pp for c in act),
                      "hip_power_up": sum(c["hp"] > sign_pct for c in act),
                      "knee_power_down": sum(c["kp"] < -sign_pct for c in act),
                      "ratio_up": sum(c["rk"] > sign_pct for c in act)}
            for k, v in counts.items():
                if exp == MAIN:  # the sensitivity is shown, not counted in the verdict
                    tally[k][0] += v
                    tally[k][1] += n

            def rng(key):
                v = [c[key] for c in act]
                return f"{min(v):+.1f} to {max(v):+.1f}" if v else "-"
            rows.append([kind if exp == MAIN else f"SENSITIVITY {kind}, {nodes.get(exp, '?')} nodes", f"{pw:g} W", str(n), rng("hs"), rng("ks"), rng("hp"), rng("kp"), rng("rk"),
                         *(f"{counts[k]}/{n}" for k in ("hip_share_up", "knee_share_down", "hip_power_up",
                                                         "knee_power_down", "ratio_up"))])
    return head, rows, tally


# ----------------------------------------------------------------------------------------------------------
# Claim D in context
# ----------------------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------


