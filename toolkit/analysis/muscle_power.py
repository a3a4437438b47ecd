"""Muscle fibre power and work per cycle.

Sign convention (as in OpenSim's fibre power and in Neptune & colleagues' muscle-work analyses of pedaling):
fibre velocity is positive when the fibre lengthens, so the power the fibre delivers is

    P_fibre = -F_fibre * v_fibre   (W; > 0 concentric: the muscle does work, < 0 eccentric: it absorbs work)

with F_fibre the force along the fibre. The solution stores the tendon force F (along the muscle-tendon line),
the normalized active and passive fibre forces and the fibre length and velocity; the fibre force is
F_fibre = F_max (active + passive), with F_max from the solution's setup provenance (setup["muscles"][name]), so
a stored solution is self-contained. The tendon force is F = F_fibre cos(alpha); with the model's
constant-thickness pennation (fibre height h = l_opt sin(alpha_0), `toolkit.model.muscles.rigid_tendon_state`)
the geometric pennation at fibre length l has cos(alpha) = sqrt(1 - (h / l)^2) (`cos_pennation`), and
F / cos(alpha) equals F_fibre wherever the fibre line lies along the tendon (l_mtu > tendon slack length).

With a rigid tendon v_fibre = v_mtu cos(alpha), so P_fibre = -F v_mtu: the fibres deliver all the
muscle-tendon work, and summed over the muscles it equals the power of the muscle moments at the joints
(sum_j M_muscle,j qdot_j), which tests check. The fibre force splits into an active (contractile) and a
passive (parallel elastic) part, F_fibre = F_max (active + passive), with the stored normalized 'active'
and 'passive' arrays; `fibre_power_parts` returns both powers.

Work per cycle = integral over one cycle of the power (periodic trapezoid = node mean x period), split into
positive (concentric) and negative (eccentric) work per muscle.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..model.muscles import MUSCLE_NAMES


def _muscle_param(sol, key: str) -> np.ndarray:
    try:
        mus = sol.setup["muscles"]
        return np.array([float(mus[n][key]) for n in MUSCLE_NAMES])
    except (KeyError, TypeError) as e:
        raise ValueError(f"solution setup lacks muscle parameter {key!r} for {e}; muscle power needs "
                         "setup['muscles'][name] (see toolkit.ocp.solve.describe_setup)") from None


def cos_pennation(sol) -> np.ndarray:
    """cos(pennation) (9, N) recomputed from the fibre length, optimal fibre length and pennation at optimal
    length (constant fibre height)."""
    lopt = _muscle_param(sol, "optimal_fiber_length_m")
    alpha0 = _muscle_param(sol, "pennation_rad")
    h = (lopt * np.sin(alpha0))[:, None]
    lm = sol["fiber_length"]
    return np.sqrt(np.clip(1.0 - (h / lm) ** 2, 0.0, 1.0))


def fibre_force(sol) -> np.ndarray:
    """Force along the fibres (N), (9, N) = F_max (active + passive) (= tendon force / cos(pennation))."""
    fmax = _muscle_param(sol, "max_force_N")[:, None]
    return fmax * (sol["active"] + sol["passive"])


def fibre_power(sol) -> np.ndarray:
    """Fibre power (W), (9, N): -F_fibre * v_fibre, positive = concentric (the muscle does work)."""
    return -fibre_force(sol) * sol["fiber_velocity"]


def fibre_power_parts(sol) -> tuple[np.ndarray, np.ndarray]:
    """(active, passive) fibre power (W), each (9, N): contractile element and parallel elastic element.
    They sum to fibre_power."""
    fmax = _muscle_param(sol, "max_force_N")[:, None]
    v = sol["fiber_velocity"]
    return -fmax * sol["active"] * v, -fmax * sol["passive"] * v


@dataclass(frozen=True)
class MuscleWork:
    """Per-cycle work of one leg's muscle fibres (J): positive = concentric, negative = eccentric (<= 0),
    net = positive + negative; *_passive: the parallel elastic element's share of the net work."""

    positive_J: dict[str, float]
    negative_J: dict[str, float]
    net_J: dict[str, float]
    passive_net_J: dict[str, float]
    total_positive_J: float
    total_negative_J: float

    def to_dict(self) -> dict:
        return asdict(self)


def muscle_work(sol) -> MuscleWork:
    """Positive, negative and net fibre work per muscle over one cycle."""
    dt = sol.node_dt
    P = fibre_power(sol)
    _, P_pas = fibre_power_parts(sol)
    pos = (np.maximum(P, 0) * dt).sum(axis=1)
    neg = (np.minimum(P, 0) * dt).sum(axis=1)
    return MuscleWork(
        positive_J=dict(zip(MUSCLE_NAMES, pos.tolist())),
        negative_J=dict(zip(MUSCLE_NAMES, neg.tolist())),
        net_J=dict(zip(MUSCLE_NAMES, (pos + neg).tolist())),
        passive_net_J=dict(zip(MUSCLE_NAMES, (P_pas * dt).sum(axis=1).tolist())),
        total_positive_J=float(pos.sum()),
        total_negative_J=float(neg.sum()),
    )
