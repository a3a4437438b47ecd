"""Initial guesses: deterministic, from the kinematics, or resampled from an earlier solution."""
from __future__ import annotations

import math

import numpy as np

from ..model.leg import Setup
from .conditions import BOUNDS, condition_for
from .problem import ProblemSpec
from .solution import Solution
from .transcription import DFT_SCALE, Transcription

GUESS_ACTIVATION = 0.1
GUESS_TENDON_FORCE = 0.05  # normalized tendon force (compliant tendon only)
GUESS_SOLE_MARGIN_RAD = 0.01  # a cold start sits this far inside the sole-angle bound (strictly interior)


def kinematic_guess(tr: Transcription, setup: Setup, spec: ProblemSpec, activation: float = GUESS_ACTIVATION,
                    ankle_offset_deg: float = 0.0) -> np.ndarray:
    """The documented default guess: the ankle held at the fit's typical BDC angle (plus an offset), the sole
    angle that follows from it over the cycle, moved inside the condition's sole-angle bound (heel drop), and all
    muscles at a constant moderate activation (excitation = activation)."""
    N = tr.nodes
    a = np.full((9, N), activation)
    ft = [np.full((9, N), GUESS_TENDON_FORCE)] if tr.compliant else []
    dft = [np.zeros((9, N))] if tr.compliant else []
    if tr.inertial:  # constant crank speed (omega^2 / mean^2 = 1), no acceleration
        ft, dft = ft + [np.ones((1, N))], dft + [np.zeros((1, N))]
    if not tr.sole_free:
        return tr.join(np.vstack([a, *ft]), np.vstack([a, *dft]))
    cond = condition_for(spec)
    ankle_deg = cond.guess_ankle_deg(spec, setup.fit.ankle_at_bdc_deg + ankle_offset_deg)
    ankle = math.radians(ankle_deg)
    vals = np.array([[float(v) for v in tr.model.fixed_ankle(t, ankle, setup.leg_params)] for t in tr.theta]).T
    phi, dphi, ddphi = vals
    if not np.all(np.isfinite(vals)):
        # The offset ankle cannot reach the pedal somewhere (the leg is too short with a dorsiflexed ankle):
        # fall back to the typical angle so every start is a valid point.
        if ankle_offset_deg != 0.0:
            return kinematic_guess(tr, setup, spec, activation, 0.0)
        raise ValueError("the leg cannot reach the pedal with the ankle at the fit's typical BDC angle")
    phi = cond.guess_sole(tr.theta, phi, spec, GUESS_SOLE_MARGIN_RAD)
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
    a = np.clip(_periodic_resample(th, arr["activation"], tr.theta), *BOUNDS.activation)
    e = np.clip(_periodic_resample(th, arr["excitation"], tr.theta), *BOUNDS.activation)
    ft, dft = [], []
    if tr.compliant:
        f = np.clip(_periodic_resample(th, arr["force"], tr.theta) / setup.muscles.max_force[:, None],
                    *BOUNDS.tendon_force)
        h = 2 * math.pi / tr.nodes
        rate = (np.roll(f, -1, axis=1) - np.roll(f, 1, axis=1)) / (2 * h) * spec.omega
        ft, dft = [f], [np.clip(rate / DFT_SCALE, *BOUNDS.tendon_force_rate)]
    if tr.inertial:
        if "crank_speed" in arr:
            w = _periodic_resample(th, arr["crank_speed"], tr.theta)[0] / spec.omega
            acc = _periodic_resample(th, arr["crank_acceleration"], tr.theta)[0] / spec.omega**2
        else:
            w, acc = np.ones(tr.nodes), np.zeros(tr.nodes)
        ft, dft = ft + [w[None, :] ** 2], dft + [acc[None, :]]
    a, e = np.vstack([a, *ft]), np.vstack([e, *dft])
    if not tr.sole_free:
        return tr.join(a, e)
    phi, dphi, ddphi = _periodic_resample(th, np.vstack([arr["phi"], arr["dphi"], arr["ddphi"]]), tr.theta)
    phi = condition_for(spec).guess_sole(tr.theta, phi, spec)
    return tr.join(np.vstack([phi, dphi, a]), np.vstack([ddphi, e]))
