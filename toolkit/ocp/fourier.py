"""Periodic Fourier series of the sole angle (prescribed profiles): evaluation with derivatives, least-squares fit."""
from __future__ import annotations

import casadi as ca
import numpy as np

FOURIER_ORDER = 6


def fourier_eval(theta, c):
    """Sole angle and its first two theta-derivatives from Fourier coefficients c = [c0, a1, b1, ..., aK, bK]."""
    phi, d1, d2 = c[0], 0, 0
    for j in range(1, FOURIER_ORDER + 1):
        a, b = c[2 * j - 1], c[2 * j]
        cj, sj = ca.cos(j * theta), ca.sin(j * theta)
        phi = phi + a * cj + b * sj
        d1 = d1 + j * (-a * sj + b * cj)
        d2 = d2 - j * j * (a * cj + b * sj)
    return phi, d1, d2


def fourier_fit(theta_rad: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares Fourier coefficients (order FOURIER_ORDER, truncated to what the samples support)."""
    order = min(FOURIER_ORDER, (len(theta_rad) - 1) // 2)
    cols = [np.ones_like(theta_rad)]
    for j in range(1, order + 1):
        cols += [np.cos(j * theta_rad), np.sin(j * theta_rad)]
    coef, *_ = np.linalg.lstsq(np.column_stack(cols), values, rcond=None)
    out = np.zeros(2 * FOURIER_ORDER + 1)
    out[: len(coef)] = coef
    return out
