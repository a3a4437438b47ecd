"""Quantities of the heel-drop study (solve loop: toolkit/study/solvers/heel_drop.py; page: toolkit/study/pages/
heel_drop.py), from the stored files only.

Every heel drop is compared with the free ankle of the same experiment file, rider, force set, cost and saddle
(the fit-compensated saddles with the free ankle at the base fit: the fitter's comparison). Per contrast:
joint-share changes (pp), the change of the GMAX (hip-extensor group) fibre positive work and activation
integral (%, `toolkit.analysis.engagement`), the hip-angle opening over the drop window and the cost change.
`robustness_groups` gathers the contrasts by the factor that varies (window, depth, saddle height, force set, cost
exponent) for the page's robustness table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ...analysis.engagement import muscle_engagement
from ...model.leg import JOINTS
from ...ocp.problem import ProblemSpec
from .. import comparison as C
from ..base import FailureRec, Record, StudyData, hip_flexion_mean_deg, mean_positive_power_W, shares_pct
from ..intensity import _num

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


def saddle_height(c: Contrast) -> float | None:
    r = c.rec or c.free
    return r.sol.setup["saddle_height_m"] if r is not None else None


def missing_text(c: Contrast) -> str:
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
        return [C.ModelValue(S, "hip_share_change_pp", label, None, missing=missing_text(c), sensitivity=sensitivity)]
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


def sign(x: float, tol: float) -> str:
    return "+" if x > tol else "-" if x < -tol else "0"


def sign_text(xs: Sequence[float], tol: float) -> tuple[str, bool]:
    """('negative in all 8', True) or ('mixed: 2 up, 1 within +-tol, 5 down', False)."""
    if not xs:
        return "no feasible contrast", False
    s = [sign(x, tol) for x in xs]
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


def headline(data: StudyData, cs: dict[str, list[Contrast]]) -> Contrast | None:
    """The headline contrast of the same-saddle file (study.toml [parameters] headline)."""
    hl = data.study.param("headline")
    return _headline(cs["main"], hl["mode"], float(hl["drop_deg"]))


def values(data: StudyData) -> list[C.ModelValue]:
    """Claim A and E quantities: every same-saddle drop (headline: study.toml), the compensated saddles and the
    absolute SENSITIVITY, each against its free ankle."""
    N = Names.of(data)
    cs = contrasts(data)
    free = data.one(N.exp["main"], fit=N.base_fit, condition_label="free")
    if free is None:
        return [C.ModelValue(S, "hip_share_change_pp", "free ankle", None, missing="free-ankle point missing")]
    head = headline(data, cs)
    vals: list[C.ModelValue] = []
    for c in cs["main"]:
        lab = f"{c.mode} heel drop {c.drop:g} deg vs free, same saddle"
        vals += _values(c, lab, headline=c is head)
        if c.ok:
            vals += _values(c, lab, headline=c is head, quantities=("cost_change_pct",))
    for c in cs["saddle"]:
        if c.compensated:
            lab = (f"{c.mode} heel drop {c.drop:g} deg, fit-compensated saddle {saddle_height(c) or float('nan'):.4f} m, "
                   f"vs free at the {N.base_fit} fit's saddle")
            vals += _values(c, lab, quantities=("hip_share_change_pp", "knee_share_change_pp", "gmax_work_change_pct"))
    for c in cs["absolute"]:
        exp = next((e for e in data.experiments if e.name == c.experiment), None)
        win = c.window if c.rec is not None else (exp.conditions.heel_drop_window_deg if exp is not None else None)
        w = f"{win[0]:g}-{win[1]:g}" if win is not None else "?"
        lab = f"SENSITIVITY, absolute heel drop {c.drop:g} deg (sole <= -d over crank {w} deg) vs free"
        vals += _values(c, lab, sensitivity=True, quantities=("hip_flexion_change_deg", "hip_share_change_pp",
                                                              "knee_share_change_pp", "gmax_work_change_pct"))
    return vals


