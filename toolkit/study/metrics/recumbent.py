"""Claim D: recumbent with the ankle immobilized, hip vs knee power. Quantities from the stored solutions (page: toolkit/study/pages/recumbent.py); the
study's constants are in studies/recumbent/study.toml."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import comparison as C
from ..base import Record, StudyData, _power_W, mean_positive_power_W


def fibre_lengths_norm(r: Record) -> dict[str, float]:
    """Longest fibre length over the cycle / optimal fibre length, per muscle."""
    from ...model.muscles import MUSCLE_NAMES

    mus = r.sol.setup["muscles"]
    lopt = np.array([mus[m]["optimal_fiber_length_m"] for m in MUSCLE_NAMES])
    ln = (r.sol["fiber_length"] / lopt[:, None]).max(axis=1)
    return dict(zip(MUSCLE_NAMES, ln.tolist()))


def fibre_stretch(r: Record) -> tuple[str, float, float]:
    """(muscle, max fibre length / optimal, max force / max isometric force of that muscle) of the most
    stretched muscle over the cycle: a plausibility check of the fit (a fibre's passive force reaches its max
    isometric force at 1 + passive_strain_at_one optimal lengths, toolkit/model/data/muscles.csv)."""
    from ...model.muscles import MUSCLE_NAMES

    mus = r.sol.setup["muscles"]
    fmax = np.array([mus[m]["max_force_N"] for m in MUSCLE_NAMES])
    ln = fibre_lengths_norm(r)
    m = max(ln, key=ln.get)
    i = MUSCLE_NAMES.index(m)
    return m, float(ln[m]), float((r.sol["force"][i] / fmax[i]).max())


def max_passive_force(r: Record, muscle: str) -> float:
    """Largest normalized passive fibre force (x max isometric force) of a muscle over the cycle."""
    from ...model.muscles import MUSCLE_NAMES

    return float(r.sol["passive"][MUSCLE_NAMES.index(muscle)].max())


def and_join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _recumbent_why(r: Record, series: Sequence[Record]) -> str:
    """Why the hip/knee ratio might not be ~1, from the solutions: which joint actions do the positive work,
    the knee's negative work, and how the ratio moves with work rate."""
    ke, kf = _power_W(r, "extension_work_J", "knee"), _power_W(r, "flexion_work_J", "knee")
    he, hf = _power_W(r, "extension_work_J", "hip"), _power_W(r, "flexion_work_J", "hip")
    kn, hn = -_power_W(r, "negative_work_J", "knee"), -_power_W(r, "negative_work_J", "hip")
    ratios = [(float(x.labels["power_W"]), mean_positive_power_W(x, "hip") / mean_positive_power_W(x, "knee"))
              for x in series]
    trend = ""
    if len(ratios) >= 2:
        (p0, r0), (p1, r1) = ratios[0], ratios[-1]
        word = "rises" if r1 > r0 else "falls"
        trend = f"; over {p0:g}-{p1:g} W the ratio {word} from {r0:.2f} to {r1:.2f}"
    big = "hip" if he + hf > ke + kf else "knee"
    return (f"in the model the {big} does more of the positive work (hip extension {he:.0f} W and hip flexion "
            f"{hf:.0f} W vs knee extension {ke:.0f} W and knee flexion {kf:.0f} W, both legs), and the knee absorbs "
            f"{kn:.0f} W (the hip {hn:.1f} W){trend}; the study's seat, backrest, crank position and cadence are "
            f"unknown, and why the model's {big} dominates is not established")


def records_by_fit(data: StudyData) -> tuple[list[Record], dict[str, list[Record]]]:
    """The records in table order (fits as in study.toml, then power), and by fit."""
    order = list(data.study.param("fit_labels"))
    recs = sorted(data.records, key=lambda r: (order.index(r.labels["fit"]) if r.labels["fit"] in order else 9,
                                               r.labels["power_W"]))
    return recs, {f: [r for r in recs if r.labels["fit"] == f] for f in order}


def values(data: StudyData) -> list[C.ModelValue]:
    """Hip/knee positive power ratio per fit and work rate (the claim is read at the study's recumbent fit)."""
    S = data.name
    labels = data.study.param("fit_labels")
    main, upright = data.study.param("main_fit"), data.study.param("upright_fit")
    recs, fits = records_by_fit(data)
    vals: list[C.ModelValue] = []
    for r in recs:
        hp, kp = mean_positive_power_W(r, "hip"), mean_positive_power_W(r, "knee")
        ratio = hp / kp if kp > 0 else math.nan
        P = float(r.labels["power_W"])
        fit = r.labels["fit"]
        m, ln, ff = fibre_stretch(r)
        det = f"hip {hp:.1f} W, knee {kp:.1f} W (both legs); most stretched fibre {m} {ln:.2f} Lopt"
        if fit == main:
            vals.append(C.ModelValue(S, "hip_to_knee_power_ratio", f"{labels[fit]}, fixed ankle, {P:g} W",
                                     ratio, detail=det, why=_recumbent_why(r, fits[main]), headline=True))
        else:
            vals.append(C.ModelValue(S, f"hip_to_knee_power_ratio_{'reclined' if fit != upright else 'upright'}",
                                     f"{labels.get(fit, fit)}, fixed ankle, {P:g} W", ratio, detail=det))
    return vals


