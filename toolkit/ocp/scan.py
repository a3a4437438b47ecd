"""Geometric scans of the closed leg-crank chain: which sole angles reach the pedal with every joint in range
(the building blocks of the ankle conditions' feasibility checks)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model.leg import LegModel, Setup, joint_ranges_rad
from .bounds import BOUNDS
from .heel_drop import drop_weight, reference_profile

SCAN_STEP_DEG = 0.25


@dataclass(frozen=True)
class Feasibility:
    ok: bool
    message: str = ""
    largest_heel_drop_deg: float | None = None


def _poses(model: LegModel, theta: np.ndarray, phi: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Joint angles (3, M) for paired arrays theta, phi (nan where the pedal is out of reach)."""
    f = model.pose.map(len(theta))
    return np.array(f(theta[None, :], phi[None, :], np.repeat(p[:, None], len(theta), axis=1))[0])


def _in_range(q: np.ndarray, lim: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(q), axis=0) & np.all((q >= lim[:, :1] - 1e-9) & (q <= lim[:, 1:] + 1e-9), axis=0)


def min_sole_angle(model: LegModel, setup: Setup, theta_nodes: np.ndarray) -> np.ndarray:
    """Smallest reachable sole angle (rad) at each crank angle with every joint in range (inf if none); the
    binding crank angles are those where the shank leans back most."""
    lim = joint_ranges_rad()
    lo, hi = BOUNDS.sole_angle_deg
    phis = np.radians(np.arange(lo, hi + SCAN_STEP_DEG, SCAN_STEP_DEG))
    # One vectorized evaluation over the (node, sole angle) grid.
    th_grid, phi_grid = np.meshgrid(np.asarray(theta_nodes, float), phis, indexing="ij")
    ok = _in_range(_poses(model, th_grid.ravel(), phi_grid.ravel(), setup.leg_params), lim).reshape(th_grid.shape)
    return np.where(ok, phi_grid, np.inf).min(axis=1)


def largest_heel_drop_deg(model: LegModel, setup: Setup, theta_nodes: np.ndarray, spec=None
                          ) -> float:
    """Largest drop d (deg) that is geometrically reachable with every joint in range at the given crank angles:
    absolute (sole angle <= -d) without a spec or for the absolute mode, else relative to the spec's free
    reference profile with its window weights (relative) or over the whole cycle (shift)."""
    theta_nodes = np.asarray(theta_nodes, float)
    phi_min = min_sole_angle(model, setup, theta_nodes)
    if len(phi_min) == 0:
        return math.inf
    if spec is None or spec.heel_drop_mode == "absolute":
        return float(-np.degrees(phi_min).max())
    free = reference_profile(spec.heel_drop_reference_deg)(theta_nodes)
    w = drop_weight(theta_nodes, spec)
    on = w > 1e-6
    return float(np.degrees(((free - phi_min)[on] / w[on]).min())) if on.any() else math.inf


def _binding_limits(model: LegModel, setup: Setup, theta: np.ndarray, spec) -> str:
    """Text naming the crank angle where the drop is most limited and the joint limits reached there."""
    phi_min = min_sole_angle(model, setup, theta)
    if spec.heel_drop_mode == "absolute":
        slack = -phi_min
    else:
        free = reference_profile(spec.heel_drop_reference_deg)(theta)
        w = drop_weight(theta, spec)
        slack = np.where(w > 1e-6, (free - phi_min) / np.maximum(w, 1e-6), np.inf)
    k = int(np.argmin(slack))
    q = _poses(model, theta[k:k + 1], phi_min[k:k + 1], setup.leg_params)[:, 0]
    lim = joint_ranges_rad()
    tol = math.radians(2 * SCAN_STEP_DEG)
    hits = [f"{n} at its {'lower' if q[j] <= lim[j, 0] + tol else 'upper'} limit "
            f"{math.degrees(lim[j, 0] if q[j] <= lim[j, 0] + tol else lim[j, 1]):.0f} deg"
            for j, n in enumerate(("hip", "knee", "ankle"))
            if q[j] <= lim[j, 0] + tol or q[j] >= lim[j, 1] - tol]
    return (f"at crank angle {math.degrees(theta[k]):.0f} deg by the "
            + (" and ".join(hits) if hits else "reach of the leg") + " (joint ranges: model_parameters.toml)")
