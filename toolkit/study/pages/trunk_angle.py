"""The trunk-angle study's page: the fit table, the notes on the solved hip angles and joint-action powers, and the
figures, from the stored files only (the quantities are toolkit.study.metrics.trunk_angle)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Evaluation, StudyData, _f, _save, max_activation, mean_positive_power_W, shares_pct
from ..metrics.trunk_angle import values


def evaluate(data: StudyData) -> Evaluation:
    """The values, the fit table and the notes on the solved hip angles and joint-action powers."""
    labels = data.study.param("fit_labels")
    vals = values(data)
    powers = sorted({float(r.labels["power_W"]) for r in data.records})
    header = ["fit", "trunk (deg)", "power W", "hip %", "knee %", "ankle %", "mean hip flexion (deg)",
              "hip power W", "knee power W", "max activation"]
    rows = []
    for r in data.records:
        sh = shares_pct(r)
        rows.append([r.labels["fit"], f"{r.sol.setup['fit']['trunk_angle_deg']:g}", f"{r.sol.spec.power_W:g}",
                     _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                     _f(float(np.degrees(r.sol["q"][0]).mean())), _f(mean_positive_power_W(r, "hip"), ".0f"),
                     _f(mean_positive_power_W(r, "knee"), ".0f"), _f(max_activation(r), ".2f")])
    notes: list[str] = []
    for P in powers:
        fits = [(f, data.one(fit=f, power_W=P)) for f in labels]
        fits = [(f, r) for f, r in fits if r is not None]
        if len(fits) < 2:
            continue
        mh = [float(np.degrees(r.sol["q"][0]).mean()) for _, r in fits]
        steps = ", ".join(f"{b - a:+.1f}" for a, b in zip(mh, mh[1:]))
        T = {f: r.sol.period_s for f, r in fits}

        def pw(kind, j):
            return ", ".join(f"{2.0 * getattr(r.summary, kind)[j] / T[f]:.0f}" for f, r in fits)

        # the pelvis tilts one-to-one with the trunk, so the hip flexion of an unchanged leg motion moves by
        # minus the trunk change between successive fits
        trunk = [float(r.sol.setup["fit"]["trunk_angle_deg"]) for _, r in fits]
        want = [-(b - a) for a, b in zip(trunk, trunk[1:])]
        same = all(abs((b - a) - w) < 0.05 for (a, b), w in zip(zip(mh, mh[1:]), want))
        notes.append(
            f"At {P:g} W the mean hip flexion over the cycle moves by {steps} deg between successive fits "
            f"({' -> '.join(f for f, _ in fits)})"
            + (": the solved leg motion is the same in every fit. " if same else
               f", not exactly minus the trunk change ({', '.join(f'{w:+g}' for w in want)} deg): the solved leg motion differs slightly between the fits (the free ankle is "
               "re-optimized in each). ")
            + f"Mean positive power, both legs, in that order: hip extension {pw('extension_work_J', 'hip')} W, hip flexion {pw('flexion_work_J', 'hip')} W, "
            f"knee extension {pw('extension_work_J', 'knee')} W, knee flexion {pw('flexion_work_J', 'knee')} W.")
    for fm in data.failures:
        rows.append([fm.labels.get("fit", "?"), "", str(fm.labels.get("power_W", "")), fm.status, "", "", "", "",
                     "", ""])
    return Evaluation(vals, header, rows, notes)


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    """Joint shares and joint power by trunk position."""
    from ...plots import figures as F

    labels = data.study.param("fit_labels")
    items = {labels.get(r.labels["fit"], r.labels["fit"]): r.sol for r in
             sorted(data.records, key=lambda r: list(labels).index(r.labels["fit"])
                    if r.labels["fit"] in labels else len(labels))}
    if not items:
        return []
    P = next(iter(items.values())).spec.power_W
    return [_save(F.joint_shares_bar_figure(items, title=f"Joint shares at {P:g} W by trunk position"),
                  sdir / "joint_shares.png"),
            _save(F.joint_power_figure(items, title=f"Joint power at {P:g} W by trunk position"),
                  sdir / "joint_power.png")]
