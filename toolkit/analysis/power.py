"""Joint power and work over a solved cycle, each joint's share, and the energy balance.

Definitions (as in joint-specific power studies, e.g. Elmer et al. 2011): joint power = net joint moment x
joint angular velocity. Positive power with an extensor moment (moment < 0 in the toolkit's flexion-positive
convention; plantarflexor moment at the ankle) is 'extension' action; with a flexor (dorsiflexor) moment it is
'flexion' action. Work per cycle = integral of power over one cycle (periodic trapezoid = mean x period).
Shares are fractions of the total positive joint work of hip, knee and ankle.

Energy balance. At every node the power of the net joint moments equals the power delivered to the crank plus
the rate of change of the leg's mechanical energy (kinetic + potential of thigh, shank and foot):
sum_j M_j qdot_j = tau_crank omega + dE/dt, exactly (to solver tolerance) because the moments come from the
closed-chain dynamics. Over a periodic cycle the integral of dE/dt is zero, so joint work = crank work. The
reported `energy_balance_residual` = (joint work - crank work) / crank work uses the same node quadrature as
the shares, so it is the quadrature error of the periodic integral of dE/dt on the mesh: it shrinks quickly
with the number of nodes (about 1e-2 at 16-20 nodes with a fixed ankle, < 1e-4 at 40). `energy_balance`
separates the two parts: the pointwise balance (physics, at solver tolerance) and the quadrature term.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..model.leg import JOINTS
from ..ocp.solution import Solution


def joint_power(sol: Solution) -> np.ndarray:
    """Joint powers (W), shape (3, N): hip, knee, ankle of one leg."""
    return sol["moment"] * sol["qdot"]


def crank_power(sol: Solution) -> np.ndarray:
    """Power (W) delivered to the crank by one leg at each node."""
    speed = sol.arrays.get("crank_speed")
    return sol["crank_torque"] * (sol.spec.omega if speed is None else sol["crank_speed"])


def cycle_integral(sol: Solution, values: np.ndarray) -> np.ndarray:
    """Integral over the cycle (time) of node values on the last axis: periodic trapezoid, dt = dtheta/omega."""
    return (np.asarray(values) * sol.node_dt).sum(axis=-1)


@dataclass(frozen=True)
class CycleSummary:
    """Per-cycle work of one leg (J) and the shares; mean_crank_power_W is for both legs.

    positive/negative/net work per joint; extension/flexion: positive work done with an extensor/flexor moment;
    joint_work_share: each joint's fraction of the total positive joint work (sums to 1);
    energy_balance_residual: (joint work - crank work) / crank work (see the module docstring);
    muscle_*_work_J: fibre work per muscle (toolkit.analysis.muscle_power); index_of_effectiveness: pedal
    force (toolkit.analysis.pedal); objective: the optimal-control cost value.
    """

    mean_crank_power_W: float
    crank_work_J: float
    positive_work_J: dict[str, float]
    negative_work_J: dict[str, float]
    extension_work_J: dict[str, float]
    flexion_work_J: dict[str, float]
    joint_work_share: dict[str, float]
    energy_balance_residual: float
    net_work_J: dict[str, float] = field(default_factory=dict)
    total_positive_joint_work_J: float = float("nan")
    muscle_positive_work_J: dict[str, float] = field(default_factory=dict)
    muscle_negative_work_J: dict[str, float] = field(default_factory=dict)
    index_of_effectiveness: float = float("nan")
    objective: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


def joint_work(sol: Solution) -> dict[str, float]:
    """Net work per joint over one cycle (J)."""
    return dict(zip(JOINTS, cycle_integral(sol, joint_power(sol)).tolist()))


def cycle_summary(sol: Solution) -> CycleSummary:
    """Work, shares and energy balance of a solution."""
    from .muscle_power import muscle_work
    from .pedal import index_of_effectiveness

    P = joint_power(sol)
    T = sol.period_s
    pos = cycle_integral(sol, np.maximum(P, 0))
    neg = cycle_integral(sol, np.minimum(P, 0))
    ext = cycle_integral(sol, np.where(sol["moment"] < 0, np.maximum(P, 0), 0))
    flx = cycle_integral(sol, np.where(sol["moment"] >= 0, np.maximum(P, 0), 0))
    crank_w = float(cycle_integral(sol, crank_power(sol)))
    joint_w = float(cycle_integral(sol, P).sum())
    total_pos = float(pos.sum())
    mw = muscle_work(sol)
    return CycleSummary(
        mean_crank_power_W=2 * crank_w / T,
        crank_work_J=crank_w,
        positive_work_J=dict(zip(JOINTS, pos.tolist())),
        negative_work_J=dict(zip(JOINTS, neg.tolist())),
        extension_work_J=dict(zip(JOINTS, ext.tolist())),
        flexion_work_J=dict(zip(JOINTS, flx.tolist())),
        joint_work_share={j: float(v / total_pos) for j, v in zip(JOINTS, pos)},
        energy_balance_residual=(joint_w - crank_w) / abs(crank_w),
        net_work_J=dict(zip(JOINTS, (pos + neg).tolist())),
        total_positive_joint_work_J=total_pos,
        muscle_positive_work_J=mw.positive_J,
        muscle_negative_work_J=mw.negative_J,
        index_of_effectiveness=index_of_effectiveness(sol),
        objective=float(sol.stats.objective),
    )


@dataclass(frozen=True)
class EnergyBalance:
    """Energy balance of one leg over a cycle.

    joint_work_J, crank_work_J: node-quadrature work; residual: (joint - crank) / crank (= the summary's);
    leg_energy_rate_mean_W: node mean of dE/dt of the leg (its exact cycle integral is zero, so this is the
    quadrature error that makes up the residual); pointwise_residual_max_W: max over nodes of
    |sum_j M_j qdot_j - tau_crank omega - dE/dt| (physics consistency, solver tolerance);
    pointwise_relative: that maximum over the mean crank power of one leg.
    """

    joint_work_J: float
    crank_work_J: float
    residual: float
    leg_energy_rate_mean_W: float
    pointwise_residual_max_W: float
    pointwise_relative: float

    def to_dict(self) -> dict:
        return asdict(self)


def leg_energy_rate(sol: Solution, model=None) -> np.ndarray:
    """dE/dt (W) of the leg's kinetic + potential energy (and the crank arm's) at every node."""
    from ..model.leg import LegModel

    f = (model if model is not None else LegModel()).energy_rate
    n = sol.nodes
    om = sol["crank_speed"] if "crank_speed" in sol.arrays else np.full(n, sol.spec.omega)
    acc = sol["crank_acceleration"] if "crank_acceleration" in sol.arrays else np.zeros(n)
    p = np.asarray(sol.setup["leg_params"], dtype=float)
    phi_acc = sol["ddphi"] * om ** 2 + sol["dphi"] * acc
    out = f.map(n)(sol["theta"][None, :], sol["phi"][None, :], om[None, :], (sol["dphi"] * om)[None, :],
                   acc[None, :], phi_acc[None, :], np.repeat(p[:, None], n, axis=1))
    return np.array(out).ravel()


def energy_balance(sol: Solution, model=None) -> EnergyBalance:
    """Pointwise and per-cycle energy balance (see EnergyBalance). Builds a LegModel when none is given."""
    T = sol.period_s
    P = joint_power(sol).sum(axis=0)
    Pc = crank_power(sol)
    dE = leg_energy_rate(sol, model)
    crank_w = float(cycle_integral(sol, Pc))
    joint_w = float(cycle_integral(sol, P))
    pw = float(np.abs(P - Pc - dE).max())
    return EnergyBalance(joint_w, crank_w, (joint_w - crank_w) / abs(crank_w), float(cycle_integral(sol, dE) / T),
                         pw, pw / abs(crank_w / T))


def external_moment_work(sol: Solution) -> dict[str, float]:
    """Work of the device moment at the ankle (orthosis of a fixed ankle, brace of a braced one) over one cycle,
    one leg (J): positive, negative and net. It is part of the net ankle moment, so it is inside the joint work
    that balances the crank work; this splits it off as the external (non-muscle) contribution."""
    P = sol["orthosis_moment"] * sol["qdot"][2]
    return {"positive_J": float(cycle_integral(sol, np.maximum(P, 0))),
            "negative_J": float(cycle_integral(sol, np.minimum(P, 0))),
            "net_J": float(cycle_integral(sol, P))}
