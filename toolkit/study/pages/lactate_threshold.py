"""The lactate-threshold study's page: a finding-by-finding verdict per hypothesis, the identical-problems note, the
point table and the figure, from the stored files only (the quantities are toolkit.study.metrics.lactate_threshold)."""
from __future__ import annotations

from pathlib import Path

from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Evaluation, StudyData, _f, _save, max_activation, mean_positive_power_W, shares_pct
from ..metrics.lactate_threshold import _field, knee_series, rider_differences, values, variant_rider


def evaluate(data: StudyData) -> Evaluation:
    """The values, a finding-by-finding verdict per variant, the identical-problems note and the point table."""
    S = data.name
    hlt_name, llt_name = data.study.param("hlt_rider"), data.study.param("llt_rider")
    at_pct = float(data.study.param("compare_at_pct_vo2max"))
    vals = values(data)
    by = {(v.quantity, v.label): v.value for v in vals}
    summary = [(v.label, by.get(("hlt_knee_power_change_pct", f"HLT, {v.label}")),
                by.get(("hip_share_hlt_minus_llt_at_90_pp", f"HLT, {v.label}"))) for v in data.study.variants]
    base = data.experiments[0].name
    llt, hlt_base = knee_series(data, base, llt_name), knee_series(data, base, hlt_name)
    notes: list[str] = []
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


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    """Knee power and hip share vs intensity, baseline and hypotheses."""
    from ...plots.series import Line, Panel, series_figure

    base = data.experiments[0].name
    hlt, llt = data.study.param("hlt_rider"), data.study.param("llt_rider")
    at_pct = float(data.study.param("compare_at_pct_vo2max"))
    series = {"LLT (baseline)": knee_series(data, base, llt),
              "HLT (baseline, identical to LLT)": knee_series(data, base, hlt)}
    for e, v in zip(data.experiments[1:], data.study.variants[1:]):
        series[f"HLT, {v.label}"] = knee_series(data, e.name, variant_rider(data, e.name, hlt))
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
