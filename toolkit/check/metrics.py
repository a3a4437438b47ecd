"""The quantities the model check compares, computed from solutions only (no reference numbers here).

`solution_metrics(sol)` returns a flat dict metric key -> value (keys are the `quantity` column of
reference_values.csv). Curves are resampled on crank angle with the periodic spline of
toolkit.analysis.resample (1-deg grid) so that peak angles do not depend on the mesh spacing; cycle integrals use
the same grid. Conventions: crank angle 0 = TDC (deg), joint moments flexion/dorsiflexion +, sole angle toe-down +.

- peak_resultant_pedal_force_N / _angle_deg, peak_tangential_force_N / _angle_deg, index_of_effectiveness
- sole_angle_min_deg, sole_angle_max_deg
- peak_<action>_moment_Nm / _angle_deg for hip_extension, hip_flexion, knee_extension, knee_flexion,
  ankle_plantarflexion, ankle_dorsiflexion (magnitudes; extension = negative net moment)
- peak_<action>_power_W: peak concentric power of each action; ankle_plantarflexor_negative_work_J: eccentric
  plantarflexor work per cycle (magnitude; the grid integral assumes a constant crank speed)
- knee_flexor_moment_onset_deg: first crank angle from TDC where the net knee moment turns from extensor
  (< 0) to flexor (>= 0); 'never' when it does not
- share_<joint>_pct, share_<action>_pct (of total positive joint work), net_share_<joint>_pct, largest_action
- downstroke_work_fraction, downstroke_positive_work_fraction: one leg's (net, positive) crank work over
  0-180 deg / its (net, positive) cycle crank work
- <MUSCLE>_fibre_length_min_norm / _max_norm: fibre length / optimal fibre length over the cycle
- <MUSCLE>_<k>_activation_in_emg_range: fraction of the cycle integral of (activation - floor) inside the k-th
  published on-range of that muscle
"""
from __future__ import annotations

import numpy as np

from ..analysis.cycle_curves import GRID, normalized_fibre_length, on_grid, pedal_components
from ..analysis.emg import load_emg_on_ranges
from ..analysis.pedal import index_of_effectiveness
from ..analysis.power import cycle_summary
from ..analysis.resample import resample_periodic
from ..analysis.summary import ACTION_KEYS, ACTIONS, net_work_share, work_share_by_action
from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES

def _peak(values: np.ndarray) -> tuple[float, float]:
    i = int(np.argmax(values))
    return float(values[i]), float(GRID[i])


def moment_metrics(sol) -> dict[str, float]:
    M = on_grid(sol, sol["moment"])
    out = {}
    for i, j in enumerate(JOINTS):
        ext, flx = ACTIONS[j]
        for key, series in ((ext, -M[i]), (flx, M[i])):
            v, a = _peak(series)
            out[f"peak_{key}_moment_Nm"] = max(0.0, v)
            out[f"peak_{key}_moment_angle_deg"] = a if v > 0 else None
    knee = M[1]
    onset = "never"
    for k in range(1, len(GRID)):
        if knee[k - 1] < 0 <= knee[k]:
            onset = float(GRID[k])
            break
    out["knee_flexor_moment_onset_deg"] = onset
    return out


def action_power_metrics(sol) -> dict[str, float]:
    """Peak concentric power of each action (W; positive joint power with that action's moment sign) and the
    ankle's negative work with a plantarflexor moment (J per cycle, magnitude), as Ericson (1986) reports them."""
    M = on_grid(sol, sol["moment"])
    P = M * on_grid(sol, sol["qdot"])
    out = {}
    for i, j in enumerate(JOINTS):
        ext, flx = ACTIONS[j]
        out[f"peak_{ext}_power_W"] = float(np.max(np.where(M[i] < 0, np.maximum(P[i], 0.0), 0.0)))
        out[f"peak_{flx}_power_W"] = float(np.max(np.where(M[i] >= 0, np.maximum(P[i], 0.0), 0.0)))
    dt = sol.period_s / len(GRID)
    out["ankle_plantarflexor_negative_work_J"] = float(-np.sum(np.where(M[2] < 0, np.minimum(P[2], 0.0), 0.0)) * dt)
    return out


def downstroke_work_fractions(sol) -> tuple[float, float]:
    """(net, positive): one leg's crank work over 0-180 deg / its cycle work, and the same for positive work only
    (torque on the 1-deg grid; the work is the integral of torque over crank angle). A net fraction above 1 means
    negative crank work in the upstroke."""
    tau = on_grid(sol, sol["crank_torque"])
    pos = np.maximum(tau, 0.0)
    return float(tau[:180].sum() / tau.sum()), float(pos[:180].sum() / pos.sum())


def activation_in_ranges(sol) -> dict[str, float]:
    """Per published EMG on-range: the fraction of the integral of (activation - floor) inside the range."""
    a = on_grid(sol, sol["activation"], method="linear")
    floor = float(getattr(sol.spec, "activation_floor", 0.0))
    excess = np.clip(a - floor, 0.0, None)
    out, counts = {}, {}
    for r in load_emg_on_ranges():
        counts[r.model_muscle] = counts.get(r.model_muscle, 0) + 1
        i = MUSCLE_NAMES.index(r.model_muscle)
        total = excess[i].sum()
        inside = excess[i][r.contains(GRID)].sum()
        out[f"{r.model_muscle}_{counts[r.model_muscle]}_activation_in_emg_range"] = (
            float(inside / total) if total > 0 else None)
    return out


def solution_metrics(sol) -> dict:
    """Every compared quantity of one solved condition (see the module docstring)."""
    cs = cycle_summary(sol)
    pf = pedal_components(sol)
    out: dict = {"index_of_effectiveness": index_of_effectiveness(sol)}
    out["peak_resultant_pedal_force_N"], out["peak_resultant_pedal_force_angle_deg"] = _peak(pf["resultant"])
    out["peak_tangential_force_N"], out["peak_tangential_force_angle_deg"] = _peak(pf["tangential"])
    sole = np.degrees(on_grid(sol, sol["phi"]))
    out["sole_angle_min_deg"], out["sole_angle_max_deg"] = float(sole.min()), float(sole.max())
    out.update(moment_metrics(sol))
    out.update(action_power_metrics(sol))
    for j, v in cs.joint_work_share.items():
        out[f"share_{j}_pct"] = 100.0 * v
    by_action = work_share_by_action(cs)
    for k, v in by_action.items():
        out[f"share_{k}_pct"] = 100.0 * v
    for j, v in net_work_share(cs).items():
        out[f"net_share_{j}_pct"] = 100.0 * v
    out["largest_action"] = max(ACTION_KEYS, key=lambda k: by_action[k])
    out["downstroke_work_fraction"], out["downstroke_positive_work_fraction"] = downstroke_work_fractions(sol)
    ln = normalized_fibre_length(sol)
    for i, m in enumerate(MUSCLE_NAMES):
        out[f"{m}_fibre_length_min_norm"] = float(ln[i].min())
        out[f"{m}_fibre_length_max_norm"] = float(ln[i].max())
    out.update(activation_in_ranges(sol))
    return out


def park_metrics(sol, park) -> dict:
    """Fractions of the measured samples (every 5 deg, 0-355) where the model lies within mean +- 1 SD: fore-aft
    and vertical pedal force, and the sole angle vs the pedal angle mapped to the foot line (+13 deg)."""
    ang = park.crank_angle_deg[:-1] if park.crank_angle_deg[-1] == 360 else park.crank_angle_deg
    n = len(ang)
    fx, fy = resample_periodic(sol["theta"], sol["pedal_force"], ang)
    sole = np.degrees(resample_periodic(sol["theta"], sol["phi"], ang))

    def frac(model, mean, sd):
        return float(np.mean(np.abs(model - mean[:n]) <= sd[:n]))

    return {"fx_within_1sd_fraction": frac(fx, park.fx_mean, park.fx_sd),
            "fy_within_1sd_fraction": frac(fy, park.fy_mean, park.fy_sd),
            "sole_within_1sd_fraction": frac(sole, park.foot_line_angle, park.pedal_angle_sd)}
