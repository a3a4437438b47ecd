"""Claim B (shared/reference/studies.md): high vs low lactate-threshold riders. Quantities from the stored
solutions; the study's constants are in studies/lactate_threshold/study.toml."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence


from ...model.leg import JOINTS
from .. import comparison as C
from ..base import (Evaluation, Record, StudyData, _f, _save, max_activation,
                    mean_positive_power_W, shares_pct)

_IDENTITY = ("name", "description", "source")
_FIELD_TEXT = {"lactate_threshold_pct_vo2max": "lactate threshold (% VO2max)",
               "type1_pct_vastus_lateralis": "type I fibres in vastus lateralis (%)"}


def _field(name: str) -> str:
    return _FIELD_TEXT.get(name, name.replace("_", " "))


def rider_differences(data: StudyData) -> list[tuple[str, object, object]]:
    """(field, high-LT value, low-LT value) of every rider setting in which the baseline's two riders differ, from
    the stored experiment config (names and citations left out)."""
    from dataclasses import fields

    riders = {r.name: r for r in data.experiments[0].riders}
    h, l_ = riders.get(data.study.param("hlt_rider")), riders.get(data.study.param("llt_rider"))
    if h is None or l_ is None:
        return []
    return [(f.name, getattr(h, f.name), getattr(l_, f.name)) for f in fields(h)
            if f.name not in _IDENTITY and getattr(h, f.name) != getattr(l_, f.name)]


def _same_problem_why(data: StudyData) -> str:
    diff = rider_differences(data)
    what = " and ".join(_field(f) for f, _, _ in diff) or "nothing"
    return (f"the two profiles differ only in {what}, which the effort-minimizing problem does not see: at equal "
            "% VO2max they pose identical problems")


def _lt_knee_why(series: Sequence[tuple[float, float, "Record"]]) -> str:
    """Why knee power might not stay flat, from the solutions: how it moves with the crank power, and whether
    any muscle is near full activation (a strength limit that could hold it flat)."""
    if len(series) < 2:
        return ""
    a, b = series[0], series[-1]
    knee = C.relative_change_pct(a[1], b[1])
    crank = C.relative_change_pct(a[2].sol.spec.power_W, b[2].sol.spec.power_W)
    act = max(max_activation(r) for _, _, r in series)
    return (f"in the model knee power rises {knee:.0f} % for {crank:.0f} % more crank power, and no muscle is near "
            f"full activation (largest activation in the sweep {act:.2f}), so no strength limit holds it flat; a "
            "lactate threshold is not a model input")


def _knee_series(data: StudyData, experiment: str, rider: str) -> list[tuple[float, float, Record]]:
    recs = data.find(experiment, rider=rider)
    return sorted(((float(r.labels["intensity_value"]), mean_positive_power_W(r, "knee"), r) for r in recs),
                  key=lambda t: t[0])


def evaluate(data: StudyData) -> Evaluation:
    """Knee power change with intensity per rider, hip share HLT minus LLT at the comparison intensity, per
    variant; point table and notes."""
    S = data.name
    hlt_name, llt_name = data.study.param("hlt_rider"), data.study.param("llt_rider")
    at_pct = float(data.study.param("compare_at_pct_vo2max"))
    vals: list[C.ModelValue] = []
    notes: list[str] = []
    base = data.experiments[0].name
    llt = _knee_series(data, base, llt_name)
    hlt_base = _knee_series(data, base, hlt_name)

    def change(series):
        if len(series) < 2:
            return None, ""
        a, b = series[0], series[-1]
        return (C.relative_change_pct(a[1], b[1]),
                f"knee power {a[1]:.0f} W at {a[0]:g} % -> {b[1]:.0f} W at {b[0]:g} % VO2max "
                f"({a[2].sol.spec.power_W:.0f} -> {b[2].sol.spec.power_W:.0f} W crank)")

    def at90(series):
        for x, _, r in series:
            if math.isclose(x, at_pct):
                return r
        return None

    v, det = change(llt)
    vals.append(C.ModelValue(S, "llt_knee_power_change_pct", f"LLT rider ({llt_name} profile)", v, detail=det,
                             why=_lt_knee_why(llt), headline=True,
                             missing="" if v is not None else "LLT points missing"))
    llt90 = at90(llt)
    variants = [(e.name, v_.label) for e, v_ in zip(data.experiments, data.study.variants)]
    summary = []
    for exp_name, vlabel in variants:
        hlt = _knee_series(data, exp_name, hlt_name) if exp_name == base else \
            _knee_series(data, exp_name, _variant_rider(data, exp_name, hlt_name))
        v, det = change(hlt)
        head = exp_name == base
        vals.append(C.ModelValue(S, "hlt_knee_power_change_pct", f"HLT, {vlabel}", v, detail=det,
                                 why=_lt_knee_why(hlt), headline=head,
                                 missing="" if v is not None else "HLT points missing"))
        h90 = at90(hlt)
        if h90 is not None and llt90 is not None:
            dh = shares_pct(h90)["hip"] - shares_pct(llt90)["hip"]
            vals.append(C.ModelValue(S, "hip_share_hlt_minus_llt_at_90_pp", f"HLT, {vlabel}", dh,
                                     detail=f"hip share at {at_pct:g} % VO2max: HLT {shares_pct(h90)['hip']:.1f} %, LLT "
                                            f"(baseline) {shares_pct(llt90)['hip']:.1f} %",
                                     why=_same_problem_why(data) if exp_name == base else "", headline=head))
        else:
            dh = None
            vals.append(C.ModelValue(S, "hip_share_hlt_minus_llt_at_90_pp", f"HLT, {vlabel}", None,
                                     missing=f"{at_pct:g} % VO2max point missing"))
        summary.append((vlabel, v, dh))
    # finding-by-finding verdicts per mechanism
    pub = C.published_index(data.study.published)
    def verdict(q, v):
        return C.evaluate(pub[(S, q)].criterion, v, pub[(S, q)].value)[0]

    f1 = verdict("llt_knee_power_change_pct", vals[0].value)
    lines = []
    for vlabel, v, dh in summary:
        f2 = verdict("hlt_knee_power_change_pct", v)
        f3 = verdict("hip_share_hlt_minus_llt_at_90_pp", dh)
        n = sum(1 for f in (f1, f2, f3) if f)
        lines.append(f"- {vlabel}: finding 1 (LLT knee power rises) {C.agreement_text(f1)}, finding 2 (HLT knee "
                     f"power flat) {C.agreement_text(f2)}, finding 3 (HLT relative hip power > LLT at {at_pct:g} %) "
                     f"{C.agreement_text(f3)}: {n} of 3.")
    # identical problems
    diffs = []
    for (x1, _, r1), (x2, _, r2) in zip(hlt_base, llt):
        diffs.append(max(abs(shares_pct(r1)[j] - shares_pct(r2)[j]) for j in JOINTS))
    if diffs:
        notes.append(
            f"As configured, `{hlt_name}` and `{llt_name}` differ only in "
            + (" and ".join(f"{_field(f)} ({a:g} vs {b:g})" if isinstance(a, float) else f"{_field(f)} ({a} vs {b})"
                            for f, a, b in rider_differences(data)) or "nothing")
            + " (same body, VO2max and gross efficiency). Neither a lactate threshold nor the fibre-type mix enters "
            "the effort-minimizing problem (fibre type only changes the reported metabolic power), so at equal % "
            "VO2max the two riders pose *identical* problems and get identical solutions (largest "
            f"difference in any joint share over the sweep: {max(diffs):.2g} pp). The baseline therefore cannot "
            "reproduce any difference between the groups; `load_experiment` warns about exactly this.")
    notes.append(data.study.param("mechanisms_note"))
    notes.extend(lines)
    header = ["experiment", "rider", "% VO2max", "crank W", "hip %", "knee %", "ankle %", "knee power W",
              "hip power W", "max activation"]
    rows = []
    for r in sorted(data.records, key=lambda r: (r.experiment, r.labels["rider"], r.labels["intensity_value"])):
        sh = shares_pct(r)
        rows.append([r.experiment, r.labels["rider"], f"{r.labels['intensity_value']:g}",
                     f"{r.sol.spec.power_W:.0f}", _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                     _f(mean_positive_power_W(r, "knee"), ".0f"), _f(mean_positive_power_W(r, "hip"), ".0f"),
                     _f(max_activation(r), ".2f")])
    for fm in data.failures:
        rows.append([fm.experiment, fm.labels.get("rider", "?"), str(fm.labels.get("intensity_value", "?")), "",
                     fm.status, "", "", "", "", ""])
    return Evaluation(vals, header, rows, notes)


def _variant_rider(data: StudyData, exp_name: str, default: str) -> str:
    """The rider a hypothesis file solves (it holds the HLT rider only, under its own profile name)."""
    names = sorted({r.labels["rider"] for r in data.find(exp_name)})
    return names[0] if names else default


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    """Knee power and hip share vs intensity, baseline and hypotheses."""
    from ...plots.series import Line, Panel, series_figure

    base = data.experiments[0].name
    hlt, llt = data.study.param("hlt_rider"), data.study.param("llt_rider")
    at_pct = float(data.study.param("compare_at_pct_vo2max"))
    series = {"LLT (baseline)": _knee_series(data, base, llt),
              "HLT (baseline, identical to LLT)": _knee_series(data, base, hlt)}
    for e, v in zip(data.experiments[1:], data.study.variants[1:]):
        series[f"HLT, {v.label}"] = _knee_series(data, e.name, _variant_rider(data, e.name, hlt))
    styles = ["-o", "--s", "-^", "-v", "-D"]
    knee = [Line(lab, [p[0] for p in s], [p[1] for p in s], st) for (lab, s), st in zip(series.items(), styles)]
    hip = [Line(lab, [p[0] for p in s], [shares_pct(p[2])["hip"] for p in s], st)
           for (lab, s), st in zip(series.items(), styles)]
    x = "intensity (% VO2max)"
    fig = series_figure(
        [Panel(knee, x, "mean positive knee power, both legs (W)", "Knee power vs work rate (claim B: LLT rises, "
               "HLT flat)"),
         Panel(hip, x, "hip share of positive joint work (%)", f"Relative hip power (claim B: HLT > LLT at "
               f"{at_pct:g} %)", legend=False)],
        "High vs low lactate threshold riders: baseline and candidate mechanisms (hypotheses)")
    return [_save(fig, sdir / "knee_power_and_hip_share.png")]
