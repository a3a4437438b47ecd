"""Joint power and work over a solved cycle, each joint's share, and the energy balance.

Definitions (as in joint-specific power studies, e.g. Elmer et al. 2011): joint power = net joint moment x
joint angular velocity. Positive power with an extensor moment (moment < 0 in the toolkit's flexion-positive
convention; plantarflexor moment at the ankle) is 'extension' action; with a flexor (dorsiflexor) moment it is
'flexion' action. Work per cycle = integral of power over one cycle (periodic trapezoid = mean x period).
Shares are fractions of the total positive joint work of hip, knee and ankle.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.leg import JOINTS
from ..ocp.solution import Solution


def joint_power(sol: Solution) -> np.ndarray:
    """Joint powers (W), shape (3, N): hip, knee, ankle of one leg."""
    return sol["moment"] * sol["qdot"]


def crank_power(sol: Solution) -> np.ndarray:
    """Power (W) delivered to the crank by one leg at each node."""
    return sol["crank_torque"] * sol.spec.omega


@dataclass(frozen=True)
class CycleSummary:
    """Per-cycle work of one leg (J) and the shares; mean_crank_power_W is for both legs."""

    mean_crank_power_W: float
    crank_work_J: float
    positive_work_J: dict[str, float]
    negative_work_J: dict[str, float]
    extension_work_J: dict[str, float]
    flexion_work_J: dict[str, float]
    joint_work_share: dict[str, float]
    energy_balance_residual: float


def cycle_summary(sol: Solution) -> CycleSummary:
    """Work, shares and energy balance of a solution."""
    P = joint_power(sol)
    T = sol.period_s
    pos = np.maximum(P, 0).mean(axis=1) * T
    neg = np.minimum(P, 0).mean(axis=1) * T
    ext = np.where(sol["moment"] < 0, np.maximum(P, 0), 0).mean(axis=1) * T
    flx = np.where(sol["moment"] >= 0, np.maximum(P, 0), 0).mean(axis=1) * T
    crank_w = float(crank_power(sol).mean() * T)
    joint_w = float(P.mean(axis=1).sum() * T)
    total_pos = float(pos.sum())
    return CycleSummary(
        mean_crank_power_W=2 * crank_w / T,
        crank_work_J=crank_w,
        positive_work_J=dict(zip(JOINTS, pos.tolist())),
        negative_work_J=dict(zip(JOINTS, neg.tolist())),
        extension_work_J=dict(zip(JOINTS, ext.tolist())),
        flexion_work_J=dict(zip(JOINTS, flx.tolist())),
        joint_work_share={j: float(v / total_pos) for j, v in zip(JOINTS, pos)},
        energy_balance_residual=(joint_w - crank_w) / abs(crank_w),
    )
