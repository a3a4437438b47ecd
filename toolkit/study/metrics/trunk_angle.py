"""Claim C: trunk angle changes the hip angle by +-10 deg. Quantities from the stored solutions (page:
toolkit/study/pages/trunk_angle.py); the study's
constants are in studies/trunk_angle/study.toml."""
from __future__ import annotations

from .. import comparison as C
from ..base import StudyData, shares_pct


def values(data: StudyData) -> list[C.ModelValue]:
    """Hip and knee share at the opened minus the closed hip angle, per power."""
    S = data.name
    closed, opened, ref = (data.study.param(k) for k in ("closed_fit", "open_fit", "reference_fit"))
    vals: list[C.ModelValue] = []
    powers = sorted({float(r.labels["power_W"]) for r in data.records})
    for P in powers:
        o, c, i = (data.one(fit=f, power_W=P) for f in (opened, closed, ref))
        for q, j in (("hip_share_open_minus_closed_pp", "hip"), ("knee_share_open_minus_closed_pp", "knee")):
            if o is None or c is None:
                vals.append(C.ModelValue(S, q, f"{P:g} W", None, missing="a fit's point is missing"))
                continue
            mid = f", {ref} {shares_pct(i)[j]:.1f} %" if i is not None else ""
            vals.append(C.ModelValue(S, q, f"{P:g} W, free ankle", shares_pct(o)[j] - shares_pct(c)[j],
                                     detail=f"{j} share: {closed} {shares_pct(c)[j]:.1f} %{mid}, {opened} "
                                            f"{shares_pct(o)[j]:.1f} %",
                                     headline=(j == "hip" and P == powers[-1])))
    return vals


