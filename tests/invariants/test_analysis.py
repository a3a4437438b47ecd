"""Joint and muscle power, pedal forces, energy balance and resampling on real solutions (free, fixed ankle)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.analysis import muscle_power as mp
from toolkit.analysis import pedal
from toolkit.analysis.power import (JOINTS, crank_power, cycle_summary, energy_balance, joint_power, joint_work)
from toolkit.analysis.resample import crank_angle_grid, resample_periodic, resample_solution
from toolkit.model.muscles import MUSCLE_NAMES
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.solution import Solution, SolverStats

NODES = 20


@pytest.fixture(scope="module")
def sols(solver, setup):
    out = {c: solver.solve(setup, ProblemSpec(condition=c, power_W=200, solver=SolverSpec(nodes=NODES)))
           for c in ("free", "fixed")}
    for c, s in out.items():
        assert s.success, f"{c}: {s.stats.summary()}"
    return out


CONDS = ("free", "fixed")


# ------------------------------------------------------------------------------------------- joint power


@pytest.mark.parametrize("c", CONDS)
def test_power_balance_pointwise_and_residual_is_quadrature(sols, model, c):
    sol = sols[c]
    eb = energy_balance(sol, model)
    # physics: sum_j M_j qdot_j = crank power + dE/dt at every node, to solver tolerance
    assert eb.pointwise_relative < 1e-6
    # the whole per-cycle residual is the node quadrature of dE/dt (whose exact integral is 0)
    expected = eb.leg_energy_rate_mean_W * sol.period_s / eb.crank_work_J
    assert eb.residual == pytest.approx(expected, abs=1e-7)
    assert cycle_summary(sol).energy_balance_residual == pytest.approx(eb.residual, abs=1e-12)


def test_joint_work_equals_crank_work_free(sols):
    cs = cycle_summary(sols["free"])
    assert abs(cs.energy_balance_residual) < 5e-3
    assert sum(joint_work(sols["free"]).values()) == pytest.approx(cs.crank_work_J, rel=5e-3)


def test_energy_residual_shrinks_with_mesh_fixed(sols, solver, setup):
    r20 = cycle_summary(sols["fixed"]).energy_balance_residual
    fine = solver.solve(setup, ProblemSpec(condition="fixed", power_W=200, solver=SolverSpec(nodes=40)))
    assert fine.success
    r40 = cycle_summary(fine).energy_balance_residual
    assert abs(r40) < 5e-3
    assert abs(r40) < abs(r20)


@pytest.mark.parametrize("c", CONDS)
def test_shares_and_work_split(sols, c):
    sol = sols[c]
    cs = cycle_summary(sol)
    assert sum(cs.joint_work_share.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(0 <= v <= 1 for v in cs.joint_work_share.values())
    for j in JOINTS:
        assert cs.positive_work_J[j] >= 0 >= cs.negative_work_J[j]
        assert cs.extension_work_J[j] + cs.flexion_work_J[j] == pytest.approx(cs.positive_work_J[j], abs=1e-9)
        assert cs.net_work_J[j] == pytest.approx(cs.positive_work_J[j] + cs.negative_work_J[j], abs=1e-9)
    assert cs.mean_crank_power_W == pytest.approx(200.0, rel=1e-6)
    assert cs.total_positive_joint_work_J == pytest.approx(sum(cs.positive_work_J.values()))
    assert math.isfinite(cs.objective)
    assert set(cs.to_dict()) >= {"joint_work_share", "energy_balance_residual", "muscle_positive_work_J"}


def test_fixed_ankle_does_no_work(sols):
    cs = cycle_summary(sols["fixed"])
    assert abs(cs.positive_work_J["ankle"]) < 1e-6
    assert cs.joint_work_share["ankle"] < 1e-6


# ------------------------------------------------------------------------------------------- pedal


@pytest.mark.parametrize("c", CONDS)
def test_tangential_force_times_crank_length_is_crank_torque(sols, c):
    sol = sols[c]
    L = pedal.crank_length(sol)
    assert L == pytest.approx(sol.setup["fit"]["crank_length_m"])
    tau = sol["crank_torque"]
    assert np.allclose(pedal.tangential_force(sol) * L, tau, atol=1e-6 * np.abs(tau).max())


@pytest.mark.parametrize("c", CONDS)
def test_both_legs_torque_gives_power_target(sols, c):
    sol = sols[c]
    both = pedal.both_legs_crank_torque(sol)
    assert both.mean() * sol.spec.omega == pytest.approx(sol.spec.power_W, rel=1e-6)
    n = sol.nodes
    assert np.allclose(both, np.roll(both, n // 2))  # two identical legs: period of half a cycle
    assert np.allclose(both[n // 2], sol["crank_torque"][n // 2] + sol["crank_torque"][0])
    assert 2 * crank_power(sol).mean() == pytest.approx(sol.spec.power_W, rel=1e-6)


@pytest.mark.parametrize("c", CONDS)
def test_index_of_effectiveness_and_summary(sols, c):
    sol = sols[c]
    ie = pedal.index_of_effectiveness(sol)
    assert -1 <= ie <= 1 and ie > 0
    ps = pedal.pedal_summary(sol)
    assert ps.index_of_effectiveness == ie
    assert ps.peak_tangential_force_N >= ps.min_tangential_force_N
    assert ps.mean_both_legs_torque_Nm * sol.spec.omega == pytest.approx(200.0, rel=1e-6)
    assert np.all(pedal.resultant_force(sol) >= np.abs(pedal.tangential_force(sol)) - 1e-9)
    assert np.allclose(pedal.tangential_force(sol) ** 2 + pedal.radial_force(sol) ** 2,
                       pedal.resultant_force(sol) ** 2)


@pytest.mark.parametrize("c", ["free", "fixed"])
def test_pedal_force_sources_add_up(sols, model, c):
    """The joint-moment part and the weight-and-inertia part of the pedal force add up to the pedal force; with
    the leg at rest (zero velocity) the second would be the leg's weight: here it pulls the pedal down on average
    (cycle mean vertical component < 0, i.e. the leg's weight acts on the pedal)."""
    from toolkit.analysis.pedal import pedal_force_sources

    sol = sols[c]
    src = pedal_force_sources(sol, model)
    np.testing.assert_allclose(src.joint_moments + src.inertia_gravity, sol["pedal_force"], atol=1e-6 * 1000)
    assert src.inertia_gravity[1].mean() < 0
    up = src.upstroke_negative_impulse_Ns
    assert up["total"] <= 0 and up["inertia_gravity"] <= 0


def _synthetic(force_xy, theta, crank=0.17):
    spec = ProblemSpec(power_W=100)
    stats = SolverStats(True, "Solve_Succeeded", 1, 0.0, 0.0, 0.0, 0.0)
    n = len(theta)
    arrays = {"theta": theta, "pedal_force": np.asarray(force_xy, dtype=float), "crank_torque": np.zeros(n)}
    return Solution(spec, stats, {"fit": {"crank_length_m": crank}}, arrays)


def test_pedal_force_signs_synthetic():
    theta = np.radians([0.0, 90.0, 180.0, 270.0])
    down = np.array([[0.0] * 4, [-100.0] * 4])  # pushing straight down
    s = _synthetic(down, theta)
    # drives the crank on the downstroke (90 deg), brakes it on the upstroke (270 deg)
    assert np.allclose(pedal.tangential_force(s), [0, 100, 0, -100], atol=1e-9)
    # outward at BDC (pushing the crank arm away from the bottom bracket), inward at TDC
    assert np.allclose(pedal.radial_force(s), [-100, 0, 100, 0], atol=1e-9)
    assert pedal.crank_length(s) == 0.17
    # a force always along the direction of travel: IE = 1
    tang = np.vstack([np.cos(theta), -np.sin(theta)]) * 50
    assert pedal.index_of_effectiveness(_synthetic(tang, theta)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        pedal.half_cycle_shift(np.zeros(5))


# ------------------------------------------------------------------------------------------- muscle power


@pytest.mark.parametrize("c", CONDS)
def test_muscle_power_adds_up_to_joint_power(sols, model, c):
    sol = sols[c]
    P_fibre = mp.fibre_power(sol)
    passive = np.array(model.passive.map(sol.nodes)(sol["q"], sol["qdot"]))
    # rigid tendon: fibre power of all muscles + passive joint-moment power = joint power (the orthosis of a
    # fixed ankle does no work because the ankle does not move)
    total = P_fibre.sum(axis=0) + (passive * sol["qdot"]).sum(axis=0)
    assert np.allclose(total, joint_power(sol).sum(axis=0), atol=1e-6 * np.abs(total).max())
    act, pas = mp.fibre_power_parts(sol)
    assert np.allclose(act + pas, P_fibre)


@pytest.mark.parametrize("c", CONDS)
def test_pennation_from_provenance(sols, c):
    sol = sols[c]
    cos_a = mp.cos_pennation(sol)
    assert np.all((cos_a > 0) & (cos_a <= 1))
    lts = np.array([sol.setup["muscles"][m]["tendon_slack_length_m"] for m in MUSCLE_NAMES])[:, None]
    ok = sol["mtu_length"] > lts  # fibre line along the tendon
    assert np.allclose((sol["force"] / cos_a)[ok], mp.fibre_force(sol)[ok], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("c", CONDS)
def test_muscle_power_sign(sols, c):
    sol = sols[c]
    i = MUSCLE_NAMES.index("VAS")
    P = mp.fibre_power(sol)[i]
    v = sol["fiber_velocity"][i]
    # concentric (shortening, v < 0) with tension -> positive power, eccentric -> negative
    assert np.all(P[v < 0] >= -1e-9) and np.all(P[v > 0] <= 1e-9)
    # the vasti shorten and do work in the downstroke while the knee extends
    k = int(np.argmin(np.abs(np.degrees(sol["theta"]) - 90)))
    assert sol["qdot"][1, k] < 0 and v[k] < 0 and P[k] > 0
    w = mp.muscle_work(sol)
    assert w.positive_J["VAS"] > -w.negative_J["VAS"] > 0
    assert all(w.positive_J[m] >= 0 >= w.negative_J[m] for m in MUSCLE_NAMES)
    assert w.total_positive_J == pytest.approx(sum(w.positive_J.values()))
    # net fibre work of all muscles = net work of the muscle moments (positive: muscles drive the crank)
    assert sum(w.net_J.values()) > 0


# ------------------------------------------------------------------------------------------- resampling


def test_crank_angle_grid():
    g = crank_angle_grid(1.0)
    assert len(g) == 361 and g[0] == 0 and g[-1] == 360
    assert np.allclose(crank_angle_grid(points=73), np.arange(0, 361, 5))
    with pytest.raises(ValueError):
        crank_angle_grid(7.0)


@pytest.mark.parametrize("method", ["spline", "linear", "fourier"])
def test_resampling_exact_at_nodes_and_periodic(sols, method):
    sol = sols["free"]
    nodes_deg = np.degrees(sol["theta"])
    for name in ("q", "activation", "crank_torque", "pedal_force"):
        y = sol[name]
        at_nodes = resample_periodic(sol["theta"], y, nodes_deg, method)
        assert np.allclose(at_nodes, y, atol=1e-9 * max(1.0, np.abs(y).max()))
        g = resample_periodic(sol["theta"], y, crank_angle_grid(1.0), method)
        assert g.shape == y.shape[:-1] + (361,)
        assert np.allclose(g[..., 0], g[..., -1])  # closes the cycle
        shifted = resample_periodic(sol["theta"], y, crank_angle_grid(1.0) + 720.0, method)
        assert np.allclose(shifted, g)


def test_resampling_accuracy_on_known_functions():
    theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    deg = crank_angle_grid(1.0)
    x = np.radians(deg)
    y = np.vstack([np.sin(3 * theta), np.cos(theta) + 0.5 * np.sin(2 * theta)])
    exact = np.vstack([np.sin(3 * x), np.cos(x) + 0.5 * np.sin(2 * x)])
    assert np.allclose(resample_periodic(theta, y, deg, "fourier"), exact, atol=1e-12)
    assert np.abs(resample_periodic(theta, y, deg, "spline") - exact).max() < 5e-3
    assert np.abs(resample_periodic(theta, y, deg, "linear") - exact).max() < 0.1


def test_resample_solution(sols):
    sol = sols["fixed"]
    r = resample_solution(sol, crank_angle_deg=crank_angle_grid(points=73))
    assert set(r) == (set(sol.arrays) - {"theta"}) | {"crank_angle_deg"}
    assert r["q"].shape == (3, 73) and r["crank_torque"].shape == (73,)


def test_regime_switch_flags_only_outlying_jumps():
    from toolkit.analysis.summary import regime_switches

    smooth = [{"hip": 0.30 + 0.005 * i, "knee": 0.50 - 0.005 * i, "ankle": 0.20} for i in range(6)]
    assert regime_switches(smooth) == [""] * 6
    jump = [dict(s) for s in smooth]
    jump[3] = {"hip": 0.40, "knee": 0.40, "ankle": 0.20}  # +9.0 pp at point 3, back down at point 4
    flags = regime_switches(jump)
    assert "hip +9.0 pp" in flags[3] and "knee" in flags[3] and flags[4] and not any(flags[:3])
