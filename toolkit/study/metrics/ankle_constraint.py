"""Evaluation, tables and figures of the ankle-constraint study (its solve loop: toolkit/study/solvers/ankle_constraint.py), from the stored
files only.

Published comparisons read off the curve's immobilized end: the Japanese 250 W study (fixed vs free ankle: hip
power rose slightly, knee power fell, hip angular velocity rose, knee extension velocity fell; none significant),
from the `fixed` point and from the stiffest brace. Claim D (recumbent, ankle immobilized) has its own study
(results/recumbent/); this page only puts the fixed-ankle point in context, from that study's stored file when it
is there. The page then asks whether "constraining the ankle favors the hip and disfavors the knee" holds at every
point of both sweeps and both work rates.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence


import numpy as np

from ...analysis.engagement import activation_integral_s, fibre_positive_work_J
from ...analysis.power import cycle_summary, external_moment_work
from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Evaluation, Record, StudyData, _f, _save
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


def _metrics(r: Record, muscles: Sequence[str] = ("GMAX", "VAS")) -> dict[str, float]:
    if not hasattr(r, "_ankle_metrics"):
        r._ankle_metrics = point_metrics(r.sol, muscles)  # type: ignore[attr-defined]
    return r._ankle_metrics  # type: ignore[attr-defined]


def _main(data: StudyData) -> str:
    return data.study.experiment_name("main")


def _mesh(data: StudyData) -> str:
    return data.study.experiment_name("mesh")


def _tol(data: StudyData, key: str) -> float:
    return float(data.study.param("tolerances")[key])


def powers(data: StudyData) -> list[float]:
    return sorted({float(x.labels.get("power_W")) for x in [*data.records, *data.failures]})


def _at(data: StudyData, power: float, label: str, exp: str | None = None):
    return data.one(exp or _main(data), power_W=power, condition_label=label)


def curve(data: StudyData, kind: str, power: float, exp: str | None = None
          ) -> list[tuple[float, Record | None, object | None]]:
    """(x, record or None, failure or None) of one sweep at one power, free -> fixed order."""
    exp = exp or _main(data)
    out = []
    for x in [*data.records, *data.failures]:
        if x.experiment != exp or not math.isclose(float(x.labels.get("power_W")), power):
            continue
        sx = sweep_x(str(x.labels.get("condition_label", "")))
        if sx is None or sx[0] != kind:
            continue
        out.append((sx[1], x if isinstance(x, Record) else None, None if isinstance(x, Record) else x))
    return sorted(out, key=lambda t: t[0], reverse=(kind == "range_limited"))


def _spread(data: StudyData, r: Record) -> str:
    s = data.extras.get("multistart", {}).get(f"{r.experiment}/{r.key}")
    if not s:
        return "1 start"
    return f"{max(s['spread_pp'].values()):.2f} pp ({s['near_best']}/{s['starts']})"


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


def _jje_values(data: StudyData) -> list[C.ModelValue]:
    pw = float(data.study.param("jje_power_W"))
    free = _at(data, pw, "free")
    fx = _at(data, pw, "fixed")
    q0 = f"{fx.sol.spec.fixed_ankle_deg:g} deg" if fx is not None else "?"
    where = f"{pw:g} W" + (f", {free.sol.spec.cadence_rpm:g} rpm" if free is not None else "")
    ends = [(r, lab) for r, lab in ((fx, f"fixed ankle ({q0}) vs free, {where}"),
                                    (_stiffest(data, pw), f"stiffest brace vs free, {where}"))]
    out = []
    for r, lab in ends:
        if r is not None and r.labels.get("condition") == "braced":
            lab = f"brace {sweep_x(r.labels['condition_label'])[1]:g} N m/rad vs free, {where}"
        for q, key in JJE:
            if free is None or r is None:
                out.append(C.ModelValue(data.name, q, lab, None, missing="point not solved"))
                continue
            a, b = _metrics(free)[key], _metrics(r)[key]
            out.append(C.ModelValue(data.name, q, lab, C.relative_change_pct(a, b), detail=f"{key}: {a:.1f} -> {b:.1f}",
                                    why=_jje_why(_metrics(free), _metrics(r), key),
                                    headline=r.labels.get("condition") == "fixed"))
    return out


def _stiffest(data: StudyData, power: float) -> Record | None:
    pts = [r for x, r, _ in curve(data, "braced", power) if r is not None]
    return pts[-1] if pts else None


# ----------------------------------------------------------------------------------------------------------
# Does constraining the ankle favor the hip and disfavor the knee?
# ----------------------------------------------------------------------------------------------------------

def constrains(free: Record, r: Record, device_tol_Nm: float) -> bool:
    """The device acts: it exerts more than device_tol_Nm at some node (the fixed ankle always). Not the ankle
    motion: the free problem has near-equal optima with different ankle motions (spread over starts)."""
    return r.sol.spec.condition == "fixed" or _metrics(r)["device_peak_moment_Nm"] > device_tol_Nm


def not_passive(r: Record, passive_tol: float) -> bool:
    """The device's net work over the cycle exceeds passive_tol of the total positive joint work: a stop or a
    spring cannot do that; on a 40-node mesh a 1e5 N m/rad stop can (a discretization artifact, gone at 80)."""
    return abs(_metrics(r)["device_net_J"]) > passive_tol * r.summary.total_positive_joint_work_J


def _name(r: Record) -> str:
    sx = sweep_x(str(r.labels.get("condition_label", "")))
    what = "fixed" if sx is None else (f"width {sx[1]:g} deg" if sx[0] == "range_limited" else f"k {sx[1]:g} N m/rad")
    return f"{what} at {float(r.labels['power_W']):g} W"


def exceptions(data: StudyData) -> dict[str, list[str]]:
    """The constraining points where the hip share does not rise / the knee share falls (beyond the sign
    tolerance), the stops that yield, and the devices that are not passive on the mesh."""
    sign_pp, dev, passive, over = (_tol(data, k) for k in ("sign_pp", "device_Nm", "passive_fraction",
                                                           "override_deg"))
    out = {"hip_not_up": [], "knee_down": [], "overridden": [], "not_passive": []}
    for pw in powers(data):
        free = _at(data, pw, "free")
        if free is None:
            continue
        f = _metrics(free)
        pts = [r for k in SWEEPS for _, r, _ in curve(data, k, pw) if r is not None] + [
            r for r in (_at(data, pw, "fixed"),) if r is not None]
        for r in pts:
            if not constrains(free, r, dev):
                continue
            m = _metrics(r)
            if m["hip_share_pct"] - f["hip_share_pct"] <= sign_pp:
                out["hip_not_up"].append(_name(r))
            if m["knee_share_pct"] - f["knee_share_pct"] < -sign_pp:
                out["knee_down"].append(_name(r))
            if not_passive(r, passive):
                out["not_passive"].append(f"{_name(r)} ({m['device_net_J']:+.2f} J net per cycle, "
                                          f"{100 * m['device_net_J'] / r.summary.total_positive_joint_work_J:.1f} % "
                                          "of the positive joint work)")
            if m["outside_range_deg"] > over:
                out["overridden"].append(f"{_name(r)} (ankle {m['outside_range_deg']:.1f} deg outside the range, "
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
    MAIN, MESH = _main(data), _mesh(data)
    nodes = {e.name: e.solver.nodes for e in data.experiments}
    sign_pp, sign_pct, dev = (_tol(data, k) for k in ("sign_pp", "sign_pct", "device_Nm"))
    for exp, kind in [(MAIN, k) for k in SWEEPS] + [(MESH, "range_limited")]:
        for pw in powers(data):
            free = _at(data, pw, "free", exp)
            if free is None:
                continue
            pts = [r for _, r, _ in curve(data, kind, pw, exp) if r is not None]
            fixed = _at(data, pw, "fixed", exp)
            pts = pts + ([fixed] if fixed is not None else [])
            f = _metrics(free)
            ch = [{"hs": _metrics(r)["hip_share_pct"] - f["hip_share_pct"],
                   "ks": _metrics(r)["knee_share_pct"] - f["knee_share_pct"],
                   "hp": C.relative_change_pct(f["hip_power_W"], _metrics(r)["hip_power_W"]),
                   "kp": C.relative_change_pct(f["knee_power_W"], _metrics(r)["knee_power_W"]),
                   "rk": C.relative_change_pct(f["hip_power_W"] / f["knee_power_W"],
                                               _metrics(r)["hip_power_W"] / _metrics(r)["knee_power_W"])} for r in pts]
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


def _verdict(data: StudyData, tally: dict, exc: dict) -> str:
    sign_pp, sign_pct, dev = (_tol(data, k) for k in ("sign_pp", "sign_pct", "device_Nm"))

    def word(k):
        a, n = tally[k]
        return "at every constraining point" if n and a == n else (f"at {a} of {n} constraining points" if n else "-")
    h, k = tally["hip_share_up"], tally["knee_share_down"]
    text = (f"The hip share rises {word('hip_share_up')}, the knee share falls {word('knee_share_down')}; hip "
            f"power (mean positive, W) rises {word('hip_power_up')}, knee power falls {word('knee_power_down')}; "
            f"the hip-to-knee power ratio rises {word('ratio_up')} "
            f"(changes vs the free ankle at the same power beyond {sign_pp:g} pp / {sign_pct:g} %; points "
            f"whose device exerts no more than {dev:g} N m at any node, i.e. that do not constrain the ankle, "
            "are not counted). "
            + (f"The hip share does not rise at: {'; '.join(exc['hip_not_up'])}. " if exc["hip_not_up"] else "")
            + (f"The knee share falls at: {'; '.join(exc['knee_down'])}. " if exc["knee_down"] else ""))
    hip_all, knee_all = h[1] > 0 and h[0] == h[1], k[1] > 0 and k[0] == k[1]
    text += ("**Verdict:** in the model, 'constraining the ankle favors the hip and disfavors the knee' "
             + ("holds along the whole curve, at both work rates and for both constraint kinds." if hip_all and knee_all
                else "does not hold along the whole curve. Its first half (the hip's share rises) holds "
                + ("everywhere" if hip_all else f"at {h[0]} of {h[1]} points") + "; its second half (the knee's share "
                "falls) holds " + ("everywhere" if knee_all else f"at {k[0]} of {k[1]} points")
                + ": the ankle's lost work goes to the hip and, at most points, to the knee as well (knee power "
                f"falls at only {tally['knee_power_down'][0]} of {tally['knee_power_down'][1]} points)."))
    flagged = {e.split(" (")[0] for e in exc["overridden"] + exc["not_passive"]}
    if exc["hip_not_up"] and all(n in flagged for n in exc["hip_not_up"]):
        text += (f" The hip's exception{'s' if len(exc['hip_not_up']) > 1 else ''} ({'; '.join(exc['hip_not_up'])}) "
                 f"{'are' if len(exc['hip_not_up']) > 1 else 'is'} where the stops yield or do net work on the mesh "
                 "(see the notes): a range the leg can barely reach, held by the stops rather than the muscles.")
    return text


# ----------------------------------------------------------------------------------------------------------
# Claim D in context
# ----------------------------------------------------------------------------------------------------------

def _claim_d_context(data: StudyData) -> list[str]:
    ctx = data.study.param("context_study")
    L = ["## Claim D (recumbent, ankle immobilized) in context", "",
         f"Claim D has its own study: [../{ctx}/comparison.md](../{ctx}/comparison.md) (solved there, not "
         "here). What this curve adds: how much of a fixed-ankle hip/knee power ratio is due to the immobilized "
         "ankle. Along this study's curves (upright default fit, 90 rpm) the ratio of mean positive hip to knee "
         "power goes from free to fixed as:", ""]
    for pw in powers(data):
        free, fixed = _at(data, pw, "free"), _at(data, pw, "fixed")
        if free is None or fixed is None:
            continue
        a = _metrics(free)["hip_power_W"] / _metrics(free)["knee_power_W"]
        b = _metrics(fixed)["hip_power_W"] / _metrics(fixed)["knee_power_W"]
        L.append(f"- {pw:g} W: {a:.2f} (free) -> {b:.2f} (fixed), change {b - a:+.2f}.")
    from ..registry import studies

    other = studies().get(ctx)
    files = [Path(data.out) / ctx / f"{Path(v.file).stem}.h5" for v in other.variants] if other and data.out else []
    files = [f for f in files if f.exists()]
    pub = next((p for p in (other.published if other else ()) if p.numeric is not None), None)
    if files:
        from ...io.hdf5 import read_points

        L.append("")
        L.append(f"The {ctx} study's stored fixed-ankle points (hip/knee mean positive power ratio):")
        L.append("")
        stored = {k: sp for f in files for k, sp in read_points(f).items()}
        for key, sp in sorted(stored.items(), key=lambda kv: (kv[1].labels.get("fit", ""),
                                                              float(kv[1].labels.get("power_W", 0)))):
            cs = cycle_summary(sp.solution)
            ratio = cs.positive_work_J["hip"] / cs.positive_work_J["knee"]
            L.append(f"- fit {sp.labels.get('fit')}, {float(sp.labels.get('power_W')):g} W, "
                     f"{float(sp.labels.get('cadence_rpm')):g} rpm: {ratio:.2f}")
        L.append("")
        ch = [_metrics(fx)["hip_power_W"] / _metrics(fx)["knee_power_W"]
              - _metrics(fr)["hip_power_W"] / _metrics(fr)["knee_power_W"]
              for fr, fx in ((_at(data, pw, "free"), _at(data, pw, "fixed")) for pw in powers(data))
              if fr is not None and fx is not None]
        if ch:
            crit = C.parse_criterion(pub.criterion) if pub is not None else None
            band = f" ({crit.args[0]:g}-{crit.args[1]:g})" if crit is not None and crit.kind == "ratio" else ""
            L.append((f"The published value is about {pub.numeric:g}{band}. " if pub is not None else "")
                     + "In this model, immobilizing the ankle "
                     + ("raises" if min(ch) > 0 else "lowers" if max(ch) < 0 else "moves")
                     + f" the hip/knee ratio ({min(ch):+.2f} to {max(ch):+.2f} on the upright fit at "
                     f"{', '.join(f'{p:g}' for p in powers(data))} W): the immobilized ankle itself pushes a "
                     "fixed-ankle ratio " + ("up" if min(ch) > 0 else "down" if max(ch) < 0 else "either way")
                     + ", so a fixed-ankle ratio above 1 is partly the fixation's doing. Whether the same shift "
                     f"holds on the {ctx} geometry is not established (not solved here); the claim's "
                     f"verdict is read on the {ctx} page, not here.")
    else:
        L.append("")
        L.append(f"(The {ctx} study's file is not in this output directory; run `python -m toolkit reproduce "
                 f"{ctx}`.)")
    L.append("")
    return L


# ----------------------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------------------

def _row(data: StudyData, pw: float, cond: str, x: str, r: Record | None, fail) -> list[str]:
    if r is None:
        msg = f"**{fail.status}**: {fail.message}" if fail is not None else "not solved"
        return [f"{pw:g} W", cond, x, msg] + [""] * (9 + 2 * len(data.study.param("muscles")))
    mus = data.study.param("muscles")
    m = _metrics(r, mus)
    spec = r.sol.spec
    rng = (f"{spec.ankle_range_deg[0]:.1f} to {spec.ankle_range_deg[1]:.1f}" if spec.condition == "range_limited"
           else "-")
    return [f"{pw:g} W", cond, x, rng,
            " / ".join(_f(m[f"{j}_share_pct"]) for j in JOINTS),
            " / ".join(_f(m[f"{j}_power_W"], ".0f") for j in JOINTS),
            *[x for mu in mus for x in (_f(m[f"{mu}_activation_integral_s"], ".4f"),
                                        _f(m[f"{mu}_fibre_work_J"], ".1f"))],
            " / ".join(_f(m[f"{j}_excursion_deg"]) for j in JOINTS),
            _f(m["ankle_mean_deg"]), f"{m['device_positive_J']:.2f} / {m['device_negative_J']:.2f} / {m['device_net_J']:+.2f}",
            _f(m["device_peak_moment_Nm"], ".0f"),
            _f(m["cost"], ".5g"), _spread(data, r), r.sol.stats.status]


def evaluate(data: StudyData) -> Evaluation:
    """The Japanese 250 W rows from the fixed end and the stiffest brace, the direction table over both sweeps,
    the exceptions, claim D in context, and the point table."""
    MAIN, MESH = _main(data), _mesh(data)
    nodes = {e.name: e.solver.nodes for e in data.experiments}
    over, passive, jje_W = _tol(data, "override_deg"), _tol(data, "passive_fraction"), float(data.study.param("jje_power_W"))
    values = _jje_values(data)
    mus = [x for m in data.study.param("muscles") for x in (f"{m} act. integral (s)", f"{m} fibre work (J)")]
    head = ["power", "condition", "x", "ankle range (deg)", "shares hip/knee/ankle (%)", "power hip/knee/ankle (W)",
            *mus, "excursion hip/knee/ankle (deg)", "mean ankle (deg)", "device work +/-/net (J)", "device peak moment (N m)",
            "cost",
            "spread over starts (max share, near-best/starts)", "status"]
    rows = []
    for pw in powers(data):
        for lab in ("free",):
            r = _at(data, pw, lab)
            rows.append(_row(data, pw, "free", "-", r, None))
        for kind in SWEEPS:
            for x, r, fl in curve(data, kind, pw):
                rows.append(_row(data, pw, kind, f"{x:g}", r, fl))
        rows.append(_row(data, pw, "fixed", "-", _at(data, pw, "fixed"),
                         next(iter(data.failed(MAIN, power_W=pw, condition_label="fixed")), None)))
    for pw in powers(data):
        lab = f"SENSITIVITY {nodes.get(MESH, '?')} nodes: "
        for c in ("free",):
            if _at(data, pw, c, MESH) is not None:
                rows.append(_row(data, pw, lab + c, "-", _at(data, pw, c, MESH), None))
        for x, r, fl in curve(data, "range_limited", pw, MESH):
            rows.append(_row(data, pw, lab + "range_limited", f"{x:g}", r, fl))
        if _at(data, pw, "fixed", MESH) is not None:
            rows.append(_row(data, pw, lab + "fixed", "-", _at(data, pw, "fixed", MESH), None))
    dh, drows, tally = direction_table(data)
    exc = exceptions(data)
    infeasible = [f for f in data.failures if f.status == "Infeasible_Request" and f.experiment == MAIN]
    ref = next((r for r in data.find(MAIN)), None)
    stop = f"{ref.sol.spec.ankle_stop_stiffness_Nm_per_rad:g}" if ref is not None else "?"
    bdc = ref.sol.setup["fit"].get("ankle_at_bdc_deg") if ref is not None else None
    cad = f"{ref.sol.spec.cadence_rpm:g} rpm" if ref is not None else "the experiment file's cadence"
    notes = [
        "Range-limited points: the range is a width centred on the free ankle's mean angle at the same power "
        f"(orthosis stops of {stop} N m/rad outside it). Braced points: spring about the fixed condition's angle ("
        "the experiment file's brace_neutral_deg = fixed_ankle_deg), no damping. x in the table: width (deg) or stiffness (N m/rad).",
        f"Infeasible points ({len(infeasible)}): reported with the feasibility message, never as results"
        + (": " + "; ".join(f"{f.labels.get('condition_label')} at {float(f.labels.get('power_W')):g} W" for f in
                            infeasible) if infeasible else "") + ". " + ((
            "A zero or very narrow range around the free mean (" + ", ".join(
                f"{_metrics(r)['ankle_mean_deg']:.1f} deg at {pw:g} W" for pw in powers(data)
                for r in (_at(data, pw, "free"),) if r is not None)
            + ") may not reach the bottom of the cycle with the default fit (its saddle height assumes the ankle at "
            f"{bdc if bdc is not None else '?'} deg at BDC); where it does not, the range chain ends at its narrowest feasible width, not at "
            "`fixed`; the brace chain meets `fixed`.") if infeasible else ""),
        "Chains are solved free -> fixed, each point warm-started from its neighbour; the first, middle and last "
        "point of each chain, free and fixed also from cold starts (stiff devices reached by continuation in the "
        "stiffness from each start). The spread column is the largest max - min of a share over the starts within "
        "0.5 % of the best cost (extras.json has every joint and the GMAX work spread).",
        ("Range-limited points where the stops yield (the ankle leaves the range by more than "
         f"{over:g} deg; the range is then at the edge of what the leg can reach, and the stop moment, not "
         "the muscles, holds the leg on the pedal): " + ("; ".join(exc["overridden"]) if exc["overridden"] else "none")
         + ". They are results of the model as posed (1e5 N m/rad stops), reported and counted, but an orthosis "
         "would not be set there."),
        (f"Stops that are not passive on the mesh (net device work above {100 * passive:g} % of the positive "
         f"joint work; a stop or spring cannot do net work, a {stop} N m/rad stop on the {nodes.get(MAIN, '?')}-node "
         "mesh can, see the mesh SENSITIVITY below): "
         + ("; ".join(exc["not_passive"]) if exc["not_passive"] else "none") + ". Read the range-limited curve "
         "with that in mind; the brace (a soft spring) is passive within the tolerance at every point."),
        "Device work: `external_moment_work`, J per cycle, one leg (positive / negative / net); a spring or a stop "
        "stores and returns energy, so its net work is ~0; the fixed ankle's orthosis does no work (the ankle "
        "does not move).",
        f"Japanese {jje_W:g} W study: its cadence, fixed angle and subjects are not given in "
        f"shared/reference/studies.md; the model uses {cad} and the fixed angle of the experiment file. The study's changes were not significant; the rows compare the "
        "direction (criteria fixed in study.toml before comparing, margin 1 %).",
    ]
    fr, fx = _at(data, jje_W, "free"), _at(data, jje_W, "fixed")
    if fr is not None and fx is not None:
        hp = C.relative_change_pct(_metrics(fr)["hip_power_W"], _metrics(fx)["hip_power_W"])
        notes.append(f"Magnitude (Japanese study): the model's hip power changes by {hp:+.0f} % from free to fixed at "
                     f"{jje_W:g} W, where the study saw a slight, non-significant rise; the row compares the "
                     "direction only, as fixed in study.toml, and the magnitude is shown here rather than judged.")
    mesh = [r for pw in powers(data) for _, r, _ in curve(data, "range_limited", pw, MESH) if r is not None]
    if mesh:
        worst = max(mesh, key=lambda r: abs(_metrics(r)["device_net_J"]) / r.summary.total_positive_joint_work_J)
        pairs = [(r, _at(data, float(r.labels["power_W"]), r.labels["condition_label"])) for r in mesh]
        pairs = [(a, b) for a, b in pairs if b is not None]
        flagged = [(a, b) for a, b in pairs if not_passive(a, passive) or not_passive(b, passive)]
        same = "; ".join(f"{_name(a)}: {_metrics(b)['device_net_J']:+.2f} J at {nodes.get(MAIN, '?')} nodes, "
                         f"{_metrics(a)['device_net_J']:+.2f} J at {nodes.get(MESH, '?')}" for a, b in flagged)
        notes.append(f"SENSITIVITY ({nodes.get(MESH, '?')} nodes, `{MESH}.toml`, one cold start plus the chain's warm "
                     f"starts): of the {len(pairs)} points solved on both meshes, "
                     + (f"those not passive on at least one mesh (net stop work per cycle): {same}. " if flagged else
                        "none is non-passive on either mesh. ")
                     + f"The largest net stop work at {nodes.get(MESH, '?')} nodes is {_metrics(worst)['device_net_J']:+.2f} J per cycle "
                     f"({100 * _metrics(worst)['device_net_J'] / worst.summary.total_positive_joint_work_J:.1f} % of "
                     f"the positive joint work, {_name(worst)}); its rows are in the direction table and the model "
                     "points, not in the verdict's counts.")
    for pw in powers(data):
        fr, fx = _at(data, pw, "free"), _at(data, pw, "fixed")
        if fr is not None and fx is not None and fx.sol.stats.objective < fr.sol.stats.objective:
            notes.append(f"At {pw:g} W the fixed ankle's cost ({fx.sol.stats.objective:.4g}) is below the free ankle's "
                         f"({fr.sol.stats.objective:.4g}): the orthosis carries the ankle moment (peak "
                         f"{_metrics(fx)['device_peak_moment_Nm']:.0f} N m), which the free ankle's muscles must "
                         "produce; immobilizing is not a pure restriction of the free problem.")
    extra = ["## Does constraining the ankle favor the hip and disfavor the knee?", "",
             "Changes vs the free ankle at the same work rate, over every point that constrains the ankle (both "
             "sweeps, `fixed` included in each).", "", _md(dh, drows), _verdict(data, tally, exc), "",
             "Figures: [range_sweep.png](range_sweep.png) (x = range width), [brace_sweep.png](brace_sweep.png) "
             "(x = log stiffness); `free` and `fixed` are drawn as the end points on the same axes.", ""]
    extra += _claim_d_context(data)
    return Evaluation(values, head, rows, notes, "\n".join(extra) + "\n")


def _md(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "(none)\n"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------

def _panels(muscles: Sequence[str]) -> tuple:
    return (("joint shares (% of positive joint work)", [(f"{j}_share_pct", j) for j in JOINTS]),
            ("activation integral (s)", [(f"{m}_activation_integral_s", m) for m in muscles]),
            ("fibre positive work (J, one leg)", [(f"{m}_fibre_work_J", m) for m in muscles]),
            ("joint-angle excursion (deg)", [(f"{j}_excursion_deg", j) for j in JOINTS]),
            ("device work (J per cycle, one leg)", [("device_positive_J", "positive"), ("device_negative_J",
                                                                                         "negative")]))


def _xpos(kind: str, x: float) -> float:
    if kind == "range_limited":
        return x
    return math.log10(x) if x > 0 else 0.0


def _ends(kind: str) -> tuple[float, float]:
    """x positions of the free and fixed end points."""
    return (72.0, -8.0) if kind == "range_limited" else (-0.8, 5.8)


def sweep_figure(data: StudyData, kind: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.2), layout="constrained")
    panels = _panels(data.study.param("muscles"))
    axes = fig.subplots(1, len(panels))
    xf, xx = _ends(kind)
    mesh_nodes = next((e.solver.nodes for e in data.experiments if e.name == _mesh(data)), "?")
    for pi, (pw, ls) in enumerate(zip(powers(data), ("-", "--", ":"))):
        pts = curve(data, kind, pw)
        free, fixed = _at(data, pw, "free"), _at(data, pw, "fixed")
        for ax, (title, series) in zip(axes, panels):
            for si, (key, name) in enumerate(series):
                c = f"C{si}"
                xs = [_xpos(kind, x) for x, r, _ in pts if r is not None]
                ys = [_metrics(r)[key] for x, r, _ in pts if r is not None]
                ax.plot(xs, ys, ls, marker="o", ms=3, color=c, label=f"{name}, {pw:g} W")
                for end, xe, mk in ((free, xf, "s"), (fixed, xx, "D")):
                    if end is not None:
                        ax.plot([xe], [_metrics(end)[key]], mk, color=c, mfc="none" if pi else c, ms=6)
                if kind == "range_limited":
                    mp = [(x, r) for x, r, _ in curve(data, kind, pw, _mesh(data)) if r is not None]
                    if mp:
                        ax.plot([x for x, _ in mp], [_metrics(r)[key] for _, r in mp], ls, lw=0.8, alpha=0.45,
                                color=c, label=f"{name}, {pw:g} W, {mesh_nodes} nodes")
            bad = [_xpos(kind, x) for x, r, _ in pts if r is None]
            if bad:  # infeasible points: marked on the axis, never plotted as values
                ax.plot(bad, [0.03 + 0.05 * pi] * len(bad), "x", color="tab:red", ms=7, mew=1.5 if pi else 1.0,
                        transform=ax.get_xaxis_transform(), clip_on=False)
            ax.set_title(title, fontsize="small")
            ax.grid(True, alpha=0.3)
    for ax in axes:
        if kind == "range_limited":
            ticks = [xx, 0, 10, 20, 30, 40, 50, 60, xf]
            ax.set_xticks(ticks, ["fixed"] + [f"{t:g}" for t in ticks[1:-1]] + ["free"], fontsize="x-small")
            ax.invert_xaxis()
            ax.set_xlabel(data.study.param("sweep_labels")[kind], fontsize="x-small")
        else:
            ticks = [xf, 0, 1, 2, 3, 4, 5, xx]
            ax.set_xticks(ticks, ["free", "0", "10", "100", "1e3", "1e4", "1e5", "fixed"], fontsize="x-small")
            ax.set_xlabel(data.study.param("sweep_labels")[kind] + ", log scale (0 at 1)", fontsize="x-small")
        ax.legend(fontsize=5, ncol=1, framealpha=0.6)
    pws = powers(data)
    ref = next(iter(data.find(_main(data))), None)
    cad = f", {ref.sol.spec.cadence_rpm:g} rpm" if ref is not None else ""
    styles = " and ".join(f"{st} {p:g} W" for st, p in zip(("solid/filled", "dashed/open", "dotted/open"), pws))
    rows_ = " and ".join(f"{w} {p:g} W" for w, p in zip(("lower", "upper", "top"), pws))
    fig.suptitle(("Range-limited ankle (stops around the free mean angle)" if kind == "range_limited" else
                  "Braced ankle (spring about the fixed angle)") + f"{cad}: {styles}; "
                 f"squares: free, diamonds: fixed; red x near the axis: infeasible ({rows_})"
                 + (f"; faint: SENSITIVITY {mesh_nodes} nodes" if kind == "range_limited" else ""), fontsize="small")
    return fig


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    return [_save(sweep_figure(data, "range_limited"), sdir / "range_sweep.png"),
            _save(sweep_figure(data, "braced"), sdir / "brace_sweep.png")]
