"""Pedal forces in the crank frame, index of effectiveness and the crank torque of both legs.

Conventions (toolkit-wide): x forward, y up, crank angle theta 0 at TDC increasing in the pedaling direction,
pedal spindle at c (sin theta, cos theta). `sol["pedal_force"]` is the force of the foot on the pedal (N).

- tangential force F_t = F . (cos theta, -sin theta): along the pedal's direction of travel, positive = driving
  the crank; F_t x crank length = the crank torque of that leg (isokinetic crank, no crank inertia term).
- radial force F_r = F . (sin theta, cos theta): along the crank, positive = outward (pulling the crank arm
  away from the bottom bracket); pushing down at BDC gives F_r > 0, pushing down at TDC gives F_r < 0.
- index of effectiveness IE = integral of F_t dt / integral of |F| dt over the cycle (LaFortune & Cavanagh 1983
  use the impulse ratio); 1 = all force perpendicular to the crank and driving.
- both-legs crank torque: the other leg pedals the same cycle half a cycle later, so at node k its torque is
  the first leg's torque at node k - N/2: tau_both = tau + roll(tau, N/2). Its mean x omega is the work rate.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..model.kinematics import LEG_PARAM_NAMES


def crank_length(sol) -> float:
    """Crank length (m) of the solution's fit (leg parameter vector, else the fit)."""
    setup = sol.setup
    if "leg_params" in setup:
        return float(setup["leg_params"][LEG_PARAM_NAMES.index("crank_length")])
    return float(setup["fit"]["crank_length_m"])


def tangential_force(sol) -> np.ndarray:
    """Pedal force perpendicular to the crank (N), (N,); positive drives the crank."""
    th = sol["theta"]
    F = sol["pedal_force"]
    return F[0] * np.cos(th) - F[1] * np.sin(th)


def radial_force(sol) -> np.ndarray:
    """Pedal force along the crank (N), (N,); positive outward (away from the bottom bracket)."""
    th = sol["theta"]
    F = sol["pedal_force"]
    return F[0] * np.sin(th) + F[1] * np.cos(th)


def resultant_force(sol) -> np.ndarray:
    """Magnitude of the pedal force (N), (N,)."""
    return np.hypot(*sol["pedal_force"])


def index_of_effectiveness(sol) -> float:
    """Cycle impulse of the tangential force / cycle impulse of the resultant force (one leg)."""
    dt = sol.node_dt
    return float((tangential_force(sol) * dt).sum() / (resultant_force(sol) * dt).sum())


def half_cycle_shift(values: np.ndarray) -> np.ndarray:
    """The other leg's values at the same nodes: shifted by half a cycle (N/2 nodes, N even) on the last axis."""
    n = np.shape(values)[-1]
    if n % 2:
        raise ValueError(f"half_cycle_shift: {n} nodes (allowed: an even number)")
    return np.roll(values, n // 2, axis=-1)


def both_legs_crank_torque(sol) -> np.ndarray:
    """Crank torque of both legs (N m), (N,): this leg plus the other leg half a cycle later."""
    tau = sol["crank_torque"]
    return tau + half_cycle_shift(tau)


@dataclass(frozen=True)
class PedalSummary:
    """Per-cycle pedal-force figures of one leg (forces in N, torques in N m, angles in deg)."""

    index_of_effectiveness: float
    peak_tangential_force_N: float
    peak_tangential_force_angle_deg: float
    min_tangential_force_N: float
    min_tangential_force_angle_deg: float
    peak_resultant_force_N: float
    mean_both_legs_torque_Nm: float
    min_both_legs_torque_Nm: float
    max_both_legs_torque_Nm: float

    def to_dict(self) -> dict:
        return asdict(self)


def pedal_summary(sol) -> PedalSummary:
    """Index of effectiveness, tangential-force peaks (node values) and the both-legs torque range."""
    ft = tangential_force(sol)
    deg = np.degrees(sol["theta"])
    both = both_legs_crank_torque(sol)
    i, j = int(np.argmax(ft)), int(np.argmin(ft))
    return PedalSummary(
        index_of_effectiveness=index_of_effectiveness(sol),
        peak_tangential_force_N=float(ft[i]), peak_tangential_force_angle_deg=float(deg[i]),
        min_tangential_force_N=float(ft[j]), min_tangential_force_angle_deg=float(deg[j]),
        peak_resultant_force_N=float(resultant_force(sol).max()),
        mean_both_legs_torque_Nm=float(both.mean()), min_both_legs_torque_Nm=float(both.min()),
        max_both_legs_torque_Nm=float(both.max()),
    )


@dataclass(frozen=True)
class PedalForceSources:
    """The pedal force split by where it comes from (N, (2, N) each, x forward / y up, force of the foot on the
    pedal): `joint_moments` is what the net joint moments push through the leg, `inertia_gravity` what the leg's
    own weight and accelerations add (the pedal force with all joint moments zero). Their sum is the pedal force.
    Cycle impulses (N s, one leg) of the tangential component: upstroke (180-360 deg) negative impulse of each."""

    joint_moments: np.ndarray
    inertia_gravity: np.ndarray
    upstroke_negative_impulse_Ns: dict

    def to_dict(self) -> dict:
        return {"upstroke_negative_impulse_Ns": self.upstroke_negative_impulse_Ns}


def pedal_force_sources(sol, model=None) -> PedalForceSources:
    """Split the pedal force into the part the joint moments produce and the part the leg's weight and
    inertia produce, from the open-chain dynamics at every node: F = (J J^T)^-1 J (tau_net - tau_open)."""
    from ..model.leg import LegModel

    m = model if model is not None else LegModel()
    p = np.asarray(sol.setup["leg_params"], dtype=float)
    n = len(sol["theta"])
    fm, fi = np.zeros((2, n)), np.zeros((2, n))
    for k in range(n):
        tau_open, J = m.open_chain(sol["q"][:, k], sol["qdot"][:, k], sol["qddot"][:, k], p)
        J = np.array(J)
        A = np.linalg.solve(J @ J.T, J)
        fm[:, k] = A @ sol["moment"][:, k]
        fi[:, k] = -A @ np.array(tau_open).ravel()
    th, dt = sol["theta"], sol.node_dt
    up = th >= np.pi
    def neg_up(f):
        ft = f[0] * np.cos(th) - f[1] * np.sin(th)
        return float((np.minimum(ft, 0) * dt)[up].sum())
    return PedalForceSources(fm, fi, {"joint_moments": neg_up(fm), "inertia_gravity": neg_up(fi),
                                      "total": neg_up(fm + fi)})
