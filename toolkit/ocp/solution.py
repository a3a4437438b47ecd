"""The result of a solve: node time series, solver statistics and provenance, sealed when the solve failed.

Like Moco's sealed MocoSolution, a failed or infeasible solution still reports why (status, iterations, time,
largest constraint violations by name) but refuses to hand out its arrays unless explicitly unsealed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .problem import ProblemSpec


class SealedSolutionError(RuntimeError):
    """Raised when the data of a failed solve is used without unsealing it."""


@dataclass(frozen=True)
class SolverStats:
    """How the solve went. max_violation is the largest constraint violation (scaled units; see names)."""

    success: bool
    status: str
    iterations: int
    solve_time_s: float
    build_time_s: float
    objective: float
    max_violation: float
    worst_constraints: tuple[tuple[str, float], ...] = ()
    message: str = ""
    starts: int = 1

    def summary(self) -> str:
        worst = "; ".join(f"{n}: {v:.2e}" for n, v in self.worst_constraints[:3])
        return (f"{'OK' if self.success else 'FAILED'} status={self.status} iterations={self.iterations} "
                f"time={self.solve_time_s:.2f}s max_violation={self.max_violation:.2e}"
                + (f" worst: {worst}" if worst and not self.success else "")
                + (f" -- {self.message}" if self.message else ""))


@dataclass
class Solution:
    """One solved pedaling cycle of one leg (the other leg is the same half a cycle later).

    arrays: node values over the cycle at crank angles `theta` (rad), shapes (N,), (3, N) joints
    hip/knee/ankle, (9, N) muscles in MUSCLE_NAMES order. Keys and units are in ARRAY_UNITS.
    setup: provenance (rider, fit, saddle height, segment and muscle parameters incl. passive ones).
    """

    spec: ProblemSpec
    stats: SolverStats
    setup: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    decision: np.ndarray | None = None
    sealed: bool = False
    # Other successful starts of a multi-start solve (their objective in stats.objective); empty otherwise.
    start_solutions: list["Solution"] = field(default_factory=list, repr=False)

    def __getitem__(self, key: str) -> np.ndarray:
        if self.sealed:
            raise SealedSolutionError(
                f"this solution is sealed because the solve did not succeed ({self.stats.summary()}); "
                "call .unseal() to inspect it anyway")
        return self.arrays[key]

    @property
    def success(self) -> bool:
        return self.stats.success

    def unseal(self) -> "Solution":
        """A copy whose arrays can be read even though the solve failed (for debugging only)."""
        return replace(self, sealed=False)

    @property
    def nodes(self) -> int:
        return len(self.arrays["theta"]) if "theta" in self.arrays else 0

    @property
    def period_s(self) -> float:
        return 60.0 / self.spec.cadence_rpm

    @property
    def node_dt(self) -> np.ndarray:
        """Time weight (s) of every node in cycle integrals: periodic trapezoid in crank angle, dt = dtheta/omega
        (uniform for an isokinetic crank). Integral over the cycle of x = sum(x * node_dt)."""
        h = 2 * math.pi / self.nodes
        speed = self.arrays.get("crank_speed")
        if speed is None:
            return np.full(self.nodes, h / self.spec.omega)
        return h / np.asarray(speed)

    @property
    def time(self) -> np.ndarray:
        """Time (s) at each node from the start of the cycle (trapezoid of dtheta / omega)."""
        h = 2 * math.pi / self.nodes
        speed = self.arrays.get("crank_speed")
        if speed is None:
            return self["theta"] / (2 * math.pi) * self.period_s
        inv = 1.0 / np.asarray(speed)
        return np.concatenate([[0.0], np.cumsum(h / 2 * (inv[:-1] + inv[1:]))])


ARRAY_UNITS = {
    "theta": "rad", "phi": "rad", "dphi": "rad/rad", "ddphi": "rad/rad^2",
    "q": "rad", "qdot": "rad/s", "moment": "N m", "force": "N", "fiber_length": "m",
    "fiber_velocity": "m/s", "active": "1", "passive": "1", "mtu_length": "m",
    "activation": "1", "excitation": "1", "crank_torque": "N m", "orthosis_moment": "N m",
    "sole_residual": "1", "pedal_force": "N", "qddot": "rad/s^2",
    "crank_speed": "rad/s", "crank_acceleration": "rad/s^2",
}
