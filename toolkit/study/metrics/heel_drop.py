"""Evaluation, tables and figures of the heel-drop study (its solve loop: toolkit/study/solvers/heel_drop.py), from the stored files only.

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

from ...analysis.engagement import muscle_engagement
from ...analysis.limits import limits_summary
from ...model.leg import JOINTS
from ...ocp.problem import ProblemSpec
from .. import comparison as C
from ..base import (Evaluation, FailureRec, Record, StudyData, _f, _save, hip_flexion_mean_deg, knee_at_bdc_deg,
                   mean_positive_power_W, shares_pct)
from ..intensity import _num
from ..solvers.starts import NEAR_BEST_PCT

S = "heel_drop"
DOWNSTROKE = ProblemSpec().heel_drop_window_deg
ROLES = ("main", "saddle", "absolute", "window", "one_head", "exponent2")


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


@dataclass(frozen=True)
class Names:
    """The study's files and constants (studies/heel_drop/study.toml): experiment name by role, the
    fit-compensated files, the base fit, the saddle sweep's drops, the sign tolerances and the short labels."""

    exp: dict
    comp: tuple[str, ...]
    base_fit: str
    sweep_drops: tuple[float, ...]
    hip_tol: float
    work_tol: float
    labels: dict

    @classmethod
    def of(cls, data: StudyData) -> "Names":
        st = data.study
        pre = st.param("compensated_prefix")
        exp = {r: st.experiment_name(r) for r in ROLES}
        comp = tuple(st.experiment_name(v.role) for v in st.variants if v.role.startswith(pre))
        short = {exp[r]: lab for r, lab in st.param("short_labels").items() if r in exp}
        short.update({c: "fit-compensated" for c in comp})
        return cls(exp, comp, st.param("base_fit"), tuple(float(d) for d in st.param("sweep_drops_deg")),
                   float(st.param("hip_tol_pp")), float(st.param("work_tol_pct")), short)

    def short(self, experiment: str) -> str:
        return self.labels.get(experiment, experiment)


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
    compensated: bool = False

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
                    data.one(exp, fit=fit, condition_label=lab), fails[0] if fails else None,
                    compensated=free_exp is not None)


def contrasts(data: StudyData) -> dict[str, list[Contrast]]:
    """Every heel drop of the study against its free baseline, by role of its file (comparison order); the
    fit-compensated saddles go with the saddle sweep (role "saddle", `compensated` set) and are compared with
    the free ankle at the base fit."""
    N = Names.of(data)
    out: dict[str, list[Contrast]] = {}
    for role in ("main", "window", "one_head", "exponent2", "absolute"):
        e = N.exp[role]
        out[role] = [_contrast(data, e, N.base_fit, m, d) for m, d in _stored(data, e, N.base_fit)]
    sad = N.exp["saddle"]
    out["saddle"] = [_contrast(data, sad, fit, m, d) for fit in _fits(data, sad) for m, d in _stored(data, sad, fit)]
    for e in N.comp:
        out["saddle"] += [_contrast(data, e, fit, m, d, free_exp=N.exp["main"], free_fit=N.base_fit)
                          for fit in _fits(data, e) for m, d in _stored(data, e, fit)]
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


def _headline(cs: Sequence[Contrast], mode: str, drop: float) -> Contrast | None:
    """The headline contrast (study.toml [parameters] headline), else the deepest feasible drop of that mode."""
    same = [c for c in cs if c.mode == mode and c.ok]
    at = [c for c in same if math.isclose(c.drop, drop)]
    return at[0] if at else (max(same, key=lambda c: c.drop) if same else None)


def _span(xs: Sequence[float], unit: str) -> str:
    xs = sorted(set(xs))
    return (", ".join(f"{x:g}" for x in xs) if len(xs) <= 4 else f"{xs[0]:g}-{xs[-1]:g}") + f" {unit}"


def _what(cs: Sequence[Contrast]) -> str:
    """What varies across a group of contrasts, read from their solutions: modes and drops, windows, saddle
    heights, force sets and cost exponents (the last three only when they vary)."""
    recs = [c.rec for c in cs if c.rec is not None]
    if not recs:
        return "-"
    parts = [", ".join(f"{m} {_span([c.drop for c in cs if c.mode == m], 'deg')}"
                       for m in dict.fromkeys(c.mode for c in cs))]
    win = {tuple(r.sol.spec.heel_drop_window_deg) for r in recs if r.sol.spec.heel_drop_mode != "shift"}
    if win:
        parts.append("window " + ", ".join(f"{a:g}-{b:g}" for a, b in sorted(win)) + " deg"
                     + (" (shift: whole cycle)" if any(r.sol.spec.heel_drop_mode == "shift" for r in recs) else ""))
    sad = [r.sol.setup["saddle_height_m"] for r in recs]
    if len({round(x, 5) for x in sad}) > 1:
        parts.append(f"saddle {min(sad):.4f}-{max(sad):.4f} m")
    for what, vals in (("force sets", {r.sol.setup.get("max_force_set", "?") for r in recs}),
                       ("cost exponents", {str(r.sol.spec.cost.exponent) for r in recs})):
        if len(vals) > 1:
            parts.append(f"{what} {', '.join(sorted(vals))}")
    return "; ".join(parts)


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


def robustness_groups(cs: dict[str, list[Contrast]], N: Names) -> list[tuple[str, str, list[Contrast]]]:
    """(factor, what varies, contrasts) for the robustness summary."""
    main = cs.get("main", [])
    rel = [c for c in main if c.mode == "relative"]
    shift = [c for c in main if c.mode == "shift"]
    core = [c for c in main if c.drop in N.sweep_drops]
    sweep = [c for c in cs.get("saddle", []) if not c.compensated]
    comp = [c for c in cs.get("saddle", []) if c.compensated]
    groups = [("depth", rel), ("window", rel + cs.get("window", []) + shift),
              ("saddle height", [c for c in rel if c.drop in N.sweep_drops] + sweep),
              ("fit compensation", comp), ("force set", core + cs.get("one_head", [])),
              ("cost exponent", core + cs.get("exponent2", []))]
    out = [(name, _what(g) + (" (vs free at the base fit's saddle)" if name == "fit compensation" else ""), g)
           for name, g in groups]
    allc = {id(c): c for _, g in groups for c in g}
    out.append(("all of the above", "every default-definition heel drop of the study", list(allc.values())))
    absolute = cs.get("absolute", [])
    out.append(("absolute definition (SENSITIVITY)", "sole <= -d to the horizontal; " + _what(absolute), absolute))
    return out


def _robust_summary(groups, N: Names) -> list[list[str]]:
    rows = []
    for name, what, g in groups:
        ok = [c for c in g if c.ok]
        ch = [c.changes() for c in ok]
        hip_t, hip_r = _sign_text([x["hip_pp"] for x in ch], N.hip_tol)
        gw_t, gw_r = _sign_text([x["gmax_work_pct"] for x in ch], N.work_tol)
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
    txt = (f"{c.mode} {c.drop:g} deg ({Names.of(data).short(c.experiment)}, {c.fit}, saddle {_saddle(c):.3f} m"
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
            sad = _saddle(c)
            head = [N.short(c.experiment), c.fit, "-" if sad is None else f"{sad:.4f}", c.label]
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
    """Claim A and E quantities at the same saddle (headline: relative 10 deg), the compensated saddles and the
    absolute SENSITIVITY; robustness tables, the answer notes and the point table."""
    N = Names.of(data)
    cs = contrasts(data)
    main = cs["main"]
    free = data.one(N.exp["main"], fit=N.base_fit, condition_label="free")
    if free is None:
        return Evaluation([C.ModelValue(S, "hip_share_change_pp", "free ankle", None,
                                        missing="free-ankle point missing")])
    hl = data.study.param("headline")
    head = _headline(main, hl["mode"], float(hl["drop_deg"]))
    vals: list[C.ModelValue] = []
    for c in main:
        lab = f"{c.mode} heel drop {c.drop:g} deg vs free, same saddle"
        vals += _values(c, lab, headline=c is head)
        if c.ok:
            vals += _values(c, lab, headline=c is head, quantities=("cost_change_pct",))
    for c in cs["saddle"]:
        if c.compensated:
            lab = (f"{c.mode} heel drop {c.drop:g} deg, fit-compensated saddle {_saddle(c) or float('nan'):.4f} m, "
                   "vs free at the default saddle")
            vals += _values(c, lab, quantities=("hip_share_change_pp", "knee_share_change_pp", "gmax_work_change_pct"))
    for c in cs["absolute"]:
        exp = next((e for e in data.experiments if e.name == c.experiment), None)
        win = c.window if c.rec is not None else (exp.conditions.heel_drop_window_deg if exp is not None else None)
        w = f"{win[0]:g}-{win[1]:g}" if win is not None else "?"
        lab = f"SENSITIVITY, absolute heel drop {c.drop:g} deg (sole <= -d over crank {w} deg) vs free"
        vals += _values(c, lab, sensitivity=True, quantities=("hip_flexion_change_deg", "hip_share_change_pp",
                                                              "knee_share_change_pp", "gmax_work_change_pct"))
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
    from matplotlib.figure import Figure

    from ...model.muscles import MUSCLE_NAMES
    from ...plots import figures as F

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
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    g = MUSCLE_NAMES.index("GMAX")
    for lab, sol in items.items():
        if lab in data.study.param("activation_figure_conditions"):
            th = np.degrees(sol["theta"])
            ax1.plot(np.append(th, 360), np.append(sol["activation"][g], sol["activation"][g][0]), label=lab)
    ax1.set_xlim(0, 360)
    ax1.set_xlabel("crank angle (deg, 0 = TDC)")
    ax1.set_ylabel("GMAX activation")
    ax1.legend(fontsize="x-small")
    ax1.set_title("GMAX activation, same saddle", fontsize="small")
    for k, (name, _, grp) in enumerate(g_ for g_ in robustness_groups(cs, N) if g_[0] != "all of the above"):
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
