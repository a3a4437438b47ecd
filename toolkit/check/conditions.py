"""The model check's conditions (canonical powers, cadences and ankle conditions, plus the Park et al. data's own)
and the per-joint/per-action work tables shared by the report, its page and its diagnostics."""
from __future__ import annotations

from ..analysis.power import cycle_summary
from ..model.leg import JOINTS
from .reference import load_park2022

CANONICAL = ((120.0, 60.0), (200.0, 90.0), (300.0, 90.0))
ANKLES = ("free", "fixed")
PARK = "park2022_free"


def condition_key(power_W: float, cadence_rpm: float, ankle: str) -> str:
    return f"{power_W:g}W_{cadence_rpm:g}rpm_{ankle}"


def conditions() -> dict[str, tuple[float, float, str]]:
    """Condition key -> (power_W, cadence_rpm, ankle condition): the canonical six plus the Park data's."""
    out = {condition_key(p, c, a): (p, c, a) for p, c in CANONICAL for a in ANKLES}
    park = load_park2022()
    out[PARK] = (round(park.power_W, 1), round(park.cadence_rpm, 2), "free")
    return out


def work_tables(sol) -> dict:
    """Work per cycle, one leg (J): positive/negative/net per joint; positive and negative per action (the action
    is the sign of the net moment: extension = extensor moment, i.e. negative in the flexion-positive convention)."""
    import numpy as np

    from ..analysis.power import joint_power
    from ..analysis.summary import ACTIONS

    cs = cycle_summary(sol)
    P, M, dt = joint_power(sol), sol["moment"], sol.node_dt
    action, action_neg = {}, {}
    for i, j in enumerate(JOINTS):
        ext, flx = ACTIONS[j]
        action[ext] = cs.extension_work_J[j]
        action[flx] = cs.flexion_work_J[j]
        action_neg[ext] = float((np.where(M[i] < 0, np.minimum(P[i], 0), 0) * dt).sum())
        action_neg[flx] = float((np.where(M[i] >= 0, np.minimum(P[i], 0), 0) * dt).sum())
    return {"positive": cs.positive_work_J, "negative": cs.negative_work_J, "net": cs.net_work_J,
            "action": action, "action_negative": action_neg, "total_positive": cs.total_positive_joint_work_J,
            "crank": cs.crank_work_J}
