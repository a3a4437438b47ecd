"""Evaluation, tables and figures of the heel-drop study (toolkit/study/heel_study.py), from the stored files only.

Every heel drop is compared with the free ankle of the same experiment file, rider, force set, cost and saddle
(the fit-compensated saddles with the free ankle at the default saddle: the fitter's comparison). Per contrast:
joint-share changes (pp), the change of the GMAX (hip-extensor group) fibre positive work and activation
integral (%, `toolkit.analysis.engagement`), the hip-angle opening over the drop window and the cost change.
The robustness table asks whether the signs of the hip-share and GMAX-work changes hold across window, depth,
saddle height, force set and cost exponent. Efficiency (metabolic) is pending (another branch) and not shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..analysis.engagement import muscle_engagement
from ..analysis.limits import limits_summary
from ..model.leg import JOINTS
from ..ocp.problem import ProblemSpec
from . import comparison as C
from .base import (Evaluation, FailureRec, Record, StudyData, _f, _save, hip_flexion_mean_deg, knee_at_bdc_deg,
                   mean_positive_power_W, shares_pct)
from .heel_study import (ABSOLUTE, BASE_FIT, COMP_PREFIX, EXP2, MAIN, NEAR_BEST_PCT, ONE_HEAD, SADDLE, SWEEP_DROPS,
                         SWEEP_PREFIX, WINDOW, condition_label, parse_condition_label)

S = "heel_drop"
HIP_TOL_PP = 1.0     # a hip-share change within +-1 pp counts as no change (the claim criterion's margin)
WORK_TOL_PCT = 5.0   # a GMAX work change within +-5 % counts as no change (the claim criterion's margin)
DOWNSTROKE = ProblemSpec().heel_drop_window_deg
SHORT = {MAIN: "same saddle", SADDLE: "saddle", ABSOLUTE: "SENSITIVITY absolute", WINDOW: "window 45-180",
         ONE_HEAD: "one-head force set", EXP2: "cost exponent 2"}


@dataclass
class Contrast:
    """One heel-drop point against its free-ankle baseline."""

    experiment: str
    fit: str
    mode: str
    drop: float
    free: Record | None
    rec: Record | None
    fail: FailureRec | None

    @property
    def label(self) -> str:
        return condition_label(self.mode, self.drop)

    @property
    def ok(self) -> bool:
        return self.free is not None and self.rec is not None

    @property
    def window(self) -> tuple[float, float]:
        """Where the hip-angle opening is measured: the drop window (shift: the default downstroke window)."""
        if self.rec is None or self.mode == "shift":
            return tuple(DOWNSTROKE)
        return tuple(self.rec.sol.spec.heel_drop_window_deg)

    def changes(self) -> dict[str, float]:
        f, h = self.free, self.rec
        fs, hs = shares_pct(f), shares_pct(h)
        fe, he = muscle_engagement(f.sol), muscle_engagement(h.sol)
        return {"hip_pp": hs["hip"] - fs["hip"], "knee_pp": hs["knee"] - fs["knee"], "ankle_pp": hs["ankle"] - fs["ankle"],
                "gmax_work_pct": C.relative_change_pct(fe.fibre_positive_work_J, he.fibre_positive_work_J),
                "gmax_act_pct": C.relative_change_pct(fe.activation_integral_s, he.activation_integral_s),
                "hip_flex_deg": hip_flexion_mean_deg(h.sol, self.window) - hip_flexion_mean_deg(f.sol, self.window),
                "cost_pct": C.relative_change_pct(f.sol.stats.objective, h.sol.stats.objective),
                "hip_ext_moment_pct": C.relative_change_pct(fe.peak_hip_extension_moment_Nm,
                                                            he.peak_hip_extension_moment_Nm)}


def _stored(data: StudyData, exp_name: str, fit: str | None = None) -> list[tuple[str, float]]:
    """(mode, drop) of every stored heel drop (solved or failed) of a file (and fit), in mode then drop order."""
    labs = {x.labels.get("condition_label", "") for x in [*data.records, *data.failures]
            if x.experiment == exp_name and (fit is None or x.labels.get("fit") == fit)}
    out = {parse_condition_label(lab) for lab in labs if lab.startswith("heel_drop")}
    order = {"relative": 0, "shift": 1, "absolute": 2}
    return sorted(out, key=lambda md: (order.get(md[0], 9), md[1]))


def _fits(data: StudyData, exp_name: str) -> list[str]:
    return list(dict.fromkeys(x.labels.get("fit", "") for x in [*data.records, *data.failures]
                              if x.experiment == exp_name))


def _contrast(data: StudyData, exp: str, fit: str, mode: str, d: float, free_exp: str | None = None,
              free_fit: str | None = None) -> Contrast:
    lab = condition_label(mode, d)
    fails = data.failed(exp, fit=fit, condition_label=lab)
    return Contrast(exp, fit, mode, d, data.one(free_exp or exp, fit=free_fit or fit, condition_label="free"),
                    data.one(exp, fit=fit, condition_label=lab), fails[0] if fails else None)


def contrasts(data: StudyData) -> dict[str, list[Contrast]]:
    """Every heel drop of the study against its free baseline, by experiment file (comparison order)."""
    out: dict[str, list[Contrast]] = {}
    for e in (MAIN, WINDOW, ONE_HEAD, EXP2, ABSOLUTE):
        out[e] = [_contrast(data, e, BASE_FIT, m, d) for m, d in _stored(data, e, BASE_FIT)]
    out[SADDLE] = []
    for fit in _fits(data, SADDLE):
        if fit.startswith(SWEEP_PREFIX):
            out[SADDLE] += [_contrast(data, SADDLE, fit, m, d) for m, d in _stored(data, SADDLE, fit)]
        elif fit.startswith(COMP_PREFIX):
            m, d = parse_condition_label(fit[len(COMP_PREFIX):])
            out[SADDLE].append(_contrast(data, SADDLE, fit, m, d, free_exp=MAIN, free_fit=BASE_FIT))
    return out


def _saddle(c: Contrast) -> float | None:
    r = c.rec or c.free
    return r.sol.setup["saddle_height_m"] if r is not None else None


def _missing(c: Contrast) -> str:
    if c.fail is not None and c.fail.status == "Infeasible_Request":
        return f"infeasible: {c.fail.message}"
    if c.fail is not None:
        return f"solve failed ({c.fail.status}: {c.fail.message})"
    return "free-ankle baseline missing" if c.free is None else "not run"


def _share_why(c: Contrast) -> str:
    f, h = c.free, c.rec
    pf = {j: mean_positive_power_W(f, j) for j in JOINTS}
    ph = {j: mean_positive_power_W(h, j) for j in JOINTS}
    fe, he = muscle_engagement(f.sol), muscle_engagement(h.sol)
    txt = (f"mean positive power, both legs: ankle {pf['ankle']:.0f} -> {ph['ankle']:.0f} W, hip {pf['hip']:.0f} -> "
           f"{ph['hip']:.0f} W, knee {pf['knee']:.0f} -> {ph['knee']:.0f} W; GMAX fibre positive work "
           f"{fe.fibre_positive_work_J:.1f} -> {he.fibre_positive_work_J:.1f} J per cycle, one leg")
    if ph["ankle"] > pf["ankle"] and ph["hip"] < pf["hip"]:
        txt += "; the ankle plantarflexors take over work, the hip loses it; why the optimum does so is not established"
    else:
        txt += "; cause not established"
    return txt


def _gmax_why(c: Contrast) -> str:
    fe, he = muscle_engagement(c.free.sol), muscle_engagement(c.rec.sol)
    return (f"GMAX activation integral {fe.activation_integral_s:.3f} -> {he.activation_integral_s:.3f} s (mean "
            f"{fe.mean_activation:.3f} -> {he.mean_activation:.3f}), peak hip extension moment "
            f"{fe.peak_hip_extension_moment_Nm:.0f} -> {he.peak_hip_extension_moment_Nm:.0f} N m; cause not established")


def _values(c: Contrast, label: str, headline: bool = False, sensitivity: bool = False,
            quantities: Sequence[str] = ("hip_flexion_change_deg", "hip_share_change_pp", "knee_share_change_pp",
                                         "gmax_work_change_pct", "gmax_activation_change_pct")) -> list[C.ModelValue]:
    if not c.ok:
        return [C.ModelValue(S, "hip_share_change_pp", label, None, missing=_missing(c), sensitivity=sensitivity)]
    ch, fs, hs = c.changes(), shares_pct(c.free), shares_pct(c.rec)
    fe, he = muscle_engagement(c.free.sol), muscle_engagement(c.rec.sol)
    win = f"{c.window[0]:g}-{c.window[1]:g} deg"
    share_why, gmax_why = _share_why(c), _gmax_why(c)
    spec = {
        "hip_flexion_change_deg": (ch["hip_flex_deg"], f"mean hip flexion over crank {win}: "
                                   f"{hip_flexion_mean_deg(c.free.sol, c.window):.1f} -> "
                                   f"{hip_flexion_mean_deg(c.rec.sol, c.window):.1f} deg", "cause not established"),
        "hip_share_change_pp": (ch["hip_pp"], f"hip share {fs['hip']:.1f} -> {hs['hip']:.1f} %", share_why),
        "knee_share_change_pp": (ch["knee_pp"], f"knee share {fs['knee']:.1f} -> {hs['knee']:.1f} %; ankle "
                                 f"{fs['ankle']:.1f} -> {hs['ankle']:.1f} %", share_why),
        "gmax_work_change_pct": (ch["gmax_work_pct"], f"GMAX fibre positive work {fe.fibre_positive_work_J:.1f} -> "
                                 f"{he.fibre_positive_work_J:.1f} J per cycle, one leg", gmax_why),
        "gmax_activation_change_pct": (ch["gmax_act_pct"], f"GMAX activation integral "
                                       f"{fe.activation_integral_s:.3f} -> {he.activation_integral_s:.3f} s", gmax_why),
        "cost_change_pct": (ch["cost_pct"], "optimal-control cost (muscle effort) vs free ankle", ""),
    }
    return [C.ModelValue(S, q, label, spec[q][0], detail=spec[q][1], why=spec[q][2], headline=headline,
                         sensitivity=sensitivity) for q in quantities]


def _headline(cs: Sequence[Contrast]) -> Contrast | None:
    rel = [c for c in cs if c.mode == "relative" and c.ok]
    at10 = [c for c in rel if math.isclose(c.drop, 10.0)]
    return at10[0] if at10 else (max(rel, key=lambda c: c.drop) if rel else None)


def _sign(x: float, tol: float) -> str:
    return "+" if x > tol else "-" if x < -tol else "0"


def _sign_text(xs: Sequence[float], tol: float) -> tuple[str, bool]:
    """('negative in all 8', True) or ('mixed: 2 up, 1 within +-tol, 5 down', False)."""
    if not xs:
        return "no feasible contrast", False
    s = [_sign(x, tol) for x in xs]
    word = {"+": "up", "-": "down", "0": f"within +-{tol:g}"}
    if len(set(s)) == 1:
        return f"{word[s[0]]} in all {len(s)}", s[0] != "0"
    return "mixed: " + ", ".join(f"{s.count(k)} {word[k]}" for k in ("+", "0", "-") if s.count(k)), False


def robustness_groups(cs: dict[str, list[Contrast]]) -> list[tuple[str, str, list[Contrast]]]:
    """(factor, what varies, contrasts) for the robustness summary."""
    main = cs.get(MAIN, [])
    rel = [c for c in main if c.mode == "relative"]
    shift = [c for c in main if c.mode == "shift"]
    core = [c for c in main if c.drop in SWEEP_DROPS]
    sweep = [c for c in cs.get(SADDLE, []) if c.fit.startswith(SWEEP_PREFIX)]
    comp = [c for c in cs.get(SADDLE, []) if c.fit.startswith(COMP_PREFIX)]
    groups = [
        ("depth", "relative drop 5, 10, 15 deg (window 20-200 deg, same saddle)", rel),
        ("window", "relative 20-200 deg, relative 45-180 deg, shift (0-360 deg); 5-15 deg", rel + cs.get(WINDOW, []) + shift),
        ("saddle height", "-15, -7.5, 0, +7.5, +15 mm x relative 5, 10 deg (vs free at the same height)",
         [c for c in rel if c.drop in SWEEP_DROPS] + sweep),
        ("fit compensation", "saddle lowered to keep the knee at BDC (vs free at the default saddle)", comp),
        ("force set", "complete groups vs one-head (pedaling_model); relative and shift 5, 10 deg",
         core + cs.get(ONE_HEAD, [])),
        ("cost exponent", "cubed vs squared activations; relative and shift 5, 10 deg", core + cs.get(EXP2, [])),
    ]
    allc = {id(c): c for _, _, g in groups for c in g}
    groups.append(("all of the above", "every default-definition heel drop of the study", list(allc.values())))
    groups.append(("absolute definition (SENSITIVITY)", "sole <= -d to the horizontal over 60-120 deg, 0-15 deg",
                   cs.get(ABSOLUTE, [])))
    return groups


def _robust_summary(groups) -> list[list[str]]:
    rows = []
    for name, what, g in groups:
        ok = [c for c in g if c.ok]
        ch = [c.changes() for c in ok]
        hip_t, hip_r = _sign_text([x["hip_pp"] for x in ch], HIP_TOL_PP)
        gw_t, gw_r = _sign_text([x["gmax_work_pct"] for x in ch], WORK_TOL_PCT)
        rng = (lambda k, f: f"{min(x[k] for x in ch):{f}} to {max(x[k] for x in ch):{f}}" if ch else "-")
        rows.append([name, what, f"{len(ok)}/{len(g)}", rng("hip_pp", "+.1f"), hip_t, rng("gmax_work_pct", "+.0f"),
                     gw_t, "yes" if hip_r and gw_r else ("hip share only" if hip_r else
                                                          "GMAX work only" if gw_r else "no")])
    return rows


CONCLUSIONS = (("mean hip flexion over the window (deg; down = the hip opens)", "hip_flex_deg", 1.0, "deg"),
               ("hip share (pp)", "hip_pp", HIP_TOL_PP, "pp"), ("knee share (pp)", "knee_pp", 1.0, "pp"),
               ("ankle share (pp)", "ankle_pp", 1.0, "pp"),
               ("GMAX fibre positive work (%)", "gmax_work_pct", WORK_TOL_PCT, "%"),
               ("GMAX activation integral (%)", "gmax_act_pct", WORK_TOL_PCT, "%"),
               ("peak hip extension moment (%)", "hip_ext_moment_pct", WORK_TOL_PCT, "%"))


def _conclusions(groups) -> list[list[str]]:
    allg = next(g for n, _, g in groups if n == "all of the above")
    ch = [c.changes() for c in allg if c.ok]
    rows = []
    for name, key, tol, unit in CONCLUSIONS:
        s = [_sign(x[key], tol) for x in ch]
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
    txt = (f"{c.mode} {c.drop:g} deg ({SHORT.get(c.experiment, c.experiment)}, {c.fit}, saddle {_saddle(c):.3f} m"
           + (f"; largest feasible {big:.1f} deg" if big is not None else "")
           + f"; knee at BDC {knee_at_bdc_deg(c.rec.sol):.1f} deg")
    if sp and sp["near_best"] < sp["successful"]:
        txt += f"; {sp['near_best']} of {sp['successful']} successful starts within {NEAR_BEST_PCT:g} % of the best cost"
    return txt + ")"


def _contrast_rows(groups_cs: dict[str, list[Contrast]], data: StudyData) -> list[list[str]]:
    rows = []
    for e, cs in groups_cs.items():
        for c in cs:
            sad = _saddle(c)
            head = [SHORT.get(e, e), c.fit, "-" if sad is None else f"{sad:.4f}", c.label]
            if not c.ok:
                rows.append(head + ["-"] * 6 + [_missing(c)])
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
    cs = contrasts(data)
    main = cs[MAIN]
    free = data.one(MAIN, fit=BASE_FIT, condition_label="free")
    if free is None:
        return Evaluation([C.ModelValue(S, "hip_share_change_pp", "free ankle", None,
                                        missing="free-ankle point missing")])
    head = _headline(main)
    vals: list[C.ModelValue] = []
    for c in main:
        lab = f"{c.mode} heel drop {c.drop:g} deg vs free, same saddle"
        vals += _values(c, lab, headline=c is head)
        if c.ok:
            vals += _values(c, lab, headline=c is head, quantities=("cost_change_pct",))
    for c in cs[SADDLE]:
        if c.fit.startswith(COMP_PREFIX):
            lab = (f"{c.mode} heel drop {c.drop:g} deg, fit-compensated saddle {_saddle(c) or float('nan'):.4f} m, "
                   "vs free at the default saddle")
            vals += _values(c, lab, quantities=("hip_share_change_pp", "knee_share_change_pp", "gmax_work_change_pct"))
    for c in cs[ABSOLUTE]:
        w = c.rec.sol.spec.heel_drop_window_deg if c.rec is not None else (60, 120)
        lab = f"SENSITIVITY, absolute heel drop {c.drop:g} deg (sole <= -d over crank {w[0]:g}-{w[1]:g} deg) vs free"
        vals += _values(c, lab, sensitivity=True, quantities=("hip_flexion_change_deg", "hip_share_change_pp",
                                                              "knee_share_change_pp", "gmax_work_change_pct"))
    groups = robustness_groups(cs)
    notes = _answer_notes(data, cs, head, groups, free)
    header = ["file", "fit", "saddle (m)", "condition", "hip %", "knee %", "ankle %", "GMAX int a dt (s)",
              "GMAX mean a", "GMAX +work (J)", "peak hip ext. moment (N m)",
              "mean hip flexion 20-200 deg (deg)", "knee at BDC (deg)", "on a range limit or the bound (crank deg)",
              "starts (within 0.5 %)", "spread hip/knee/ankle (pp)", "cost"]
    table = []
    for r in data.records:
        sh, en, sp = shares_pct(r), muscle_engagement(r.sol), _spread(data, r)
        table.append([SHORT.get(r.experiment, r.experiment), r.labels["fit"], f"{r.sol.setup['saddle_height_m']:.4f}",
                      r.labels["condition_label"], _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                      _f(en.activation_integral_s, ".3f"), _f(en.mean_activation, ".3f"),
                      _f(en.fibre_positive_work_J, ".1f"), _f(en.peak_hip_extension_moment_Nm, ".0f"),
                      _f(hip_flexion_mean_deg(r.sol, DOWNSTROKE)), _f(knee_at_bdc_deg(r.sol)), _limits_text(r),
                      f"{sp['starts']} ({sp['near_best']})" if sp else "-",
                      "/".join(f"{sp['spread_pp'][j]:.2f}" for j in JOINTS) if sp else "-",
                      _f(r.sol.stats.objective, ".4g")])
    for fm in data.failures:
        table.append([SHORT.get(fm.experiment, fm.experiment), fm.labels.get("fit", "?"), "",
                      fm.labels.get("condition_label", "?"),
                      "infeasible" if fm.status == "Infeasible_Request" else fm.status] + [""] * 8
                     + [fm.message, "", "", ""])
    return Evaluation(vals, header, table, notes, _extra_md(data, cs, groups))


def _answer_notes(data, cs, head, groups, free) -> list[str]:
    notes = []
    allg = next(g for n, _, g in groups if n == "all of the above")
    ok = [c for c in allg if c.ok]
    hip_t, hip_r = _sign_text([c.changes()["hip_pp"] for c in ok], HIP_TOL_PP)
    gw_t, gw_r = _sign_text([c.changes()["gmax_work_pct"] for c in ok], WORK_TOL_PCT)
    fl_t, _ = _sign_text([c.changes()["hip_flex_deg"] for c in ok], 1.0)
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
        costs = [c.changes()["cost_pct"] for c in cs[MAIN] if c.ok]
        notes.append(
            f"**Claim E.** The optimal-control cost (muscle effort) rises by {ch['cost_pct']:+.0f} % at the headline "
            f"drop ({min(costs):+.0f} to {max(costs):+.0f} % over the same-saddle drops): the relaxed free ankle is "
            "the model's least-effort pattern, and holding the heel down costs effort, consistent with the fitter. "
            "This is true by construction (a constraint added to the free optimum), a consistency check, not evidence. "
            + (f"With the fitter's compensated saddles the cost still rises by {min(cc):+.0f} to {max(cc):+.0f} % "
               "against the free ankle at the default saddle. " if (cc := [c.changes()["cost_pct"] for c in cs.get(SADDLE, [])
                                                                           if c.ok and c.fit.startswith(COMP_PREFIX)])
               else "")
            + 
            "Efficiency (metabolic cost, gross efficiency): pending; the metabolic model is being added on another "
            "branch and this page does not evaluate it.")
    sweep_free = sorted((r.sol.setup["saddle_height_m"], muscle_engagement(r.sol).fibre_positive_work_J, shares_pct(r)["hip"])
                        for r in data.records if r.labels.get("condition_label") == "free"
                        and r.experiment in (MAIN, SADDLE))
    if len(sweep_free) > 1:
        notes.append("Saddle height, free ankle (the fitter's lever): " + ", ".join(
            f"{h:.3f} m: hip {s:.1f} %, GMAX {w:.1f} J" for h, w, s in sweep_free) + ".")
    comp = [c for c in cs.get(SADDLE, []) if c.fit.startswith(COMP_PREFIX) and c.ok]
    if comp:
        target = knee_at_bdc_deg(free.sol)
        kb = [knee_at_bdc_deg(c.rec.sol) for c in comp]
        notes.append(f"Fit-compensated saddles (`python -m toolkit.study.heel_study --compensation`): the solved knee "
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
    L = ["### Robustness: does the sign hold?", "",
         f"A change counts as up or down beyond +-{HIP_TOL_PP:g} pp (hip share) and +-{WORK_TOL_PCT:g} % (GMAX fibre "
         "positive work), the claim criteria's margins. 'robust' = the same sign, beyond the margin, in every "
         "feasible contrast of the row.", "",
         _md(["factor", "what varies", "feasible", "hip share change (pp)", "hip share sign", "GMAX work change (%)",
              "GMAX work sign", "robust"], _robust_summary(groups)), "",
         "Which conclusions are robust, over every feasible default-definition heel drop of the study (count of "
         "cases up, within the margin, down; 'robust' = one sign beyond the margin in every case):", "",
         _md(["quantity (heel drop vs free)", "margin", "up", "within", "down", "robust"], _conclusions(groups)), "",
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
                  [[SHORT.get(x["experiment"], x["experiment"]), x["fit"], f"{x['saddle_height_m']:.4f}", x["mode"],
                    "whole cycle" if x["mode"] == "shift" else f"{x['window_deg'][0]:g}-{x['window_deg'][1]:g}",
                    f"{x['largest_deg']:.1f}"]
                   for x in sorted(reach, key=lambda x: (x["experiment"], x["mode"], x["saddle_height_m"]))]), ""]
    return "\n".join(L)


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    from ..model.muscles import MUSCLE_NAMES
    from ..plots import figures as F

    paths = []
    items = {r.labels["condition_label"]: r.sol for r in data.find(MAIN, fit=BASE_FIT)}
    for r in data.find(SADDLE):
        if r.labels["fit"].startswith(COMP_PREFIX):
            items[f"{r.labels['condition_label']}, saddle {r.sol.setup['saddle_height_m']:.3f} m"] = r.sol
    if items:
        paths.append(_save(F.joint_shares_bar_figure(items, title="Joint shares at 200 W, 90 rpm: free, fixed, heel "
                                                     "drops (same saddle) and fit-compensated"), sdir / "joint_shares.png"))
        sel = {k: v for k, v in items.items() if k in ("free", "heel_drop10", "heel_drop_shift10")}
        paths.append(_save(F.joint_power_figure(sel or items), sdir / "joint_power.png"))
    cs = contrasts(data)
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    g = MUSCLE_NAMES.index("GMAX")
    for lab, sol in items.items():
        if lab in ("free", "heel_drop5", "heel_drop10", "heel_drop15", "heel_drop_shift10"):
            th = np.degrees(sol["theta"])
            ax1.plot(np.append(th, 360), np.append(sol["activation"][g], sol["activation"][g][0]), label=lab)
    ax1.set_xlim(0, 360)
    ax1.set_xlabel("crank angle (deg, 0 = TDC)")
    ax1.set_ylabel("GMAX activation")
    ax1.legend(fontsize="x-small")
    ax1.set_title("GMAX activation, same saddle", fontsize="small")
    for k, (name, _, grp) in enumerate(g_ for g_ in robustness_groups(cs) if g_[0] != "all of the above"):
        ch = [c.changes() for c in grp if c.ok]
        ax2.scatter([x["hip_pp"] for x in ch], [x["gmax_work_pct"] for x in ch], label=name, s=22,
                    marker="x" if "SENSITIVITY" in name else "o", color=f"C{k}", alpha=0.8)
    ax2.axhline(0, color="0.5", lw=0.8)
    ax2.axvline(0, color="0.5", lw=0.8)
    ax2.set_xlabel("hip share change vs free (pp)")
    ax2.set_ylabel("GMAX fibre positive work change vs free (%)")
    ax2.legend(fontsize="x-small")
    ax2.set_title("Every heel drop of the study (robustness)", fontsize="small")
    paths.append(_save(fig, sdir / "gmax_robustness.png"))
    return paths


def study_def():
    """The StudyDef registered in reproduce.STUDIES."""
    from .base import StudyDef
    from .heel_study import SELECT_DOC, VARIANTS, select, solve_heel

    return StudyDef(
        "heel_drop", "Heel drop (claims A and E)", "A, E",
        "Does dropping the heel in the downstroke open the hip angle at the same saddle height and shift work from "
        "the knee to the hip (the glutes)?",
        VARIANTS, evaluate, select=select, select_doc=SELECT_DOC, figures=figures, solve=solve_heel)
