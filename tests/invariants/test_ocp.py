"""Tests of returned solutions: success per ankle condition, periodicity, mean power, energy balance, loop
closure, heel-drop bound, fixed ankle, mesh convergence, warm start, sealing, infeasible requests, CLI."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from toolkit.analysis.power import cycle_summary
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import make_setup
from toolkit.ocp.problem import CostSpec, ProblemSpec, SolverSpec
from toolkit.ocp.solution import SealedSolutionError
from toolkit.ocp.transcription import heel_drop_nodes

NODES = 30
PRESCRIBED = tuple((a, 20 + 12 * math.cos(math.radians(a - 290))) for a in range(0, 361, 30))
SPECS = {
    "free": ProblemSpec(condition="free", power_W=200, solver=SolverSpec(nodes=NODES)),
    "fixed": ProblemSpec(condition="fixed", power_W=200, solver=SolverSpec(nodes=NODES)),
    "heel_drop": ProblemSpec(condition="heel_drop", heel_drop_deg=5, power_W=200, solver=SolverSpec(nodes=NODES)),
    "prescribed": ProblemSpec(condition="prescribed", prescribed_sole_deg=PRESCRIBED, power_W=200,
                              solver=SolverSpec(nodes=NODES)),
}


@pytest.fixture(scope="module")
def solutions(solver, setup):
    return {k: solver.solve(setup, s) for k, s in SPECS.items()}


@pytest.mark.parametrize("cond", list(SPECS))
def test_every_condition_succeeds(solutions, cond):
    sol = solutions[cond]
    assert sol.success, sol.stats.summary()
    assert sol.stats.max_violation < 1e-6
    assert sol.stats.iterations > 0 and sol.stats.solve_time_s > 0


@pytest.mark.parametrize("cond", list(SPECS))
def test_mean_power_and_energy_balance(solutions, cond):
    sol = solutions[cond]
    cs = cycle_summary(sol)
    assert cs.mean_crank_power_W == pytest.approx(sol.spec.power_W, rel=1e-6)
    assert abs(cs.energy_balance_residual) < 0.005
    assert sum(cs.joint_work_share.values()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("cond", list(SPECS))
def test_periodicity_of_states(solutions, setup, cond):
    """Trapezoid-integrating the state derivatives from node to node, and once round the cycle, reproduces the
    states: the returned cycle is periodic (activations always; sole angle and rate when it is free)."""
    from toolkit.model.muscles import activation_rate

    sol = solutions[cond]
    N, h = sol.nodes, 2 * math.pi / sol.nodes
    nxt = np.r_[1:N, 0]
    m = setup.muscles
    adot = np.array(activation_rate(sol["excitation"], sol["activation"], m.tau_act[:, None], m.tau_deact[:, None]))
    pairs = [(sol["activation"], adot / sol.spec.omega)]
    if cond in ("free", "heel_drop"):
        pairs += [(sol["phi"], sol["dphi"]), (sol["dphi"], sol["ddphi"])]
    for series, deriv in pairs:
        steps = series[..., nxt] - series
        pred = h / 2 * (deriv + deriv[..., nxt])
        assert np.abs(steps - pred).max() < 1e-7
        assert np.abs(steps.sum(axis=-1)).max() < 1e-12  # wrap-around closes the cycle


@pytest.mark.parametrize("cond", list(SPECS))
def test_loop_closure_of_solutions(solutions, solver, setup, cond):
    sol = solutions[cond]
    res = [np.abs(np.array(solver.model.closure(t, f, setup.leg_params))).max()
           for t, f in zip(sol["theta"], sol["phi"])]
    assert max(res) < 1e-12


def test_heel_drop_bound_holds_at_every_window_node(solutions):
    """Default (relative) drop: below the same rider's free pattern by d x window weight inside the window."""
    from toolkit.ocp.heel_drop import window_weight

    sol, free = solutions["heel_drop"], solutions["free"]
    w = window_weight(sol["theta"], sol.spec.heel_drop_window_deg, sol.spec.heel_drop_ramp_deg)
    inside = w > 0
    assert inside.sum() >= 5
    ref = free["phi"]  # same mesh: the reference profile passes through the free solution's nodes
    d = math.radians(sol.spec.heel_drop_deg)
    assert np.all(sol["phi"][inside] <= ref[inside] - d * w[inside] + 1e-7)


def test_absolute_heel_drop_bound_holds_at_every_window_node(solver, setup, solutions):
    spec = replace(SPECS["heel_drop"], heel_drop_mode="absolute", heel_drop_window_deg=(60.0, 120.0))
    sol = solver.solve(setup, spec, guess=solutions["free"])
    assert sol.success
    idx = heel_drop_nodes(sol["theta"], sol.spec)
    assert len(idx) >= 5
    assert np.all(sol["phi"][idx] <= -math.radians(sol.spec.heel_drop_deg) + 1e-8)


def test_fixed_ankle_does_not_move(solutions):
    sol = solutions["fixed"]
    np.testing.assert_allclose(sol["q"][2], math.radians(sol.spec.fixed_ankle_deg), atol=1e-12)
    assert np.abs(sol["qdot"][2]).max() < 1e-9
    assert abs(cycle_summary(sol).positive_work_J["ankle"]) < 1e-9


def test_prescribed_profile_is_followed(solutions):
    sol = solutions["prescribed"]
    target = 20 + 12 * np.cos(sol["theta"] - math.radians(290))
    np.testing.assert_allclose(np.degrees(sol["phi"]), target, atol=0.2)


def test_mesh_doubling_changes_shares_by_under_one_point(solver, setup):
    coarse = solver.solve(setup, ProblemSpec(power_W=200, solver=SolverSpec(nodes=40)))
    fine = solver.solve(setup, ProblemSpec(power_W=200, solver=SolverSpec(nodes=80)), guess=coarse)
    assert coarse.success and fine.success
    a, b = cycle_summary(coarse).joint_work_share, cycle_summary(fine).joint_work_share
    for j in a:
        assert abs(a[j] - b[j]) < 0.01, (j, a[j], b[j])


def test_warm_start_from_other_mesh_and_power(solver, setup, solutions):
    # A sweep's neighbour (same mesh, next power) is the warm start that chains use. (Whether it saves
    # iterations depends on IPOPT's warm-start settings; benchmarks/ measures that, not this test.)
    spec = ProblemSpec(power_W=230, solver=SolverSpec(nodes=NODES))
    cold = solver.solve(setup, spec)
    warm = solver.solve(setup, spec, guess=solutions["free"])
    assert cold.success and warm.success
    # Local optima exist (objectives of different starts differ by ~0.3 %); the warm start must not be worse.
    assert warm.stats.objective <= cold.stats.objective * (1 + 1e-3)
    # From another mesh the guess is resampled: it must still converge to an optimum no worse than cold.
    spec40 = ProblemSpec(power_W=230, solver=SolverSpec(nodes=40))
    cold40, warm40 = solver.solve(setup, spec40), solver.solve(setup, spec40, guess=solutions["free"])
    assert cold40.success and warm40.success
    assert warm40.stats.objective <= cold40.stats.objective * (1 + 1e-3)


def test_infeasible_heel_drop_is_explained_without_solving(solver, setup):
    sol = solver.solve(setup, ProblemSpec(condition="heel_drop", heel_drop_deg=20, heel_drop_mode="absolute",
                                          heel_drop_window_deg=(60.0, 120.0), solver=SolverSpec(nodes=NODES)))
    assert not sol.success and sol.sealed
    assert sol.stats.status == "Infeasible_Request" and sol.stats.iterations == 0
    assert "largest feasible drop" in sol.stats.message
    assert 0 < sol.setup["largest_heel_drop_deg"] < 20
    with pytest.raises(SealedSolutionError, match="sealed"):
        sol["q"]


def test_failed_solve_is_sealed_with_named_violations(solver, setup):
    spec = ProblemSpec(power_W=200, solver=SolverSpec(nodes=NODES, max_iter=3))
    sol = solver.solve(setup, spec)
    assert not sol.success and sol.sealed
    assert sol.stats.iterations == 3 and "Maximum_Iterations" in sol.stats.status
    assert sol.stats.worst_constraints and isinstance(sol.stats.worst_constraints[0][0], str)
    with pytest.raises(SealedSolutionError):
        sol["activation"]
    assert sol.unseal()["activation"].shape == (9, NODES)


def test_shares_are_sensitive_to_passive_fibre_parameters(solver, model, solutions):
    """Passive forces move the joint shares (a known pitfall): halving every passive strain e0 (stiffer passive
    fibres) changes the shares by more than a percentage point, and the parameters used are recorded."""
    stiff = make_setup(model, Rider(passive_strain_scale=0.5), BikeFit())
    a = solver.solve(stiff, SPECS["free"], guess=solutions["free"])
    assert a.success
    sa, sb = cycle_summary(a).joint_work_share, cycle_summary(solutions["free"]).joint_work_share
    assert max(abs(sa[j] - sb[j]) for j in sa) > 0.01
    used = a.setup["muscles"]["VAS"]["passive_strain_at_one"]
    assert used == pytest.approx(0.5 * solutions["free"].setup["muscles"]["VAS"]["passive_strain_at_one"])


def test_cost_variants_solve(solver, setup, solutions):
    for cost in (CostSpec(exponent=3), CostSpec(kind="stress"), CostSpec(volume_weighted=True, weights={"VAS": 2.0})):
        sol = solver.solve(setup, replace(SPECS["free"], cost=cost), guess=solutions["free"])
        assert sol.success, (cost, sol.stats.summary())
        assert cycle_summary(sol).mean_crank_power_W == pytest.approx(200, rel=1e-6)


def test_knee_extensor_weight_shifts_work_away_from_knee(solver, setup, solutions):
    base = cycle_summary(solutions["free"]).joint_work_share
    spare = solver.solve(setup, replace(SPECS["free"], cost=CostSpec(weights={"VAS": 3.0, "RF": 3.0})),
                         guess=solutions["free"])
    assert spare.success
    assert cycle_summary(spare).joint_work_share["knee"] < base["knee"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "PEDALING_TOOLKIT_COMPILE": "off"}, timeout=300)


def test_cli_solve_json_contract():
    r = _cli("solve", "--condition", "fixed", "--power-W", "150", "--nodes", "20", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    keys = {"success", "status", "condition", "power_W", "cadence_rpm", "mean_crank_power_W", "joint_work_share",
            "energy_balance_residual", "iterations", "solve_time_s", "nodes"}
    assert keys <= set(out)
    assert out["success"] is True and out["condition"] == "fixed" and out["nodes"] == 20
    assert out["mean_crank_power_W"] == pytest.approx(150, rel=1e-6)
    assert sum(out["joint_work_share"].values()) == pytest.approx(1.0)


def test_cli_infeasible_and_bad_input_exit_codes():
    r = _cli("solve", "--condition", "heel_drop", "--heel-drop-deg", "25", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["success"] is False and "largest feasible drop" in out["message"]
    r = _cli("solve", "--power-W", "-5")
    assert r.returncode == 2 and "power_W" in r.stderr and "Traceback" not in r.stderr


def test_compliant_tendon_option(solver, setup, solutions):
    """Compliant tendons (implicit tendon-force states): the solve succeeds, meets the power target, keeps the
    energy balance, and at every node fibre force along the tendon equals tendon force."""
    from toolkit.model.muscles import compliant_tendon_force  # noqa: F401  (the function under test)

    spec = replace(SPECS["free"], tendon="compliant")
    sol = solver.solve(setup, spec, guess=solutions["free"])
    assert sol.success, sol.stats.summary()
    cs = cycle_summary(sol)
    assert cs.mean_crank_power_W == pytest.approx(200, rel=1e-6)
    assert abs(cs.energy_balance_residual) < 0.005
    m = setup.muscles
    cos_a = np.sqrt(1 - (m.optimal_fiber_length[:, None] * np.sin(m.pennation[:, None]) / sol["fiber_length"]) ** 2)
    fibre = m.max_force[:, None] * (sol["active"] + sol["passive"]) * cos_a
    np.testing.assert_allclose(fibre, sol["force"], atol=1e-5 * m.max_force.max())
    # the tendon stretches: fibre + tendon projection differs from the rigid-tendon fibre length
    assert not np.allclose(sol["fiber_length"], solutions["free"]["fiber_length"], rtol=1e-3)


@pytest.mark.parametrize("cond", ["free", "fixed"])
def test_inertial_load_option(solver, setup, solutions, cond):
    """Inertial crank (light flywheel so the speed visibly varies): mean power = target and cycle period = 60 /
    cadence exactly, half-cycle symmetric crank speed, energy balance pointwise and over the cycle."""
    from toolkit.analysis.power import energy_balance

    spec = replace(SPECS[cond], load="inertial", flywheel_inertia_kgm2=2.0)
    sol = solver.solve(setup, spec, guess=solutions[cond])
    assert sol.success, sol.stats.summary()
    cs = cycle_summary(sol)
    assert cs.mean_crank_power_W == pytest.approx(200, rel=1e-6)
    assert sol.node_dt.sum() == pytest.approx(60 / spec.cadence_rpm, rel=1e-9)
    w = sol["crank_speed"]
    assert np.ptp(w) > 0.02 * w.mean()  # the crank really speeds up and slows down
    np.testing.assert_allclose(w[: NODES // 2], w[NODES // 2:], rtol=1e-8)
    eb = energy_balance(sol, solver.model)
    assert eb.pointwise_relative < 1e-9
    assert abs(cs.energy_balance_residual) < 0.005


def test_multistart_tries_deterministic_starts_and_keeps_the_best(solver, setup, solutions):
    spec = replace(SPECS["free"], solver=SolverSpec(nodes=NODES, multistart=3))
    sol = solver.solve(setup, spec)
    assert sol.success and sol.stats.starts == 3
    assert sol.stats.objective <= solutions["free"].stats.objective * (1 + 1e-6)
    again = solver.solve(setup, spec)  # deterministic: the same starts give the same answer
    assert again.stats.objective == pytest.approx(sol.stats.objective, rel=1e-9)
