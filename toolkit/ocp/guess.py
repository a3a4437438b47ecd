"""Initial guesses: deterministic, from the kinematics, or resampled from an earlier solution."""
from __future__ import annotations

import math

import numpy as np

from ..model.leg import LegModel, Setup
from .problem import ProblemSpec
from .solution import Solution
from .heel_drop import sole_upper_bound
from .transcription import DFT_SCALE, Transcription

GUESS_ACTIVATION = 0.1
GUESS_TENDON_FORCE = 0.05  # normalized tendon force (compliant tendon only)


def kinematic_guess(tr: Transcription, setup: Setup, spec: ProblemSpec, activation: float = GUESS_ACTIVATION,
                    ankle_offset_deg: float = 0.0) -> np.ndarray:
    """The documented default guess: the ankle held at the fit's typical BDC angle (plus an offset), the sole
    angle that follows from it over the cycle, clipped to the heel-drop bound, and all muscles at a constant
    moderate activation (excitation = activation)."""
    N = tr.nodes
    a = np.full((9, N), activation)
    ft = [np.full((9, N), GUESS_TENDON_FORCE)] if tr.compliant else []
    dft = [np.zeros((9, N))] if tr.compliant else []
    if tr.inertial:  # constant crank speed (omega^2 / mean^2 = 1), no acceleration
        ft, dft = ft + [np.ones((1, N))], dft + [np.zeros((1, N))]
    if tr.mode != "free":
        return tr.join(np.vstack([a, *ft]), np.vstack([a, *dft]))
    ankle_deg = setup.fit.ankle_at_bdc_deg + ankle_offset_deg
    if spec.condition == "range_limited":  # start inside the allowed range
        ankle_deg = min(max(ankle_deg, spec.ankle_range_deg[0]), spec.ankle_range_deg[1])
    ankle = math.radians(ankle_deg)
    vals = np.array([[float(v) for v in tr.model.fixed_ankle(t, ankle, setup.leg_params)] for t in tr.theta]).T
    phi, dphi, ddphi = vals
    if not np.all(np.isfinite(vals)):
        # The offset ankle cannot reach the pedal somewhere (the leg is too short with a dorsiflexed ankle):
        # fall back to the typical angle so every start is a valid point.
        if ankle_offset_deg != 0.0:
            return kinematic_guess(tr, setup, spec, activation, 0.0)
        raise ValueError("the leg cannot reach the pedal with the ankle at the fit's typical BDC angle")
    if spec.condition == "heel_drop":
        phi = np.minimum(phi, sole_upper_bound(tr.theta, spec) - 0.01)
    X = np.vstack([phi, dphi, a, *ft])
    U = np.vstack([ddphi, a, *dft])
    return tr.join(X, U)


def _periodic_resample(theta_old: np.ndarray, values: np.ndarray, theta_new: np.ndarray) -> np.ndarray:
    t = np.concatenate([theta_old, [2 * math.pi]])
    v = np.concatenate([values, values[..., :1]], axis=-1)
    return np.array([np.interp(theta_new, t, row) for row in np.atleast_2d(v)])


def guess_from_solution(tr: Transcription, sol: Solution, setup: Setup, spec: ProblemSpec) -> np.ndarray:
    """Warm start from any earlier solution (any mesh, any condition): resample its sole angle and muscle
    trajectories periodically onto this mesh. A sealed solution is used too (its trajectory is only a guess)."""
    arr = sol.arrays
    th = arr["theta"]
    a = np.clip(_periodic_resample(th, arr["activation"], tr.theta), 0.01, 1)
    e = np.clip(_periodic_resample(th, arr["excitation"], tr.theta), 0.01, 1)
    ft, dft = [], []
    if tr.compliant:
        f = np.clip(_periodic_resample(th, arr["force"], tr.theta) / setup.muscles.max_force[:, None], 0, 3)
        h = 2 * math.pi / tr.nodes
        rate = (np.roll(f, -1, axis=1) - np.roll(f, 1, axis=1)) / (2 * h) * spec.omega
        ft, dft = [f], [np.clip(rate / DFT_SCALE, -50, 50)]
    if tr.inertial:
        if "crank_speed" in arr:
            w = _periodic_resample(th, arr["crank_speed"], tr.theta)[0] / spec.omega
            acc = _periodic_resample(th, arr["crank_acceleration"], tr.theta)[0] / spec.omega**2
        else:
            w, acc = np.ones(tr.nodes), np.zeros(tr.nodes)
        ft, dft = ft + [w[None, :] ** 2], dft + [acc[None, :]]
    a, e = np.vstack([a, *ft]), np.vstack([e, *dft])
    if tr.mode != "free":
        return tr.join(a, e)
    phi, dphi, ddphi = _periodic_resample(th, np.vstack([arr["phi"], arr["dphi"], arr["ddphi"]]), tr.theta)
    if spec.condition == "heel_drop":
        phi = np.minimum(phi, sole_upper_bound(tr.theta, spec))
    return tr.join(np.vstack([phi, dphi, a]), np.vstack([ddphi, e]))
