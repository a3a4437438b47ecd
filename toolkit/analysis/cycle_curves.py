"""Solution curves on a 1-deg crank-angle grid (0..359 deg, periodic), shared by the model check and its figures.

The periodic spline of toolkit.analysis.resample makes peak angles independent of the mesh spacing.
Conventions: crank angle 0 = TDC; pedal force = force of the foot on the pedal, x forward, y up.
"""
from __future__ import annotations

import numpy as np

from ..model.muscles import MUSCLE_NAMES
from .resample import crank_angle_grid, resample_periodic

GRID = crank_angle_grid(1.0)[:-1]  # 0..359 deg


def on_grid(sol, values, method: str = "spline") -> np.ndarray:
    """Node values (..., N) of a solution on GRID."""
    return resample_periodic(sol["theta"], values, GRID, method)


def pedal_components(sol) -> dict[str, np.ndarray]:
    """fx, fy, tangential (+ drives the crank), radial (+ outward) and resultant pedal force on GRID (N)."""
    fx, fy = on_grid(sol, sol["pedal_force"])
    th = np.radians(GRID)
    ft = fx * np.cos(th) - fy * np.sin(th)
    fr = fx * np.sin(th) + fy * np.cos(th)
    return {"fx": fx, "fy": fy, "tangential": ft, "radial": fr, "resultant": np.hypot(fx, fy)}


def normalized_fibre_length(sol) -> np.ndarray:
    """Fibre length / optimal fibre length, (9, N) node values (optimal lengths from the solution's setup)."""
    lopt = np.array([float(sol.setup["muscles"][m]["optimal_fiber_length_m"]) for m in MUSCLE_NAMES])
    return sol["fiber_length"] / lopt[:, None]
