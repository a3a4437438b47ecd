"""The heel-drop study's page: tables, the answer notes, robustness summaries and figures, from the stored files
only (the quantities are toolkit.study.metrics.heel_drop)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...analysis.engagement import muscle_engagement
from ...analysis.limits import limits_summary
from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Evaluation, Record, StudyData, _f, _save, hip_flexion_mean_deg, knee_at_bdc_deg, shares_pct
from ..metrics.heel_drop import (
    DOWNSTROKE,
    Contrast,
    Names,
    contrasts,
    headline,
    missing_text,
    robustness_groups,
    saddle_height,
    sign,
    sign_text,
    values,
)
from ..solvers.starts import NEAR_BEST_PCT


def _robust_summary(groups, N: Names) -> list[list[str]]:
    rows = []
    for name, what, g in groups:
        ok = [c for c in g if c.ok]
        ch = [c.changes() for c in ok]
        hip_t, hip_r = sign_text([x["hip_pp"] for x in ch], N.hip_tol)
        gw_t, gw_r = sign_text([x["gmax_work_pct"] for x in ch], N.work_tol)
        rng = (lambda k, f: f"{min(x[k] for x in ch):{f}} to {max(x[k] for x in ch):{f}}" if ch else "-")
        rows.append([name, what, f"{len(ok)}/{len(g)}", rng("hip_pp", "+.1f"), hip_t, rng("gmax_work_pct", "+.0f"),
                     gw_t, "yes" if hip_r and gw_r else ("hip share only" if hip_r else
                                                          "GMAX work only" if gw_r else "no")])
    return rows


def _conclusions(groups, N: Names) -> list[list[str]]:
    allg = next(g for n, _, g in groups if n == "all of the above")
    ch = [c.changes() for c in allg if c.ok]
    rows = []
    for name, key, tol, unit in (
            ("mean hip flexion over the window (deg; down = the hip opens)", "hip_flex_deg", 1.0, "deg"),
            ("hip share (pp)", "hip_pp", N.hip_tol, "pp"), ("knee share (pp)", "knee_pp", 1.0, "pp"),
            ("ankle share (pp)", "ankle_pp", 1.0, "pp"),
            ("GMAX fibre positive work (%)", "gmax_work_pct", N.work_tol, "%"),
            ("GMAX activation integral (%)", "gmax_act_pct", N.work_tol, "%"),
            ("peak hip extension moment (%)", "hip_ext_moment_pct", N.work_tol, "%")):
        s = [sign(x[key], tol) for x in ch]
        one = len(set(s)) == 1 and s and s[0] != "0"
        rows.append([name, f"+-{tol:g} {unit}", str(s.count("+")), str(s.count("0")), str(s.count("-")),
                     ("yes, " + ("up" if s[0] == "+" else "down")) if one else "no"])
    return rows


def _spread(data: StudyData, r: Record | None) -> dict | None:
    return None if r is None else data.extras.get("multistart", {}).get(f"{r.experiment}/{r.key}")


def _limits_text(r: Record) -> str:
    lim = limits_summary(r.sol)
    parts = [f"{j} {e['limit']} ({e['limit_deg']:g} deg) {e['crank_angle_deg'][0]:.0f}-{e['crank_angle_deg'][1]:.0f}"
             for j, es in lim["joint_range_limits"].items() for e in es]
    bound = [f"{a:.0f}" if round(a) == round(b) else f"{a:.0f}-{b:.0f}" for a, b in lim["heel_drop_bound_active_deg"]]
    if bound:
        parts.append("heel-drop bound at " + ", ".join(bound))
    return "; ".join(parts) or "none"


def _largest_drop(data: StudyData, c: Contrast) -> float | None:
    """The largest feasible drop (deg) of a contrast's file, fit, mode and window (extras.json), if stored."""
    spec = c.rec.sol.spec if c.rec is not None else None
    for x in data.extras.get("largest_feasible_drop", []):
        if (x["experiment"] == c.experiment and x["fit"] == c.fit and x["mode"] == c.mode
                and (spec is None or list(x["window_deg"]) == list(spec.heel_drop_window_deg))):
            return float(x["largest_deg"])
    return None


def _case(data: StudyData, c: Contrast) -> str:
    """A contrast in words, with how close it is to its geometric limit and how the starts agreed."""
    big = _largest_drop(data, c)
    sp = _spread(data, c.rec)
    txt = (f"{c.mode} {c.drop:g} deg ({Names.of(data).short(c.experiment)}, {c.fit}, saddle {saddle_height(c):.3f} m"
           + (f"; largest feasible {big:.1f} deg" if big is not None else "")
           + f"; knee at BDC {knee_at_bdc_deg(c.rec.sol):.1f} deg")
    if sp and sp["near_best"] < sp["successful"]:
        txt += f"; {sp['near_best']} of {sp['successful']} successful starts within {NEAR_BEST_PCT:g} % of the best cost"
    return txt + ")"


def _contrast_rows(groups_cs: dict[str, list[Contrast]], data: StudyData) -> list[list[str]]:
    N = Names.of(data)
    rows = []
    for cs in groups_cs.values():
        for c in cs:
            sad = saddle_height(c)
            head = [N.short(c.experiment), c.fit, "-" if sad is None else f"{sad:.4f}", c.label]
            if not c.ok:
                rows.append(head + ["-"] * 6 + [missing_text(c)])
                continue
            ch = c.changes()
            sp = [_spread(data, r) for r in (c.free, c.rec)]
            spr = max((max(s["spread_pp"].values()) for s in sp if s), default=float("nan"))
            rows.append(head + [f"{ch['hip_pp']:+.1f}", f"{ch['knee_pp']:+.1f}", f"{ch['ankle_pp']:+.1f}",
                                f"{ch['gmax_work_pct']:+.0f}", f"{ch['gmax_act_pct']:+.0f}", _f(spr, ".2f"), ""])
    return rows


def _md(header, rows) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def evaluate(data: StudyData) -> Evaluation:
    """The study's values (metrics.heel_drop.values), robustness tables, the answer notes and the point table."""
    vals = values(data)
    N = Names.of(data)
    cs = contrasts(data)
    free = data.one(N.exp["main"], fit=N.base_fit, condition_label="free")
    if free is None:
        return Evaluation(vals)
    head = headline(data, cs)
    groups = robustness_groups(cs, N)
    notes = _answer_notes(data, cs, head, groups, free, N)
    header = ["file", "fit", "saddle (m)", "condition", "hip %", "knee %", "ankle %", "GMAX int a dt (s)",
              "GMAX mean a", "GMAX +work (J)", "peak hip ext. moment (N m)",
              f"mean hip flexion {DOWNSTROKE[0]:g}-{DOWNSTROKE[1]:g} deg (deg)", "knee at BDC (deg)", "on a range limit or the bound (crank deg)",
              "starts (within 0.5 %)", "spread hip/knee/ankle (pp)", "cost"]
    table = []
    for r in data.records:
        sh, en, sp = shares_pct(r), muscle_engagement(r.sol), _spread(data, r)
        table.append([N.short(r.experiment), r.labels["fit"], f"{r.sol.setup['saddle_height_m']:.4f}",
                      r.labels["condition_label"], _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                      _f(en.activation_integral_s, ".3f"), _f(en.mean_activation, ".3f"),
                      _f(en.fibre_positive_work_J, ".1f"), _f(en.peak_hip_extension_moment_Nm, ".0f"),
                      _f(hip_flexion_mean_deg(r.sol, DOWNSTROKE)), _f(knee_at_bdc_deg(r.sol)), _limits_text(r),
                      f"{sp['starts']} ({sp['near_best']})" if sp else "-",
                      "/".join(f"{sp['spread_pp'][j]:.2f}" for j in JOINTS) if sp else "-",
                      _f(r.sol.stats.objective, ".4g")])
    for fm in data.failures:
        table.append([N.short(fm.experiment), fm.labels.get("fit", "?"), "",
                      fm.labels.get("condition_label", "?"),
                      "infeasible" if fm.status == "Infeasible_Request" else fm.status] + [""] * 8
                     + [fm.message, "", "", ""])
    return Evaluation(vals, header, table, notes, _extra_md(data, cs, groups))


def _metabolic_text(c: Contrast | None) -> str:
    """Metabolic power of the headline contrast (reported, not optimized: the cost is muscle effort)."""
    if c is None or not c.ok:
        return ""
    from ...analysis.metabolic import metabolic_summary

    f, h = metabolic_summary(c.free.sol), metabolic_summary(c.rec.sol)
    return (f"Metabolic power at the headline drop ({f['metabolic_model']} model, computed from the solutions, not "
            f"optimized): {f['metabolic_power_W']:.0f} -> {h['metabolic_power_W']:.0f} W "
            f"({C.relative_change_pct(f['metabolic_power_W'], h['metabolic_power_W']):+.1f} %), gross efficiency "
            f"{100 * f['gross_efficiency']:.1f} -> {100 * h['gross_efficiency']:.1f} %.")


def _answer_notes(data, cs, head, groups, free, N: Names) -> list[str]:
    HIP_TOL_PP, WORK_TOL_PCT = N.hip_tol, N.work_tol
    notes = []
    allg = next(g for n, _, g in groups if n == "all of the above")
    ok = [c for c in allg if c.ok]
    hip_t, hip_r = sign_text([c.changes()["hip_pp"] for c in ok], HIP_TOL_PP)
    gw_t, gw_r = sign_text([c.changes()["gmax_work_pct"] for c in ok], WORK_TOL_PCT)
    fl_t, _ = sign_text([c.changes()["hip_flex_deg"] for c in ok], 1.0)
    if head is not None:
        ch = head.changes()
        chs = [(c, c.changes()) for c in ok]
        hip_up = [c for c, x in chs if x["hip_pp"] > HIP_TOL_PP]
        hip_down = [c for c, x in chs if x["hip_pp"] < -HIP_TOL_PP]
        gw_up = [c for c, x in chs if x["gmax_work_pct"] > WORK_TOL_PCT]
        gw_flat = [x["gmax_work_pct"] for c, x in chs if abs(x["gmax_work_pct"]) <= WORK_TOL_PCT]
        opens = all(x["hip_flex_deg"] < -1.0 for _, x in chs)
        verdict = ("the first half of the claim (the hip angle opens) holds in every case; " if opens else
                   "the hip angle does not open in every case; ")
        if not hip_up and len(hip_down) > len(chs) / 2:
            verdict += (f"the second (load moves from the knee to the hip) does not: the hip share falls beyond "
                        f"{HIP_TOL_PP:g} pp in {len(hip_down)} of {len(chs)} cases and never rises beyond it")
        elif len(hip_down) > len(chs) / 2:
            verdict += (f"the second (load moves from the knee to the hip) does not in general: the hip share falls "
                        f"beyond {HIP_TOL_PP:g} pp in {len(hip_down)} of {len(chs)} cases and rises beyond it only in "
                        + "; ".join(_case(data, c) for c in hip_up))
        elif len(hip_up) > len(chs) / 2:
            verdict += f"the hip share rises beyond {HIP_TOL_PP:g} pp in {len(hip_up)} of {len(chs)} cases"
        else:
            verdict += "the sign of the hip-share change depends on the setting (robustness table)"
        verdict += (f". GMAX, the glutes: fibre positive work changes by less than {WORK_TOL_PCT:g} % in {len(gw_flat)} "
                    f"of {len(chs)} cases"
                    + (f" ({min(gw_flat):+.0f} to {max(gw_flat):+.0f} %)" if gw_flat else "")
                    + (f" and rises beyond it only in {len(gw_up)}: " + "; ".join(_case(data, c) for c in gw_up)
                       if gw_up else "")
                    + f"; its activation integral changes by {min(x['gmax_act_pct'] for _, x in chs):+.0f} to "
                    f"{max(x['gmax_act_pct'] for _, x in chs):+.0f} %")
        notes.append(
            f"**Claim A, the model's answer.** At the same saddle, a relative heel drop of {head.drop:g} deg changes "
            f"the mean hip flexion over crank {head.window[0]:g}-{head.window[1]:g} deg by {ch['hip_flex_deg']:+.1f} "
            f"deg (negative = more open), the hip share by {ch['hip_pp']:+.1f} pp, the knee share by "
            f"{ch['knee_pp']:+.1f} pp and the ankle share by {ch['ankle_pp']:+.1f} pp; GMAX fibre positive work "
            f"changes by {ch['gmax_work_pct']:+.0f} %, its activation integral by {ch['gmax_act_pct']:+.0f} % and the "
            f"peak hip extension moment by {ch['hip_ext_moment_pct']:+.0f} %. Over all {len(ok)} feasible "
            f"default-definition heel drops (modes, depths, windows, saddles, force sets, cost exponents): the mean "
            f"hip flexion change is {fl_t} (beyond +-1 deg; down = the hip opens), the hip-share change is {hip_t} (beyond +-{HIP_TOL_PP:g} pp) "
            f"and the GMAX-work change is {gw_t} (beyond +-{WORK_TOL_PCT:g} %). In words: {verdict}.")
        costs = [c.changes()["cost_pct"] for c in cs["main"] if c.ok]
        notes.append(
            f"**Claim E.** The optimal-control cost (muscle effort) rises by {ch['cost_pct']:+.0f} % at the headline "
            f"drop ({min(costs):+.0f} to {max(costs):+.0f} % over the same-saddle drops): the relaxed free ankle is "
            "the model's least-effort pattern, and holding the heel down costs effort, consistent with the fitter. "
            "This is true by construction (a constraint added to the free optimum), a consistency check, not evidence. "
            + (f"With the fitter's compensated saddles the cost still rises by {min(cc):+.0f} to {max(cc):+.0f} % "
               "against the free ankle at the default saddle. " if (cc := [c.changes()["cost_pct"] for c in cs.get("saddle", [])
                                                                           if c.ok and c.compensated])
               else "")
            + 
            _metabolic_text(head))
    sweep_free = sorted((r.sol.setup["saddle_height_m"], muscle_engagement(r.sol).fibre_positive_work_J, shares_pct(r)["hip"])
                        for r in data.records if r.labels.get("condition_label") == "free"
                        and r.experiment in (N.exp["main"], N.exp["saddle"]))
    if len(sweep_free) > 1:
        notes.append("Saddle height, free ankle (the fitter's lever): " + ", ".join(
            f"{h:.3f} m: hip {s:.1f} %, GMAX {w:.1f} J" for h, w, s in sweep_free) + ".")
    comp = [c for c in cs.get("saddle", []) if c.compensated and c.ok]
    if comp:
        target = knee_at_bdc_deg(free.sol)
        kb = [knee_at_bdc_deg(c.rec.sol) for c in comp]
        notes.append(f"Fit-compensated saddles (`python scripts/heel_drop_compensated_saddles.py`): the solved knee "
                     f"flexion at BDC is {min(kb):.2f}-{max(kb):.2f} deg vs the target {target:.2f} deg (free ankle, "
                     "default saddle)" + ("" if max(abs(k - target) for k in kb) <= 0.5 else
                                          "; these heights are stale for the current model, recompute them") + ".")
    spreads = [(k, s) for k, s in data.extras.get("multistart", {}).items()]
    if spreads:
        k, s = max(spreads, key=lambda ks: max(ks[1]["spread_pp"].values()))
        kw, sw = max(spreads, key=lambda ks: ks[1]["gmax_work_spread_J"])
        apart = [k_ for k_, s_ in spreads if s_["near_best"] < s_["successful"]]
        notes.append(f"Multi-start: each heel drop from the configured cold starts plus a warm start from its free "
                     f"solution (free: the cold starts, plus in the saddle sweep a warm start from the previous saddle's free "
                     f"solution; fixed: the cold starts). Over the starts within {NEAR_BEST_PCT:g} % of the "
                     f"best cost, the largest spread of any joint share is {max(s['spread_pp'].values()):.2f} pp "
                     f"(`{k}`), of the GMAX positive work {sw['gmax_work_spread_J']:.2f} J (`{kw}`). "
                     + (f"At {len(apart)} of {len(spreads)} points some successful starts ended more than "
                        f"{NEAR_BEST_PCT:g} % above the best cost (other local optima; the best is reported): "
                        + ", ".join(f"`{x}`" for x in apart) + "." if apart else
                        f"At every point all successful starts ended within {NEAR_BEST_PCT:g} % of the best cost."))
    notes.append("Drop 0 in the relative and shift modes is the free problem (the free optimum satisfies the bound), "
                 "so the free point stands for it. Limits column: joints within 0.5 deg of a range limit and crank "
                 "angles where the sole sits on the heel-drop bound (toolkit/analysis/limits.py).")
    return notes


def _extra_md(data, cs, groups) -> str:
    N = Names.of(data)
    HIP_TOL_PP, WORK_TOL_PCT = N.hip_tol, N.work_tol
    L = ["### Robustness: does the sign hold?", "",
         f"A change counts as up or down beyond +-{HIP_TOL_PP:g} pp (hip share) and +-{WORK_TOL_PCT:g} % (GMAX fibre "
         "positive work), the claim criteria's margins. 'robust' = the same sign, beyond the margin, in every "
         "feasible contrast of the row.", "",
         _md(["factor", "what varies", "feasible", "hip share change (pp)", "hip share sign", "GMAX work change (%)",
              "GMAX work sign", "robust"], _robust_summary(groups, N)), "",
         "Which conclusions are robust, over every feasible default-definition heel drop of the study (count of "
         "cases up, within the margin, down; 'robust' = one sign beyond the margin in every case):", "",
         _md(["quantity (heel drop vs free)", "margin", "up", "within", "down", "robust"], _conclusions(groups, N)), "",
         "### Every heel drop against its free ankle", "",
         "Changes vs the free ankle of the same file and saddle (fit-compensated: vs the free ankle at the default "
         f"saddle). Spread: the largest share spread (pp) over starts within {NEAR_BEST_PCT:g} % of the best cost, "
         "of the heel drop and its free baseline.", "",
         _md(["file", "fit", "saddle (m)", "condition", "hip (pp)", "knee (pp)", "ankle (pp)", "GMAX +work (%)",
              "GMAX int a dt (%)", "spread (pp)", "infeasible: binding limit"], _contrast_rows(cs, data)), ""]
    reach = data.extras.get("largest_feasible_drop", [])
    if reach:
        L += ["### Largest feasible drop (geometry, at the solved free pattern)", "",
              _md(["file", "fit", "saddle (m)", "mode", "window (deg)", "largest feasible drop (deg)"],
                  [[N.short(x["experiment"]), x["fit"], f"{x['saddle_height_m']:.4f}", x["mode"],
                    "whole cycle" if x["mode"] == "shift" else f"{x['window_deg'][0]:g}-{x['window_deg'][1]:g}",
                    f"{x['largest_deg']:.1f}"]
                   for x in sorted(reach, key=lambda x: (x["experiment"], x["mode"], x["saddle_height_m"]))]), ""]
    return "\n".join(L)


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from ...model.muscles import MUSCLE_NAMES
    from ...plots import figures as F
    from ...plots.series import Line, Panel, series_figure

    N = Names.of(data)
    paths = []
    items = {r.labels["condition_label"]: r.sol for r in data.find(N.exp["main"], fit=N.base_fit)}
    for e in N.comp:
        for r in data.find(e):
            items[f"{r.labels['condition_label']}, saddle {r.sol.setup['saddle_height_m']:.3f} m"] = r.sol
    if items:
        s0 = next(iter(items.values())).spec
        paths.append(_save(F.joint_shares_bar_figure(items, title=f"Joint shares at {s0.power_W:g} W, {s0.cadence_rpm:g} "
                                                     "rpm: free, fixed, heel drops (same saddle) and fit-compensated"),
                           sdir / "joint_shares.png"))
        sel = {k: v for k, v in items.items() if k in data.study.param("power_figure_conditions")}
        paths.append(_save(F.joint_power_figure(sel or items), sdir / "joint_power.png"))
    cs = contrasts(data)
    g = MUSCLE_NAMES.index("GMAX")
    act = [Line(lab, np.append(np.degrees(sol["theta"]), 360), np.append(sol["activation"][g], sol["activation"][g][0]),
                "-") for lab, sol in items.items() if lab in data.study.param("activation_figure_conditions")]
    dots = []
    for k, (name, _, grp) in enumerate(g_ for g_ in robustness_groups(cs, N) if g_[0] != "all of the above"):
        ch = [c.changes() for c in grp if c.ok]
        dots.append(Line(name, [x["hip_pp"] for x in ch], [x["gmax_work_pct"] for x in ch],
                         "x" if "SENSITIVITY" in name else "o", f"C{k}", alpha=0.8))
    fig = series_figure([Panel(act, "crank angle (deg, 0 = TDC)", "GMAX activation", "GMAX activation, same saddle",
                               xlim=(0, 360)),
                         Panel(dots, "hip share change vs free (pp)", "GMAX fibre positive work change vs free (%)",
                               "Every heel drop of the study (robustness)", zero_lines=True)], size=(11, 4.4))
    paths.append(_save(fig, sdir / "gmax_robustness.png"))
    return paths
