"""Ericson 1986 and Elmer et al. 2011: joint-specific power. Quantities from the stored solutions (page: toolkit/study/pages/classic.py); the study's
constants (named points, ranges, labels) are in studies/classic/study.toml."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Record, StudyData, action_shares_pct, max_activation, peak_action_power_W, shares_pct

ACTION_PAIR = {"hip_extension": "knee_extension", "knee_extension": "hip_extension"}


@dataclass
class Points:
    """The study's named points, found by the role of their experiment file (studies/classic/study.toml):
    Ericson's point (default and SENSITIVITY force set) and Elmer's sweep, ascending in power."""

    ericson: Record | None
    sensitivity: Record | None
    elmer: list[Record]
    elmer_range_W: tuple[float, float]
    actions: tuple[str, ...]
    sens_exp: str
    elmer_exp: str

    @property
    def ericson_W(self) -> float:
        r = self.ericson or self.sensitivity
        return float(r.labels["power_W"]) if r is not None else math.nan


def points(data: StudyData) -> Points:
    st = data.study
    exp_e, exp_s, exp_el = (st.experiment_name(k) for k in ("ericson", "sensitivity", "elmer"))

    def only(exp):
        rs = data.find(exp)
        return rs[0] if len(rs) == 1 else None

    lo, hi = (float(x) for x in st.param("elmer_range_W"))
    return Points(only(exp_e), only(exp_s), sorted(data.find(exp_el), key=lambda r: r.labels["power_W"]), (lo, hi),
                  tuple(st.param("ericson_actions")), exp_s, exp_el)


def point_where(r: Record) -> str:
    return f"{r.labels['power_W']:g} W, {r.labels['cadence_rpm']:g} rpm"


def pct(x: float) -> str:
    """A share in % with one decimal, or two significant digits below 0.1 (so small shares do not read 0.0)."""
    return f"{x:.1f}" if abs(x) >= 0.1 or x == 0 else f"{x:.2g}"


def pub_num(pub: Mapping, quantity: str) -> float | None:
    p = next((v for (_, q), v in pub.items() if q == quantity), None)
    return p.numeric if p is not None else None


def _other_clause(other: Record | None, what: str, value_of: Callable[[Record], float], names: Mapping) -> str:
    """'; with the <other force set> <what> is X %' (the other Ericson point, if solved)."""
    if other is None:
        return ""
    name = names.get(other.sol.setup.get("max_force_set", ""), "the other force set")
    return f"; with the {name} {what} is {pct(value_of(other))} %"


def _ericson_share_why(j: str, r: Record, other: Record | None, pub: Mapping, names: Mapping) -> str:
    a = action_shares_pct(r)
    pe, pf = pub_num(pub, f"ericson_{j}_extension_share_pct"), pub_num(pub, f"ericson_{j}_flexion_share_pct")
    ref = (f"Ericson {pe:g} + {pf:g} %" if pe is not None and pf is not None
           else f"Ericson extension {pe:g} %" if pe is not None else "")
    txt = (f"the model's {j} share is extension {pct(a[f'{j}_extension'])} % + flexion {pct(a[f'{j}_flexion'])} % of "
           f"the positive work" + (f" ({ref})" if ref else ""))
    return txt + _other_clause(other, f"the {j} share", lambda x: shares_pct(x)[j], names) + "; other causes not established"


def _ericson_action_why(k: str, r: Record, other: Record | None, pub: Mapping, names: Mapping) -> str:
    from ...model.muscles import MUSCLE_NAMES

    a = action_shares_pct(r)
    p = pub_num(pub, f"ericson_{k}_share_pct")
    name = k.replace("_", " ")
    txt = f"the model's {name} does {pct(a[k])} % of the positive work" + (f" (Ericson {p:g} %)" if p is not None else "")
    if k in ACTION_PAIR:
        k2 = ACTION_PAIR[k]
        p2 = pub_num(pub, f"ericson_{k2}_share_pct")
        txt += f", {k2.replace('_', ' ')} {pct(a[k2])} %" + (f" (Ericson {p2:g} %)" if p2 is not None else "")
    if k == "knee_flexion":
        act = dict(zip(MUSCLE_NAMES, r.sol["activation"].max(axis=1).tolist()))
        txt += (f"; the knee flexors are barely active (peak activation HAMS {act['HAMS']:.2f}, BFSH "
                f"{act['BFSH']:.2f})")
    txt += _other_clause(other, name, lambda x: action_shares_pct(x)[k], names)
    return txt + "; other causes not established"


def _ericson_peak_why(j: str, a_: str, r: Record, peak: float, pub: Mapping) -> str:
    share = action_shares_pct(r)[f"{j}_{a_}"]
    ps, pp = pub_num(pub, f"ericson_{j}_{a_}_share_pct"), pub_num(pub, f"ericson_peak_{j}_{a_}_power_W")
    if not ps or not pp:
        return ""
    rs, rp = share / ps, peak / pp
    txt = (f"the model's {j} {a_} share is {pct(share)} % vs Ericson's {ps:g} % ({rs:.2g} x) and its peak is "
           f"{rp:.2g} x Ericson's")
    if (j, a_) == ("knee", "flexion"):
        from ...model.muscles import MUSCLE_NAMES

        act = dict(zip(MUSCLE_NAMES, r.sol["activation"].max(axis=1).tolist()))
        txt += (f" (the knee flexors are barely active: peak activation HAMS {act['HAMS']:.2f}, BFSH "
                f"{act['BFSH']:.2f})")
    if (rs - 1.0) * (rp - 1.0) > 0:
        return txt + (": the peak differs in the same direction as the share; the rest of the gap (timing and shape "
                      f"of the power curve, the {r.sol.nodes}-node mesh) is not established")
    return txt + ": the peak and the share differ in opposite directions; cause not established"


def _ericson_values(r: Record, other: Record | None, label: str, pub: Mapping, sensitivity: bool,
                    pts: Points, names: Mapping) -> list[C.ModelValue]:
    S = "classic"
    out = []
    sh, act = shares_pct(r), action_shares_pct(r)
    for j in JOINTS:
        out.append(C.ModelValue(S, f"ericson_{j}_share_pct", label, sh[j], headline=True,
                                why=_ericson_share_why(j, r, other, pub, names), sensitivity=sensitivity))
    for k in pts.actions:
        out.append(C.ModelValue(S, f"ericson_{k}_share_pct", label, act[k], headline=k.startswith("hip"),
                                why=_ericson_action_why(k, r, other, pub, names), sensitivity=sensitivity))
    for k in pts.actions:
        j, a_ = k.split("_")
        pk = peak_action_power_W(r, j, a_)
        out.append(C.ModelValue(S, f"ericson_peak_{k}_power_W", label, pk, why=_ericson_peak_why(j, a_, r, pk, pub),
                                sensitivity=sensitivity))
    return out


def max_forces(r: Record) -> dict[str, float]:
    return {m: float(v["max_force_N"]) for m, v in r.sol.setup["muscles"].items()}


def values(data: StudyData) -> list[C.ModelValue]:
    """Ericson's shares, action shares and peaks (default and SENSITIVITY force set), Elmer's share changes over
    the range."""
    S = data.name
    vals: list[C.ModelValue] = []
    pub = C.published_index(data.study.published)
    pts = points(data)
    names = data.study.param("force_set_labels")
    e, es, elmer = pts.ericson, pts.sensitivity, pts.elmer
    lo, hi = pts.elmer_range_W
    at = e or es
    lab_e = f"free ankle, {point_where(at)}" if at is not None else "free ankle, Ericson point"
    lab_s = f"{data.study.param('sensitivity_label')}: {lab_e}"
    if e is None:
        vals.append(C.ModelValue(S, "ericson_knee_share_pct", lab_e, None, missing="point failed"))
    else:
        vals += _ericson_values(e, es, lab_e, pub, False, pts, names)
    in_range = [r for r in elmer if lo - 1e-9 <= r.labels["power_W"] <= hi + 1e-9]
    cad = f", {elmer[0].labels['cadence_rpm']:g} rpm" if elmer else ""
    lab_el = f"free ankle, {lo:g} -> {hi:g} W{cad}"
    have_range = (len(in_range) >= 2 and math.isclose(in_range[0].labels["power_W"], lo)
                  and math.isclose(in_range[-1].labels["power_W"], hi))
    if have_range:
        a0, a1 = action_shares_pct(in_range[0]), action_shares_pct(in_range[-1])
        unsat = [r for r in in_range if max_activation(r) <= 0.99]
        for q, k in (("elmer_knee_extension_share_change_pp", "knee_extension"),
                     ("elmer_knee_flexion_share_change_pp", "knee_flexion"),
                     ("elmer_hip_extension_share_change_pp", "hip_extension")):
            det = f"{k.replace('_', ' ')} {a0[k]:.1f} -> {a1[k]:.1f} %"
            if len(unsat) >= 2 and unsat[-1] is not in_range[-1]:
                au = action_shares_pct(unsat[-1])
                det += (f"; of this, {au[k] - a0[k]:+.1f} pp up to {unsat[-1].labels['power_W']:g} W, the highest "
                        "power without a fully activated muscle (the rest comes with saturation)")
            vals.append(C.ModelValue(S, q, lab_el, a1[k] - a0[k], detail=det,
                                     why=f"{det}; cause not established", headline=True))
        margins = []
        for r in in_range:
            a = action_shares_pct(r)
            other = max(v for k, v in a.items() if k != "hip_extension")
            margins.append((a["hip_extension"] - other, r, max(((v, k) for k, v in a.items()
                                                                 if k != "hip_extension"))[1]))
        m, r, k = min(margins, key=lambda t: t[0])
        largest = {max(action_shares_pct(x).items(), key=lambda kv: kv[1])[0] for x in in_range}
        if len(largest) == 1:
            big = next(iter(largest))
            why = (f"in the model {big.replace('_', ' ')} is the largest action at every power from "
                   f"{lo:g} to {hi:g} W ({a0[big]:.1f} -> {a1[big]:.1f} %; hip extension "
                   f"{a0['hip_extension']:.1f} -> {a1['hip_extension']:.1f} %)")
        else:
            why = "largest action by power: " + ", ".join(
                f"{x.labels['power_W']:g} W {max(action_shares_pct(x).items(), key=lambda kv: kv[1])[0].replace('_', ' ')}"
                for x in in_range)
        if es is not None and e is not None:
            why += (f"; at Ericson's {pts.ericson_W:g} W the one-head force set (SENSITIVITY rows) gives hip extension "
                    f"{action_shares_pct(es)['hip_extension']:.1f} % and knee extension "
                    f"{action_shares_pct(es)['knee_extension']:.1f} % (default: "
                    f"{action_shares_pct(e)['hip_extension']:.1f} and {action_shares_pct(e)['knee_extension']:.1f} %)")
        vals.append(C.ModelValue(S, "elmer_hip_extension_largest_margin_pp", lab_el, m,
                                 detail=f"at {r.labels['power_W']:g} W the largest action is "
                                        f"{k.replace('_', ' ') if m < 0 else 'hip extension'}",
                                 why=why + "; other causes not established", headline=True))
    else:
        vals.append(C.ModelValue(S, "elmer_knee_extension_share_change_pp", lab_el, None,
                                 missing=f"the model did not solve both {lo:g} and {hi:g} W"))
    # the sensitivity rows come last, after every default row
    if es is not None:
        vals += _ericson_values(es, e, lab_s, pub, True, pts, names)
    elif any(f.experiment == pts.sens_exp for f in data.failures) or len(data.experiments) > 1:
        vals.append(C.ModelValue(S, "ericson_knee_share_pct", lab_s, None, missing="sensitivity point not solved",
                                 sensitivity=True))
    return vals


