"""The classic study's page: the point table, the notes (negative joint work, how far the model goes, the force-set
sensitivity) and the joint-action figure, from the stored files only (the quantities are toolkit.study.metrics.classic)."""
from __future__ import annotations

import math
from pathlib import Path

from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Evaluation, StudyData, _f, _power_W, _save, action_shares_pct, max_activation, shares_pct
from ..metrics.classic import max_forces, point_where, points, pub_num, values


def evaluate(data: StudyData) -> Evaluation:
    """The values, the point table and the notes (negative joint work, how far the model goes, the force-set
    sensitivity)."""
    from ...model.muscles import MUSCLE_NAMES

    vals = values(data)
    notes: list[str] = []
    pub = C.published_index(data.study.published)
    pts = points(data)
    e, es, elmer = pts.ericson, pts.sensitivity, pts.elmer
    cad = f", {elmer[0].labels['cadence_rpm']:g} rpm" if elmer else ""
    header = ["study", "force set", "power W", "cadence rpm", "hip ext %", "hip flex %", "knee ext %", "knee flex %",
              "ankle ext %", "ankle flex %", "hip %", "knee %", "ankle %", "pos. joint work / crank work",
              "max activation", "status"]
    rows = []
    table_pts = [("Ericson", e)] + [("Elmer", r) for r in elmer] + [("Ericson (SENSITIVITY)", es)]
    for tag, r in table_pts:
        if r is None:
            continue
        a, sh = action_shares_pct(r), shares_pct(r)
        rows.append([tag, r.sol.setup.get("max_force_set", "?"), f"{r.labels['power_W']:g}",
                     f"{r.labels['cadence_rpm']:g}", _f(a["hip_extension"]), _f(a["hip_flexion"]),
                     _f(a["knee_extension"]), _f(a["knee_flexion"]), _f(a["ankle_extension"]), _f(a["ankle_flexion"]),
                     _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                     _f(r.summary.total_positive_joint_work_J / r.summary.crank_work_J, ".2f"),
                     _f(max_activation(r), ".2f"), "solved"])
    for fm in data.failures:
        rows.append([fm.experiment, "", str(fm.labels.get("power_W", "")), str(fm.labels.get("cadence_rpm", "")),
                     "", "", "", "", "", "", "", "", "", "", "", f"{fm.status}: {fm.message}"])
    if e is not None:
        ratio = e.summary.total_positive_joint_work_J / e.summary.crank_work_J
        neg = {j: -_power_W(e, "negative_work_J", j) for j in JOINTS}
        big = max(neg, key=neg.get)
        notes.append(f"At Ericson's {pts.ericson_W:g} W the model's total positive joint work is {ratio:.2f} x the crank "
                     f"work: the joints also do {sum(neg.values()):.0f} W of negative work (both legs; {big} "
                     f"{neg[big]:.0f} W), which makes up the difference. Shares are fractions of the total positive "
                     "work, as in the joint-power studies.")
    solved = [r.labels["power_W"] for r in elmer]
    failed = sorted(float(f.labels.get("power_W", math.nan)) for f in data.failures if f.experiment == pts.elmer_exp)
    if solved:
        sat = [(r.labels["power_W"], [m for m, v in zip(MUSCLE_NAMES, r.sol["activation"].max(axis=1)) if v > 0.99])
               for r in elmer]
        sat = [(P, ms) for P, ms in sat if ms]
        notes.append(
            f"How far the model goes{cad.replace(',', ' at')}: it solved {', '.join(f'{p:g}' for p in solved)} W"
            + (f"; failed at {', '.join(f'{p:g}' for p in failed)} W" if failed else
               f" (every requested power up to {max(solved):g} W, the largest the experiment asks for)")
            + (". Muscles at full activation (> 0.99): " + "; ".join(f"{P:g} W {', '.join(ms)}" for P, ms in sat)
               + f". From {sat[0][0]:g} W on the solutions are at the model's strength limit, not a rider's "
               "preferred pattern" if sat else "")
            + ". Elmer et al. also tested maximal efforts, which an effort-minimizing cost at a prescribed power "
              "does not represent.")
    if e is not None and es is not None:
        fd, fs = max_forces(e), max_forces(es)
        sd, ss = shares_pct(e), shares_pct(es)
        ad, as_ = action_shares_pct(e), action_shares_pct(es)

        def n_agree(sens: bool) -> tuple[int, int]:
            got = [C.evaluate(pub[(v.study, v.quantity)].criterion, v.value, pub[(v.study, v.quantity)].value)[0]
                   for v in vals if v.sensitivity == sens and v.quantity.startswith("ericson_")
                   and (v.study, v.quantity) in pub]
            return sum(1 for g in got if g), sum(1 for g in got if g is not None)

        (n0, t0), (n1, t1) = n_agree(False), n_agree(True)
        pubtxt = ", ".join(f"{nm} {pub_num(pub, q):g}" for nm, q in (
            ("hip", "ericson_hip_share_pct"), ("knee", "ericson_knee_share_pct"), ("ankle", "ericson_ankle_share_pct"),
            ("hip extension", "ericson_hip_extension_share_pct"),
            ("knee extension", "ericson_knee_extension_share_pct")) if pub_num(pub, q) is not None)
        set_d, set_s = e.sol.setup.get("max_force_set", "?"), es.sol.setup.get("max_force_set", "?")
        desc = data.study.param("force_set_descriptions")
        forces = ", ".join(f"{m} {fd[m]:.0f} vs {fs[m]:.0f}" for m in MUSCLE_NAMES if m in fd and m in fs)
        notes.append(
            f"Force-set sensitivity (rows labelled SENSITIVITY; `{pts.sens_exp}.toml`, Ericson's point only, "
            f"otherwise identical to the default). The default force set `{set_d}`: {desc.get(set_d, 'not described')}. "
            f"The SENSITIVITY set `{set_s}`: {desc.get(set_s, 'not described')}. Max isometric forces, default vs "
            f"SENSITIVITY (N): {forces}. With the SENSITIVITY set, at {point_where(es)}: hip {ss['hip']:.1f} %, "
            f"knee {ss['knee']:.1f} %, ankle {ss['ankle']:.1f} %, hip extension {as_['hip_extension']:.1f} %, knee "
            f"extension {as_['knee_extension']:.1f} % (default: {sd['hip']:.1f}, {sd['knee']:.1f}, {sd['ankle']:.1f}, "
            f"{ad['hip_extension']:.1f}, {ad['knee_extension']:.1f} %; Ericson: {pubtxt} %). By the same criteria "
            f"the SENSITIVITY set agrees on {n1} of {t1} Ericson rows, the default on {n0} of {t0}. The default was "
            "chosen before any comparison with studies and is not changed to match a study: the sensitivity rows "
            "are reported beside the default rows, never instead of them, and are not counted in the tallies.")
    return Evaluation(vals, header, rows, notes)


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    """Joint-action shares: the Elmer sweep, the Ericson point (default and SENSITIVITY) and Ericson's values."""
    from ...plots.series import Line, Panel, series_figure

    pts = points(data)
    elmer, e, es = pts.elmer, pts.ericson, pts.sensitivity
    x0 = pts.ericson_W
    x = [r.labels["power_W"] for r in elmer]
    pub = C.published_index(data.study.published)
    lines = []
    for i, k in enumerate(pts.actions):
        c = f"C{i}"
        lines.append(Line(k.replace("_", " "), x, [action_shares_pct(r)[k] for r in elmer], "-o", c, size=4))
        p = pub.get((data.name, f"ericson_{k}_share_pct"))
        if p is not None and p.numeric is not None:
            lines.append(Line("_published", [x0], [p.numeric], "s", c, open=True, size=9))
        if e is not None:
            lines.append(Line("_model", [x0], [action_shares_pct(e)[k]], "o", c, size=6))
        if es is not None:
            lines.append(Line("_sensitivity", [x0 + 25.0], [action_shares_pct(es)[k]], "^", c, open=True, size=7))
    where = point_where(e or es) if (e or es) is not None else "Ericson's point"
    sweep = f"{elmer[0].labels['cadence_rpm']:g} rpm " if elmer else ""
    lo, hi = pts.elmer_range_W
    fig = series_figure([Panel(lines, "work rate, both legs (W)", "share of positive joint work (%)", band=(lo, hi))],
                        f"Joint actions: model at {where} (dots; open triangles just right of it: SENSITIVITY force "
                        f"set)\nvs Ericson 1986 (open squares), and the model's {sweep}sweep (lines; grey: Elmer et "
                        f"al. 2011 range {lo:g}-{hi:g} W)", size=(8, 4.6))
    return [_save(fig, sdir / "joint_actions.png")]
