"""GMAX engagement metrics (toolkit/analysis/engagement.py) against first principles."""
from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.analysis.engagement import (activation_integral_s, fibre_positive_work_J, muscle_engagement,
                                         peak_hip_extension_moment_Nm)
from toolkit.analysis.muscle_power import cos_pennation
from toolkit.model.muscles import MUSCLE_NAMES
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.solution import Solution, SolverStats

G = MUSCLE_NAMES.index("GMAX")


def _synthetic(n=400, cadence=90.0, a=0.2, F=1000.0, V=0.1, M=80.0) -> Solution:
    """A synthetic cycle: constant activation a in every muscle; GMAX fibre force F (N, all active) with fibre
    velocity V sin(theta) (m/s); hip moment M cos(theta) (N m)."""
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    m = len(MUSCLE_NAMES)
    fmax = 2000.0
    active = np.zeros((m, n))
    active[G] = F / fmax
    vel = np.zeros((m, n))
    vel[G] = V * np.sin(theta)
    moment = np.zeros((3, n))
    moment[0] = M * np.cos(theta)
    muscles = {k: {"max_force_N": fmax, "optimal_fiber_length_m": 0.1, "pennation_rad": 0.0} for k in MUSCLE_NAMES}
    stats = SolverStats(True, "Solve_Succeeded", 1, 0.0, 0.0, 1.0, 0.0)
    arrays = {"theta": theta, "activation": np.full((m, n), a), "active": active, "passive": np.zeros((m, n)),
              "fiber_velocity": vel, "fiber_length": np.full((m, n), 0.1), "moment": moment}
    return Solution(ProblemSpec(cadence_rpm=cadence), stats, {"muscles": muscles}, arrays)


def test_activation_integral_of_a_constant_is_a_times_the_period():
    sol = _synthetic(a=0.2, cadence=90.0)
    period = 60.0 / 90.0
    assert activation_integral_s(sol) == pytest.approx(0.2 * period, rel=1e-12)
    e = muscle_engagement(sol)
    assert e.mean_activation == pytest.approx(0.2, rel=1e-12)
    assert e.activation_integral_s == pytest.approx(0.2 * period, rel=1e-12)


def test_fibre_positive_work_of_a_sinusoid():
    """P = -F v with v = V sin(wt): positive (concentric) only in the half cycle where v < 0, so the positive work
    is F V int_0^T max(-sin(wt), 0) dt = F V T / pi."""
    F, V, cad = 1000.0, 0.1, 90.0
    sol = _synthetic(F=F, V=V, cadence=cad)
    T = 60.0 / cad
    assert fibre_positive_work_J(sol) == pytest.approx(F * V * T / math.pi, rel=1e-4)
    # Lengthening only (v > 0 throughout): no positive work.
    sol.arrays["fiber_velocity"][G] = np.abs(sol.arrays["fiber_velocity"][G])
    assert fibre_positive_work_J(sol) == pytest.approx(0.0, abs=1e-12)


def test_peak_hip_extension_moment_is_the_largest_extensor_moment():
    sol = _synthetic(M=80.0)
    assert peak_hip_extension_moment_Nm(sol) == pytest.approx(80.0)  # -M cos(theta) peaks at theta = pi
    sol.arrays["moment"][0] = np.abs(sol.arrays["moment"][0])  # flexor only
    assert peak_hip_extension_moment_Nm(sol) == 0.0


def test_unknown_muscle_is_rejected():
    with pytest.raises(ValueError, match="allowed"):
        muscle_engagement(_synthetic(), "GLUTE")


def test_gmax_metrics_of_a_solve_match_force_times_velocity(solver, setup):
    """On a real solution: GMAX positive work = integral of the positive part of -(tendon force / cos pennation)
    x fibre velocity, computed here independently; GMAX does positive work in pedaling; the activation integral
    lies between floor x period and max activation x period."""
    sol = solver.solve(setup, ProblemSpec(condition="free", solver=SolverSpec(nodes=16)))
    assert sol.success
    F = sol["force"][G] / cos_pennation(sol)[G]
    P = -F * sol["fiber_velocity"][G]
    expect = float(np.sum(np.maximum(P, 0) * sol.node_dt))
    e = muscle_engagement(sol)
    assert e.fibre_positive_work_J == pytest.approx(expect, rel=1e-3)
    assert e.fibre_positive_work_J > 0
    a = sol["activation"][G]
    assert a.min() * sol.period_s - 1e-12 <= e.activation_integral_s <= a.max() * sol.period_s + 1e-12
    assert e.peak_hip_extension_moment_Nm == pytest.approx(float(np.max(-sol["moment"][0])))
