"""Claim B (shared/reference/studies.md): high vs low lactate-threshold riders. Quantities from the stored
solutions; the study's constants are in studies/lactate_threshold/study.toml."""
from __future__ import annotations

import math
from typing import Sequence

from .. import comparison as C
from ..base import Record, StudyData, max_activation, mean_positive_power_W, shares_pct

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


def knee_series(data: StudyData, experiment: str, rider: str) -> list[tuple[float, float, Record]]:
    recs = data.find(experiment, rider=rider)
    return sorted(((float(r.labels["intensity_value"]), mean_positive_power_W(r, "knee"), r) for r in recs),
                  key=lambda t: t[0])


def values(data: StudyData) -> list[C.ModelValue]:
    """Knee power change with intensity per rider, hip share HLT minus LLT at the comparison intensity, per
    variant."""
    S = data.name
    hlt_name, llt_name = data.study.param("hlt_rider"), data.study.param("llt_rider")
    at_pct = float(data.study.param("compare_at_pct_vo2max"))
    vals: list[C.ModelValue] = []
    base = data.experiments[0].name
    llt = knee_series(data, base, llt_name)

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
    for exp_name, vlabel in variants:
        hlt = knee_series(data, exp_name, hlt_name) if exp_name == base else \
            knee_series(data, exp_name, variant_rider(data, exp_name, hlt_name))
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
    return vals


def variant_rider(data: StudyData, exp_name: str, default: str) -> str:
    """The rider a hypothesis file solves (it holds the HLT rider only, under its own profile name)."""
    names = sorted({r.labels["rider"] for r in data.find(exp_name)})
    return names[0] if names else default


