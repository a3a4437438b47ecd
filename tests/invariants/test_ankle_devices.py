"""Constrained ankles between free and fixed: range-limited (orthosis stops) and braced (orthosis spring).
Their limits reproduce `free` and `fixed`; the device moment is an external contribution whose work is reported
and, for a spring or a stop, nets to ~0 over a cycle (it stores and returns energy)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.analysis.power import cycle_summary, external_moment_work
from toolkit.ocp.problem import ProblemSpec, SolverSpec

NODES = 40  # the stiff-stop limit converges with the mesh (0.44 pp ankle share at 40 nodes, 0.2 at 80)
Q0 = -15.0


# `solver` and `setup` (default rider and fit) come from tests/conftest.py (built once per session).


@pytest.fixture(scope="module")
def ends(solver, setup):
    sv = SolverSpec(nodes=NODES)
    free = solver.solve(setup, ProblemSpec(condition="free", solver=sv))
    fixed = solver.solve(setup, ProblemSpec(condition="fixed", fixed_ankle_deg=Q0, solver=sv))
    assert free.success and fixed.success
    return {"free": cycle_summary(free).joint_work_share, "fixed": cycle_summary(fixed).joint_work_share}


def _shares(solver, setup, **kw):
    sol = solver.solve(setup, ProblemSpec(solver=SolverSpec(nodes=NODES), **kw))
    assert sol.success, sol.stats.summary()
    return sol, cycle_summary(sol).joint_work_share


def _gap(a, b) -> float:
    return max(abs(a[j] - b[j]) for j in a)


def test_unbounded_range_and_zero_stiffness_reproduce_free(solver, setup, ends):
    _, wide = _shares(solver, setup, condition="range_limited", ankle_range_deg=(-40.0, 30.0))
    _, loose = _shares(solver, setup, condition="braced", brace_stiffness_Nm_per_rad=0.0)
    assert _gap(wide, ends["free"]) < 0.005 and _gap(loose, ends["free"]) < 0.005


def test_zero_range_and_stiff_brace_reproduce_fixed(solver, setup, ends):
    zero, s0 = _shares(solver, setup, condition="range_limited", ankle_range_deg=(Q0, Q0))
    stiff, s1 = _shares(solver, setup, condition="braced", brace_stiffness_Nm_per_rad=1e5, brace_neutral_deg=Q0)
    assert _gap(s0, ends["fixed"]) < 0.005 and _gap(s1, ends["fixed"]) < 0.005
    for sol in (zero, stiff):
        assert np.abs(np.degrees(sol["q"][2]) - Q0).max() < 0.2  # held within 0.2 deg
        # the device carries the load a fixed ankle's orthosis carries, and does ~no net work
        assert np.abs(sol["orthosis_moment"]).max() > 10.0
        assert abs(external_moment_work(sol)["net_J"]) < 0.01 * cycle_summary(sol).total_positive_joint_work_J


def test_range_is_respected_and_stops_only_act_outside(solver, setup):
    sol, _ = _shares(solver, setup, condition="range_limited", ankle_range_deg=(-20.0, -10.0))
    q = np.degrees(sol["q"][2])
    assert q.min() > -20.2 and q.max() < -9.8
    inside = (q > -19.5) & (q < -10.5)
    assert np.abs(sol["orthosis_moment"][inside]).max() < 0.5  # no stop moment away from the stops
    assert cycle_summary(sol).mean_crank_power_W == pytest.approx(200.0, rel=1e-6)


def test_width_around_free_mean_and_brace_work_balance(solver, setup):
    sol, _ = _shares(solver, setup, condition="range_limited", ankle_range_width_deg=20.0)
    lo, hi = sol.spec.ankle_range_deg
    assert hi - lo == pytest.approx(20.0) and (lo + hi) / 2 == pytest.approx(sol.spec.ankle_range_reference_deg)
    br, _ = _shares(solver, setup, condition="braced", brace_stiffness_Nm_per_rad=300.0, brace_neutral_deg=Q0)
    w = external_moment_work(br)
    assert w["positive_J"] > 0.1 and w["negative_J"] < -0.1  # a spring stores and returns energy
    assert abs(w["net_J"]) < 0.05 * w["positive_J"]
    cs = cycle_summary(br)
    assert abs(cs.energy_balance_residual) < 0.01  # device work is inside the joint work that balances the crank
    np.testing.assert_allclose(br["orthosis_moment"], -300.0 * (br["q"][2] - math.radians(Q0)), atol=1e-9)
