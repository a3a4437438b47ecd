"""Geometric feasibility of a request, checked before IPOPT is called (fast, explains itself)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model.leg import LegModel, Setup, joint_ranges_rad
from .problem import ProblemSpec
from .transcription import Transcription, fourier_eval, fourier_fit, heel_drop_nodes

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


def largest_heel_drop_deg(model: LegModel, setup: Setup, theta_nodes: np.ndarray) -> float:
    """Largest d (deg) such that a sole angle <= -d is reachable with every joint in range at all given crank
    angles; the binding node is where the shank leans back most."""
    lim = joint_ranges_rad()
    phis = np.radians(np.arange(-60.0, 80.0 + SCAN_STEP_DEG, SCAN_STEP_DEG))
    # One vectorized evaluation over the (node, sole angle) grid.
    th_grid, phi_grid = np.meshgrid(np.asarray(theta_nodes, float), phis, indexing="ij")
    ok = _in_range(_poses(model, th_grid.ravel(), phi_grid.ravel(), setup.leg_params), lim).reshape(th_grid.shape)
    phi_min = np.where(ok, phi_grid, np.inf).min(axis=1)
    return float(-np.degrees(phi_min).max()) if len(phi_min) else math.inf


def check(tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
    """Is the request geometrically possible for this rider and fit? Explain when it is not."""
    model, lim = tr.model, joint_ranges_rad()
    names = ("hip", "knee", "ankle")
    if spec.condition == "heel_drop":
        idx = heel_drop_nodes(tr.theta, spec)
        if len(idx) == 0:
            return Feasibility(False, f"heel_drop_window_deg {spec.heel_drop_window_deg} contains no mesh node")
        dmax = largest_heel_drop_deg(model, setup, tr.theta[idx])
        if spec.heel_drop_deg > dmax:
            w = spec.heel_drop_window_deg
            return Feasibility(
                False,
                f"a heel drop of {spec.heel_drop_deg:g} deg over crank angles {w[0]:g}-{w[1]:g} deg is geometrically "
                f"impossible for this fit: it would need more dorsiflexion than the ankle's "
                f"{math.degrees(lim[2, 1]):.0f} deg (or a joint outside its range); the largest feasible drop is "
                f"{max(dmax, 0):.1f} deg", largest_heel_drop_deg=dmax)
        return Feasibility(True, largest_heel_drop_deg=dmax)
    if spec.condition in ("fixed", "prescribed"):
        if spec.condition == "fixed":
            phi = np.array([float(model.fixed_ankle(t, math.radians(spec.fixed_ankle_deg), setup.leg_params)[0])
                            for t in tr.theta])
        else:
            c = prescribed_coefficients(spec)
            phi = np.array([float(fourier_eval(t, c)[0]) for t in tr.theta])
        q = _poses(model, tr.theta, phi, setup.leg_params)
        bad = ~_in_range(q, lim)
        if bad.any():
            k = int(np.argmax(bad))
            what = "the pedal is out of reach" if not np.all(np.isfinite(q[:, k])) else ", ".join(
                f"{names[j]} {math.degrees(q[j, k]):.0f} deg" for j in range(3)
                if not (lim[j, 0] <= q[j, k] <= lim[j, 1]))
            return Feasibility(False, f"{spec.condition} ankle: at crank angle {math.degrees(tr.theta[k]):.0f} deg "
                                      f"{what} (joint ranges: hip/knee/ankle {np.degrees(lim).round().tolist()} deg)")
    return Feasibility(True)


def prescribed_coefficients(spec: ProblemSpec) -> np.ndarray:
    """Fourier coefficients of the prescribed sole-angle profile (samples in degrees over 0-360)."""
    samples = np.array(spec.prescribed_sole_deg, dtype=float)
    return fourier_fit(np.radians(samples[:, 0]), np.radians(samples[:, 1]))
