"""Periodic resampling of node arrays onto crank angle (the user-facing 0-360 deg grid).

A solution's arrays hold node values over one periodic cycle at crank angles `sol["theta"]` (rad, uniform,
0 included, 2 pi excluded). Tables, plots and exports want them on a common crank-angle grid in degrees,
0..360 inclusive (so a plotted cycle closes: the value at 360 deg equals the value at 0 deg).

Method: a periodic cubic spline through the nodes (`scipy.interpolate.CubicSpline(bc_type="periodic")`) by
default: exact at the nodes, C2 and periodic, without the ringing of trigonometric interpolation near sharp
features; "linear" (periodic piecewise-linear) is available for quantities that must stay within the node
range (e.g. activations in [0.01, 1]) and "fourier" (trigonometric interpolation, exact for band-limited
signals) for spectral checks. Only the last axis is resampled, so (N,), (3, N) and (9, N) arrays all work.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
from scipy.interpolate import CubicSpline

METHODS = ("spline", "linear", "fourier")
TWO_PI = 2.0 * math.pi


def crank_angle_grid(step_deg: float | None = 1.0, points: int | None = None) -> np.ndarray:
    """Crank angles (deg) from 0 to 360 inclusive: every `step_deg` (360 must be a multiple), or `points`
    equally spaced values (e.g. 73 = every 5 deg, 361 = every 1 deg)."""
    if points is not None:
        if points < 2:
            raise ValueError(f"points: {points} (allowed: >= 2)")
        return np.linspace(0.0, 360.0, int(points))
    if step_deg is None or step_deg <= 0:
        raise ValueError(f"step_deg: {step_deg} (allowed: > 0)")
    n = 360.0 / step_deg
    if abs(n - round(n)) > 1e-9:
        raise ValueError(f"step_deg: {step_deg} (allowed: a divisor of 360)")
    return np.linspace(0.0, 360.0, int(round(n)) + 1)


def _grid(crank_angle_deg) -> np.ndarray:
    if crank_angle_deg is None:
        return crank_angle_grid(1.0)
    return np.atleast_1d(np.asarray(list(crank_angle_deg) if not isinstance(crank_angle_deg, np.ndarray)
                                    else crank_angle_deg, dtype=float))


def _check_nodes(theta: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=float).ravel()
    if theta.size < 3:
        raise ValueError(f"theta: {theta.size} nodes (allowed: >= 3)")
    d = np.diff(theta)
    if np.any(d <= 0) or theta[-1] - theta[0] >= TWO_PI:
        raise ValueError("theta: node crank angles must increase strictly within one cycle (span < 2 pi)")
    return theta


def resample_periodic(theta_rad: np.ndarray, values: np.ndarray, crank_angle_deg: Iterable[float] | None = None,
                      method: str = "spline") -> np.ndarray:
    """Values (..., N) at node crank angles theta_rad (N,) -> values (..., M) at crank_angle_deg (M,) (deg,
    any real numbers; taken modulo 360). Default grid: crank_angle_grid(1.0), i.e. 361 points 0..360 deg."""
    if method not in METHODS:
        raise ValueError(f"method: {method!r} (allowed: {', '.join(METHODS)})")
    theta = _check_nodes(theta_rad)
    y = np.asarray(values, dtype=float)
    if y.shape[-1] != theta.size:
        raise ValueError(f"values: last axis has {y.shape[-1]} entries, expected {theta.size} (one per node)")
    grid = _grid(crank_angle_deg)
    x = np.mod(np.radians(grid) - theta[0], TWO_PI) + theta[0]
    if method == "spline":
        xs = np.append(theta, theta[0] + TWO_PI)
        ys = np.concatenate([y, y[..., :1]], axis=-1)
        return CubicSpline(xs, ys, axis=-1, bc_type="periodic")(x)
    if method == "linear":
        xs = np.append(theta, theta[0] + TWO_PI)
        ys = np.concatenate([y, y[..., :1]], axis=-1)
        flat = ys.reshape(-1, xs.size)
        out = np.stack([np.interp(x, xs, row) for row in flat])
        return out.reshape(y.shape[:-1] + (x.size,))
    return _fourier(theta, y, x)


def _fourier(theta: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = theta.size
    if not np.allclose(np.diff(theta), TWO_PI / n, rtol=0, atol=1e-9 * TWO_PI):
        raise ValueError("method 'fourier' needs uniformly spaced nodes")
    c = np.fft.rfft(y, axis=-1) / n
    k = np.arange(c.shape[-1])
    if n % 2 == 0:  # split the Nyquist term symmetrically so the interpolant is real and exact at the nodes
        c[..., -1] *= 0.5
    phase = np.exp(1j * np.outer(k, x - theta[0]))  # (K, M)
    re = np.tensordot(c, phase, axes=([-1], [0]))
    return 2.0 * re.real - c[..., :1].real  # c0 counted once


def resample_solution(sol, names: Iterable[str] | None = None, crank_angle_deg: Iterable[float] | None = None,
                      method: str = "spline") -> dict[str, np.ndarray]:
    """Every (or the named) node array of a Solution resampled on crank angle; the grid is returned as
    'crank_angle_deg'. 'theta' itself is not resampled (it is the grid)."""
    grid = _grid(crank_angle_deg)
    theta = sol["theta"]
    keys = [k for k in (names if names is not None else sol.arrays.keys()) if k != "theta"]
    out = {"crank_angle_deg": grid}
    for k in keys:
        out[k] = resample_periodic(theta, sol[k], grid, method)
    return out


def resample_array(sol, values: np.ndarray, crank_angle_deg: Iterable[float] | None = None,
                   method: str = "spline") -> tuple[np.ndarray, np.ndarray]:
    """Any derived node array of a solution (e.g. joint power) on crank angle: returns (grid_deg, values)."""
    grid = _grid(crank_angle_deg)
    return grid, resample_periodic(sol["theta"], values, grid, method)
