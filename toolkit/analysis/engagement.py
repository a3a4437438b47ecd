"""How much one muscle unit is engaged over a cycle: activation, fibre work and the joint moment it serves.

"Engage the glutes" is about a muscle, not only a joint, so next to the joint shares the studies report, per
solution and for one leg:

- activation integral: the time integral of the activation over one cycle, int a dt (s), and its mean over the
  cycle (activation integral / period; dimensionless);
- fibre positive work: the concentric work of the unit's fibres per cycle (J), from
  `toolkit.analysis.muscle_power` (P_fibre = -F_fibre v_fibre, positive parts integrated);
- peak hip extension moment: the largest net hip extensor moment over the cycle (N m, reported positive;
  net joint moments are flexion-positive, so it is max(-M_hip)).

Integrals use the solution's node weights (`Solution.node_dt`, the periodic trapezoid), the same rule as every
other cycle integral of the toolkit. Default unit: GMAX, the hip-extensor group (gluteus maximus with adductor
magnus in the default complete-groups force set).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..model.muscles import MUSCLE_NAMES
from .muscle_power import fibre_power


@dataclass(frozen=True)
class MuscleEngagement:
    """Engagement of one muscle unit over one cycle, one leg."""

    muscle: str
    activation_integral_s: float
    mean_activation: float
    fibre_positive_work_J: float
    peak_hip_extension_moment_Nm: float

    def to_dict(self) -> dict:
        return asdict(self)


def activation_integral_s(sol, muscle: str = "GMAX") -> float:
    """int a dt over one cycle (s) of one muscle unit."""
    i = MUSCLE_NAMES.index(muscle)
    return float(np.sum(np.asarray(sol["activation"])[i] * sol.node_dt))


def fibre_positive_work_J(sol, muscle: str = "GMAX") -> float:
    """Concentric (positive) fibre work of one muscle unit per cycle (J)."""
    i = MUSCLE_NAMES.index(muscle)
    return float(np.sum(np.maximum(fibre_power(sol)[i], 0.0) * sol.node_dt))


def peak_hip_extension_moment_Nm(sol) -> float:
    """Largest net hip extensor moment over the cycle (N m, positive; 0 if the moment is never extensor)."""
    return float(max(0.0, np.max(-np.asarray(sol["moment"])[0])))


def muscle_engagement(sol, muscle: str = "GMAX") -> MuscleEngagement:
    """Activation integral and mean, fibre positive work and peak hip extension moment of one solution."""
    if muscle not in MUSCLE_NAMES:
        raise ValueError(f"muscle: {muscle!r} (allowed: {', '.join(MUSCLE_NAMES)})")
    ai = activation_integral_s(sol, muscle)
    period = float(np.sum(sol.node_dt))
    return MuscleEngagement(muscle, ai, ai / period, fibre_positive_work_J(sol, muscle),
                            peak_hip_extension_moment_Nm(sol))
