"""Heel-drop conditions as riders do them: relative to the free pattern, a whole-cycle shift, absolute; smooth
windows; feasibility up to 10 deg; range-limit reporting; mesh and window-edge continuity of the shares."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from toolkit.analysis.limits import heel_drop_bound_active, joint_range_limits
from toolkit.analysis.power import cycle_summary
from toolkit.ocp.heel_drop import reference_profile, sole_upper_bound, window_weight
from toolkit.ocp.problem import ProblemSpec, SolverSpec

NODES = 24


# `solver` and `setup` (default rider and fit) come from tests/conftest.py (built once per session).


@pytest.fixture(scope="module")
def free(solver, setup):
    sol = solver.solve(setup, ProblemSpec(condition="free", solver=SolverSpec(nodes=NODES)))
    assert sol.success
    return sol


def _spec(**kw) -> ProblemSpec:
    return ProblemSpec(condition="heel_drop", solver=SolverSpec(nodes=NODES), **kw)


def test_window_weight_is_one_inside_zero_outside_and_continuous():
    th = np.radians(np.linspace(0, 360, 7201))
    w = window_weight(th, (20.0, 200.0), 20.0)
    deg = np.degrees(th)
    assert np.all(w[(deg >= 20) & (deg <= 200)] == 1.0)
    assert np.all(w[(deg > 220) & (deg < 360)] == 0.0)
    assert np.abs(np.diff(w)).max() < 0.01  # no jumps at 0.05 deg spacing
    assert w[np.argmin(np.abs(deg - 210))] == pytest.approx(0.5)
    # A window across TDC wraps around 360 deg.
    wrap = window_weight(np.radians([350.0, 0.0, 10.0, 100.0]), (340.0, 20.0), 10.0)
    np.testing.assert_allclose(wrap, [1, 1, 1, 0])


def test_reference_profile_interpolates_the_free_solution(free):
    spec = replace(_spec(), heel_drop_reference_deg=tuple(zip(np.degrees(free["theta"]), np.degrees(free["phi"]))))
    np.testing.assert_allclose(reference_profile(spec.heel_drop_reference_deg)(free["theta"]), free["phi"],
                               atol=1e-12)
    ub = sole_upper_bound(free["theta"], replace(spec, heel_drop_mode="shift", heel_drop_deg=5.0))
    np.testing.assert_allclose(ub, free["phi"] - math.radians(5.0), atol=1e-12)


@pytest.mark.parametrize("mode", ["relative", "shift"])
def test_drops_up_to_10_deg_are_feasible_and_hold(solver, setup, free, mode):
    sol = solver.solve(setup, _spec(heel_drop_mode=mode, heel_drop_deg=10.0), guess=None)
    assert sol.success, sol.stats.summary()
    ub = sole_upper_bound(sol["theta"], sol.spec)
    on = np.isfinite(ub)
    assert np.all(sol["phi"][on] <= ub[on] + 1e-7)
    # The reference is the free solution of the same problem (same mesh): the drop is measured from it.
    np.testing.assert_allclose(np.radians([p for _, p in sol.spec.heel_drop_reference_deg]), free["phi"], atol=1e-5)
    assert heel_drop_bound_active(sol)  # a 10 deg drop is binding somewhere
    assert cycle_summary(sol).mean_crank_power_W == pytest.approx(200.0, rel=1e-6)


def test_range_limits_are_reported_when_a_bound_is_active(solver, setup, free):
    """Push an absolute drop over 60-120 deg to its geometric limit (the ankle's dorsiflexion range): the ankle
    sits on its upper limit and the heel-drop bound is active, and both are reported."""
    probe = solver.solve(setup, _spec(heel_drop_mode="absolute", heel_drop_window_deg=(60.0, 120.0),
                                      heel_drop_deg=44.0))
    assert not probe.success and probe.stats.status == "Infeasible_Request"
    assert "limited at crank angle" in probe.stats.message and "ankle at its upper limit" in probe.stats.message
    dmax = probe.setup["largest_heel_drop_deg"]
    sol = solver.solve(setup, replace(probe.spec, heel_drop_deg=dmax - 0.2), guess=free)
    assert sol.success, sol.stats.summary()
    lim = joint_range_limits(sol)
    assert any(e["limit"] == "upper" for e in lim.get("ankle", [])), lim
    assert heel_drop_bound_active(sol)
    assert "ankle" not in joint_range_limits(free)


def test_window_edge_moves_shares_continuously(solver, setup, free):
    """Moving the window end by one node spacing changes every share by < 1 pp (smooth ramps)."""
    step = 360.0 / NODES
    shares = []
    for end in (200.0, 200.0 + step):
        sol = solver.solve(setup, _spec(heel_drop_deg=8.0, heel_drop_window_deg=(20.0, end)), guess=free)
        assert sol.success
        shares.append(cycle_summary(sol).joint_work_share)
    assert max(abs(shares[0][j] - shares[1][j]) for j in shares[0]) < 0.01


@pytest.mark.slow
def test_relative_drop_is_mesh_converged(solver, setup):
    shares = []
    for n in (40, 80):
        sol = solver.solve(setup, ProblemSpec(condition="heel_drop", heel_drop_deg=10.0, solver=SolverSpec(nodes=n)))
        assert sol.success
        shares.append(cycle_summary(sol).joint_work_share)
    assert max(abs(shares[0][j] - shares[1][j]) for j in shares[0]) < 0.003
