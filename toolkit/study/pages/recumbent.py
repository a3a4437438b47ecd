"""The recumbent study's page: the point table, the plausibility notes on the backrest choice and the figure, from
the stored files only (the quantities are toolkit.study.metrics.recumbent)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..base import Evaluation, StudyData, _f, _power_W, _save, mean_positive_power_W, shares_pct
from ..metrics.recumbent import and_join, fibre_lengths_norm, fibre_stretch, max_passive_force, records_by_fit, values


def evaluate(data: StudyData) -> Evaluation:
    """The values, the point table and the plausibility notes."""
    main, reclined, upright = (data.study.param(k) for k in ("main_fit", "reclined_fit", "upright_fit"))
    vals = values(data)
    rows = []
    header = ["fit", "trunk (deg)", "power W", "cadence rpm", "hip power W", "knee power W", "hip/knee", "hip %",
              "knee %", "hip ext / flex W", "knee neg. W", "pos. joint work / crank work", "hip flexion range (deg)",
              "knee flexion range (deg)", "most stretched fibre (L/Lopt)", "its max force / Fmax"]
    recs, fits = records_by_fit(data)
    for r in recs:
        hp, kp = mean_positive_power_W(r, "hip"), mean_positive_power_W(r, "knee")
        ratio = hp / kp if kp > 0 else math.nan
        P = float(r.labels["power_W"])
        fit = r.labels["fit"]
        m, ln, ff = fibre_stretch(r)
        sh = shares_pct(r)
        q = np.degrees(r.sol["q"])
        rows.append([fit, f"{r.sol.setup['fit']['trunk_angle_deg']:g}", f"{P:g}", f"{r.sol.spec.cadence_rpm:g}",
                     _f(hp), _f(kp), _f(ratio, ".2f"), _f(sh["hip"]), _f(sh["knee"]),
                     f"{_power_W(r, 'extension_work_J', 'hip'):.1f} / {_power_W(r, 'flexion_work_J', 'hip'):.1f}",
                     _f(_power_W(r, "negative_work_J", "knee")),
                     _f(r.summary.total_positive_joint_work_J / r.summary.crank_work_J, ".2f"),
                     f"{q[0].min():.0f} to {q[0].max():.0f}", f"{q[1].min():.0f} to {q[1].max():.0f}",
                     f"{m} {ln:.2f}", f"{ff:.2f}"])
    for fm in data.failures:
        rows.append([fm.labels.get("fit", "?"), "", str(fm.labels.get("power_W", "")), "", fm.status] + [""] * 11)
    notes: list[str] = []
    up, rc, rec = fits[upright], fits[main], fits[reclined]
    if up and rc:
        ru = [mean_positive_power_W(r, "hip") / mean_positive_power_W(r, "knee") for r in up]
        rr = [mean_positive_power_W(r, "hip") / mean_positive_power_W(r, "knee") for r in rc]
        notes.append(f"The recumbent geometry as modelled changes the ratio little: hip/knee {min(rr):.2f}-"
                     f"{max(rr):.2f} in the `{main}` fit vs {min(ru):.2f}-{max(ru):.2f} at the upright `{upright}` fit "
                     "over the same work rates.")
    if up:
        lu = fibre_lengths_norm(up[0])
        mu = max(lu, key=lu.get)
        if rc:
            lr = fibre_lengths_norm(rc[0])
            mr = max(lr, key=lr.get)
            longer = [m for m in lr if lr[m] > lu[m] + 5e-4]
            notes.append(
                f"Plausibility rule of the backrest choice (fixed before the `{main}` result was seen, with an "
                "earlier version of the model): no fibre longer than at the upright default fit. Measured now: the "
                f"longest fibre is {mr} {lr[mr]:.2f} Lopt in `{main}` vs {mu} {lu[mu]:.2f} at the upright fit, so "
                "the rule holds for the longest fibre"
                + ("; muscle by muscle, " + and_join([f"{m} ({lr[m]:.3f} vs {lu[m]:.3f})" for m in longer])
                   + (" is" if len(longer) == 1 else " are") + " slightly longer than upright, so it does not hold "
                   "strictly for every muscle." if longer else " and for every muscle."))
        if rec:
            m, ln, _ = fibre_stretch(rec[0])
            pf = max(max_passive_force(r, m) for r in rec)
            rr = [mean_positive_power_W(r, "hip") / mean_positive_power_W(r, "knee") for r in rec]
            r0 = rec[0]
            notes.append(
                f"Order of events, stated plainly: the first backrest tried (reclined, trunk "
                f"{r0.sol.setup['fit']['trunk_angle_deg']:g} deg) stretches {m} to "
                f"{ln:.2f} optimal fibre lengths, "
                + (f"beyond the longest fibre at the upright fit ({mu} {lu[mu]:.2f}), so it fails the plausibility "
                   "rule" if ln > lu[mu] else f"not beyond the longest fibre at the upright fit ({mu} {lu[mu]:.2f})")
                + f"; the study's `{main}` fit"
                + (f" (trunk {rc[0].sol.setup['fit']['trunk_angle_deg']:g} deg)" if rc else "")
                + f" was then chosen by that rule. {data.study.param('reclined_first_reason').format(muscle=m)} With "
                "the current per-muscle "
                f"passive parameters it peaks at {pf:.2f} x, so that reason no longer holds; the fit is kept as a "
                f"model-only contrast (hip/knee {min(rr):.2f}-{max(rr):.2f}; of its hip positive power, "
                f"{_power_W(r0, 'flexion_work_J', 'hip'):.1f} of {mean_positive_power_W(r0, 'hip'):.1f} W is hip "
                f"flexion at {r0.labels['power_W']:g} W).")
    if rc:
        tot = [(float(r.labels["power_W"]), r.summary.total_positive_joint_work_J / r.summary.crank_work_J)
               for r in rc]
        kn = [-_power_W(r, "negative_work_J", "knee") for r in rc]
        hn = [-_power_W(r, "negative_work_J", "hip") for r in rc]
        net = [(_power_W(r, "positive_work_J", "hip") + _power_W(r, "negative_work_J", "hip"))
               / (_power_W(r, "positive_work_J", "knee") + _power_W(r, "negative_work_J", "knee")) for r in rc]
        notes.append(
            f"In the `{main}` fit the total positive joint work is "
            + ", ".join(f"{t:.2f}" for _, t in tot) + " x the crank work at " + ", ".join(f"{P:g}" for P, _ in tot)
            + f" W (negative joint work makes up the rest). The knee absorbs {min(kn):.0f}-{max(kn):.0f} W (both legs) "
            f"at every work rate, the hip {max(hn):.1f} W at most, so at the lowest rates much of the knee's "
            "positive power is energy it absorbs again. For reference only (the comparison uses positive power, as "
            "stated in study.toml): the hip/knee ratio of net joint work is "
            + ", ".join(f"{x:.2f}" for x in net) + " at " + ", ".join(f"{P:g}" for P, _ in tot) + " W.")
    return Evaluation(vals, header, rows, notes)


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    """Hip vs knee power by work rate for each fit."""
    from ...plots.series import Line, Panel, series_figure

    main, reclined, upright = (data.study.param(k) for k in ("main_fit", "reclined_fit", "upright_fit"))
    lines = []
    for fit, st in ((main, "-"), (reclined, ":"), (upright, "--")):
        recs = sorted(data.find(fit=fit), key=lambda r: r.labels["power_W"])
        x = [r.labels["power_W"] for r in recs]
        lines += [Line(f"hip, {fit}", x, [mean_positive_power_W(r, "hip") for r in recs], st + "o", "tab:blue"),
                  Line(f"knee, {fit}", x, [mean_positive_power_W(r, "knee") for r in recs], st + "s", "tab:orange")]
    fig = series_figure([Panel(lines, "work rate, both legs (W)", "mean positive joint power, both legs (W)")],
                        f"Fixed ankle: hip vs knee power, {main} (solid), {reclined} (dotted, fails the fibre-length "
                        f"rule), {upright} (dashed)\nclaim D: approximately equal in the recumbent", size=(7.5, 4.4))
    return [_save(fig, sdir / "hip_knee_power.png")]
