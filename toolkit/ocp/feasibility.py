"""Geometric feasibility of a request, checked before IPOPT is called (fast, explains itself)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model.leg import LegModel, Setup, joint_ranges_rad
from .problem import ProblemSpec
from .heel_drop import reference_profile, sole_upper_bound, window_weight
from .transcription import Transcription, fourier_eval, fourier_fit

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
    phis = np.radians(np.arange(-60.0, 80.0 + SCAN_STEP_DEG, SCAN_STEP_DEG))
    # One vectorized evaluation over the (node, sole angle) grid.
    th_grid, phi_grid = np.meshgrid(np.asarray(theta_nodes, float), phis, indexing="ij")
    ok = _in_range(_poses(model, th_grid.ravel(), phi_grid.ravel(), setup.leg_params), lim).reshape(th_grid.shape)
    return np.where(ok, phi_grid, np.inf).min(axis=1)


def largest_heel_drop_deg(model: LegModel, setup: Setup, theta_nodes: np.ndarray, spec: ProblemSpec | None = None
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
    w = (np.ones_like(theta_nodes) if spec.heel_drop_mode == "shift"
         else window_weight(theta_nodes, spec.heel_drop_window_deg, spec.heel_drop_ramp_deg))
    on = w > 1e-6
    return float(np.degrees(((free - phi_min)[on] / w[on]).min())) if on.any() else math.inf


def _binding_limits(model: LegModel, setup: Setup, theta: np.ndarray, spec: ProblemSpec) -> str:
    """Text naming the crank angle where the drop is most limited and the joint limits reached there."""
    phi_min = min_sole_angle(model, setup, theta)
    if spec.heel_drop_mode == "absolute":
        slack = -phi_min
    else:
        free = reference_profile(spec.heel_drop_reference_deg)(theta)
        w = (np.ones_like(theta) if spec.heel_drop_mode == "shift"
             else window_weight(theta, spec.heel_drop_window_deg, spec.heel_drop_ramp_deg))
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


def check(tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
    """Is the request geometrically possible for this rider and fit? Explain when it is not."""
    model, lim = tr.model, joint_ranges_rad()
    names = ("hip", "knee", "ankle")
    if spec.condition == "heel_drop":
        ub = sole_upper_bound(tr.theta, spec)
        idx = np.where(np.isfinite(ub))[0]
        if len(idx) == 0:
            return Feasibility(False, f"heel_drop_window_deg {spec.heel_drop_window_deg} contains no mesh node")
        dmax = largest_heel_drop_deg(model, setup, tr.theta[idx], spec)
        if spec.heel_drop_deg > dmax + 1e-9:
            binding = _binding_limits(model, setup, tr.theta[idx], spec)
            w = spec.heel_drop_window_deg
            where = "over the whole cycle" if spec.heel_drop_mode == "shift" else f"over crank angles {w[0]:g}-{w[1]:g} deg"
            ref = "below the horizontal" if spec.heel_drop_mode == "absolute" else "below the free-ankle pattern"
            return Feasibility(
                False,
                f"a heel drop ({spec.heel_drop_mode}) of {spec.heel_drop_deg:g} deg {ref} {where} is geometrically "
                f"impossible for this fit: the largest feasible drop is {max(dmax, 0):.1f} deg, limited {binding}",
                largest_heel_drop_deg=dmax)
        return Feasibility(True, largest_heel_drop_deg=dmax)
    if spec.condition == "range_limited":
        lo, hi = spec.ankle_range_deg
        rng = lim.copy()
        rng[2] = np.radians([max(lo, math.degrees(lim[2, 0])), min(hi, math.degrees(lim[2, 1]))])
        phis = np.radians(np.arange(-60.0, 80.0 + SCAN_STEP_DEG, SCAN_STEP_DEG))
        th_grid, phi_grid = np.meshgrid(tr.theta, phis, indexing="ij")
        q = _poses(model, th_grid.ravel(), phi_grid.ravel(), setup.leg_params)
        ok = _in_range(q, rng).reshape(th_grid.shape).any(axis=1)
        # A zero-width range is an equality: accept the nodes where the fixed-ankle chain reaches the pedal.
        if lo == hi:
            phi = np.array([float(model.fixed_ankle(t, math.radians(lo), setup.leg_params)[0]) for t in tr.theta])
            qf = _poses(model, tr.theta, phi, setup.leg_params)
            ok = _in_range(qf, lim)
        if not ok.all():
            k = int(np.argmin(ok))
            return Feasibility(False, f"range_limited ankle {lo:g} to {hi:g} deg: at crank angle "
                                      f"{math.degrees(tr.theta[k]):.0f} deg no ankle angle in that range reaches the "
                                      "pedal with the other joints in range (allowed: a range the fit can reach)")
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
